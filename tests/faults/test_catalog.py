"""The campaign is big enough and docs/reliability.md lists all of it."""

from tests.conftest import REPO
from tests.faults import catalog


def test_at_least_150_distinct_cases_each_on_the_reliability_page():
  rows = catalog.rows()
  names = [case for _, case, _ in rows]
  assert len(set(names)) == len(names) >= 150
  page = (REPO / 'docs' / 'reliability.md').read_text()
  missing = [n for n in names if f'`{n}`' not in page]
  assert not missing, f'run python -m tests.faults.catalog; missing {missing}'
