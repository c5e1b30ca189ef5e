"""Prepared copies of the miniature raw fixtures, one per session."""

import pathlib
import sys

import pytest

RAW = pathlib.Path(__file__).resolve().parents[2] / 'fixtures' / 'algoperf_raw'


def fixture_writer():
  """tests/fixtures/algoperf_raw/make_fixtures.py as a module."""
  sys.path.insert(0, str(RAW))
  try:
    import make_fixtures
  finally:
    sys.path.remove(str(RAW))
  return make_fixtures


@pytest.fixture(scope='session')
def prepared_dir(tmp_path_factory):
  """A data dir where each test prepares (or reuses) fixture datasets."""
  return tmp_path_factory.mktemp('algoperf_data')


@pytest.fixture(scope='session')
def prepare(prepared_dir):
  """prepare(module) -> the data dir holding module.DATASET, prepared from
  the committed fixture folder of that dataset once per session."""
  done = set()

  def run(module, source_name):
    if module.DATASET.name not in done:
      module.DATASET.prepare(RAW / source_name, prepared_dir)
      done.add(module.DATASET.name)
    return prepared_dir

  return run
