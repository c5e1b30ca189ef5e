"""AlgoPerf's official scoring code, run on our outputs, gives our scores.

Needs a checkout (or the git directory) of mlcommons/submissions_algorithms
holding the pinned commit, in $ALGOPERF_OFFICIAL_SCORING, and an
interpreter with its dependencies in $ALGOPERF_OFFICIAL_PYTHON (default:
this one); skipped otherwise. The rest checks the pin without it.
"""

import os
import subprocess
import sys

import pytest

from algoperf import targets_export
from algoperf.targets_export import ExportRequest
from scoring import official
from scoring.errors import ScoringError
from scripts import official_scoring
from tests.conftest import CPU_0_3_LEADERBOARD

# cpu-0.3's page: its 5 algorithms and census_dlrm's unrun variant.
LEADERBOARD = CPU_0_3_LEADERBOARD
CHECKOUT = os.environ.get('ALGOPERF_OFFICIAL_SCORING')
PYTHON = os.environ.get('ALGOPERF_OFFICIAL_PYTHON', sys.executable)


def _has_dependencies(python: str) -> bool:
  done = subprocess.run([python, '-c', 'import absl, matplotlib, numpy, '
                         'pandas, tabulate'], capture_output=True, check=False)
  return done.returncode == 0


def test_blob_ids_are_gits():
  assert official.blob_id(b'') == official.OFFICIAL_FILES[
    'scoring/__init__.py']
  assert official.blob_id(b'hello\n') == (
    'ce013625030ba8dba906f756967f9e9ca394464a')


def test_a_tree_other_than_the_pinned_commit_is_refused(tmp_path):
  for name in official.OFFICIAL_FILES:
    (tmp_path / name).parent.mkdir(exist_ok=True)
    (tmp_path / name).write_text('')
  with pytest.raises(ScoringError, match='differ from the official commit'):
    with official.locate(str(tmp_path)):
      pass
  with pytest.raises(ScoringError, match='neither'):
    with official.locate(str(tmp_path / 'scoring')):
      pass


@pytest.mark.skipif(
  not CHECKOUT or not _has_dependencies(PYTHON),
  reason='set ALGOPERF_OFFICIAL_SCORING to a submissions_algorithms '
  'checkout and ALGOPERF_OFFICIAL_PYTHON to a python with its dependencies')
def test_official_scores_of_the_committed_leaderboard_are_ours(tmp_path,
                                                               capsys):
  targets = tmp_path / 'targets.json'
  targets_export.write(targets_export.export(ExportRequest(
    source=str(LEADERBOARD / 'workload_targets.json'),
    logs=str(LEADERBOARD / 'logs'))), str(targets))
  assert official_scoring.main([
    str(LEADERBOARD / 'logs'), '--workload-targets', str(targets),
    '--official', CHECKOUT, '--python', PYTHON,
    '--output-dir', str(tmp_path / 'official')]) == 0
  printed = capsys.readouterr().out
  assert '0 of 5 scores differ' in printed
  assert (tmp_path / 'official' / 'scores.csv').exists()
