"""Scoring without --workload-targets / --ruleset: what is chosen, and said."""

import json
import shutil

import pytest

from algoperf import cli
from algoperf import registry
from scoring import default_targets
from scoring import pipeline
from scoring.errors import ScoringError
from tests.conftest import committed_leaderboards
from tests.scoring import synthetic

VERSION = registry.suite().benchmark_version


def _record(trial_csv, target_value, metric='accuracy', direction='max',
            version=VERSION):
  """What our runner writes beside eval_measurements.csv."""
  trial = trial_csv.parent
  (trial / 'status.json').write_text(json.dumps({
    'target_metric': f'validation/{metric}', 'target_value': target_value,
    'metric_direction': direction}))
  (trial / 'meta_data_0.json').write_text(json.dumps(
    {'benchmark_version': version}))


def _our_trials(exp, mnist_target=0.95):
  """mnist (a base), mnist_relu (a variant) and census_dlrm, as if run
  here; the recorded mnist target is not the suite's."""
  for name, curve in (('a', [0.1, 0.96]), ('b', [0.1, 0.94])):
    _record(synthetic.write_trial(exp, name, 0, 'mnist', 1, curve),
            mnist_target)
    _record(synthetic.write_trial(exp, name, 0, 'mnist_relu', 1, curve),
            0.9)
    census = synthetic.write_trial(exp, name, 0, 'census_dlrm', 1,
                                   [0.5, 0.3])
    _record(census, 0.31, metric='loss', direction='min')


def _first_line(capsys) -> str:
  return capsys.readouterr().out.splitlines()[0]


def test_targets_recorded_with_the_trials(tmp_path, capsys):
  exp = tmp_path / 'exp'
  _our_trials(exp)
  config = default_targets.recorded_targets(str(exp))
  assert config.base_workloads == ('mnist', 'census_dlrm')  # Suite order.
  assert config.held_out_workloads == ()
  assert config.workloads['mnist'].validation_target == 0.95  # Not 0.9435.
  assert config.workloads['mnist_relu'].base_name == 'mnist'
  assert config.workloads['census_dlrm'].direction == 'min'
  assert config.workloads['mnist'].step_hint == registry.facts(
    'mnist').step_hint
  assert cli.main(['score', str(exp), '--output-dir', str(tmp_path / 'o'),
                   '--no-plots']) == 0
  assert _first_line(capsys) == ('Targets: recorded with the trials (their '
                                 'status.json; --workload-targets to use '
                                 'others)')
  result = pipeline.score_experiments(str(exp), pipeline.ScoreOptions())
  assert result.times['b']['mnist'] == float('inf')  # 0.94 < 0.95.
  assert result.rules == 'v0.6'


def test_trials_that_ran_against_different_targets_are_refused(tmp_path):
  exp = tmp_path / 'exp'
  _our_trials(exp)
  _record(synthetic.write_trial(exp, 'a', 1, 'mnist', 1, [0.9]), 0.9435)
  with pytest.raises(ScoringError, match='ran against different targets'):
    pipeline.score_experiments(str(exp), pipeline.ScoreOptions())


def test_a_trial_without_records_falls_back_to_a_builtin(tmp_path, capsys):
  exp = tmp_path / 'exp'
  _our_trials(exp)
  (exp / 'a' / 'study_0' / 'mnist_jax' / 'trial_1' / 'status.json').unlink()
  assert default_targets.recorded_targets(str(exp)) is None
  # The builtin suite scores its own bases: one of them, unrecorded too.
  synthetic.write_trial(exp, 'c', 0, registry.suite().base_workloads[0], 1,
                        [0.1, 0.2])
  assert cli.main(['score', str(exp), '--output-dir', str(tmp_path / 'o'),
                   '--no-plots']) == 0
  assert _first_line(capsys).startswith('Targets: builtin cpu_suite (none ')


def test_a_targets_file_beside_the_logs_comes_first(tmp_path, capsys):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'a', {'alpha': 1, 'beta': 1,
                                        'alpha_tweak': 1})
  beside = tmp_path / default_targets.BESIDE_FILE
  shutil.copyfile(synthetic.write_targets(tmp_path), beside)
  for root in (exp, exp / 'a'):  # The logs, or one submission of them.
    assert cli.main(['score', str(root), '--output-dir', str(tmp_path / 'o'),
                     '--no-plots']) == 0
    assert _first_line(capsys) == (f'Targets: {beside} (beside the logs; '
                                   '--workload-targets to use others)')
  result = pipeline.score_experiments(str(exp), pipeline.ScoreOptions())
  assert result.rules == 'v0.5'  # The file lists a held-out variant.
  named = str(tmp_path / 'targets.json')
  assert cli.main(['score', str(exp), '--workload-targets', named,
                   '--output-dir', str(tmp_path / 'o'), '--no-plots']) == 0
  assert _first_line(capsys) == f'Targets: {named} (--workload-targets)'


def test_a_targets_file_inside_the_logs_is_read_too(tmp_path, capsys):
  exp = tmp_path / 'exp'  # As earlier versions packed a leaderboard.
  synthetic.write_submission(exp, 'a', {'alpha': 1, 'beta': 1,
                                        'alpha_tweak': 1})
  inside = exp / default_targets.BESIDE_FILE
  shutil.copyfile(synthetic.write_targets(tmp_path), inside)
  assert cli.main(['score', str(exp), '--output-dir', str(tmp_path / 'o'),
                   '--no-plots']) == 0
  assert _first_line(capsys).startswith(f'Targets: {inside} (in the logs, ')


@pytest.mark.parametrize('folder, expected', [
  ('self_tuning', 'self'), ('external_tuning', 'external'), ('logs', None)])
def test_ruleset_from_the_folder_name_without_flags(tmp_path, folder,
                                                    expected):
  exp = tmp_path / folder
  synthetic.write_submission(exp, 'a', {'alpha': 1, 'beta': 1})
  targets = synthetic.write_targets(tmp_path)
  for root in (exp, exp / 'a'):
    result = pipeline.score_experiments(
      str(root), pipeline.ScoreOptions(targets=targets))
    assert result.ruleset == (expected or 'external')
    assert (folder in result.ruleset_how) == bool(expected)


@pytest.mark.parametrize('board', committed_leaderboards(),
                         ids=lambda board: board.name)
def test_the_committed_leaderboard_scores_as_its_page_by_default(
    board, tmp_path, capsys):
  assert cli.main(['score', str(board / 'logs'), '--output-dir',
                   str(tmp_path), '--no-plots']) == 0
  assert _first_line(capsys).startswith(
    f'Targets: {board / "workload_targets.json"} (beside the logs;')
  for name in ('scores.csv', 'time_to_targets.csv'):
    assert (tmp_path / name).read_text() == (board / 'time' / name).read_text()
