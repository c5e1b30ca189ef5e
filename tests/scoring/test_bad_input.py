"""Bad logs get a warning or an error naming the file; never a silent score."""

import json

import pytest

from scoring import pipeline
from scoring.errors import ScoringError
from tests.scoring import synthetic

FULL = {'alpha': 1, 'beta': 1, 'alpha_tweak': 1}


def _score(tmp_path, **options):
  targets = synthetic.write_targets(tmp_path)
  return pipeline.score_experiments(
    str(tmp_path / 'exp'), pipeline.ScoreOptions(targets=targets, **options))


def _kinds(result):
  return {p.kind: p for p in result.problems.items}


def test_truncated_csv_drops_last_row_and_names_file(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 's', FULL)
  path = synthetic.write_trial(exp, 's', 0, 'alpha', 2,
                               [0.1, 0.95, 0.95], [10, 15, 30])
  path.write_text(path.read_text().rstrip('\n')[:-8])  # cut mid-row.
  # Both trials reach it at eval 1: keep trial 2, whatever the listing.
  result = _score(tmp_path, tie_break='last-trial')
  problem = _kinds(result)['truncated csv']
  assert problem.path == str(path)
  assert result.times['s']['alpha'] == 15.0  # the complete rows still count


def test_empty_csv_is_reported_and_trial_ignored(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 's', FULL)
  path = synthetic.write_trial(exp, 's', 0, 'beta', 2, [0.4])
  path.write_text('')
  result = _score(tmp_path)
  assert _kinds(result)['empty csv'].path == str(path)
  assert result.times['s']['beta'] == 20.0


def test_nan_metrics_warn_and_never_meet_target(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 's', {'beta': 1, 'alpha_tweak': 1})
  path = synthetic.write_trial(exp, 's', 0, 'alpha', 1,
                               [float('nan'), float('nan')])
  result = _score(tmp_path)
  assert _kinds(result)['nan metric'].path == str(path)
  assert result.times['s']['alpha'] == float('inf')


def test_missing_workload_warns_and_strict_raises(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'a', FULL)
  synthetic.write_submission(exp, 'b', {'alpha': 1, 'alpha_tweak': 1})
  result = _score(tmp_path)
  problem = _kinds(result)['workload count']
  assert problem.path.endswith('/b') and 'beta' in problem.detail
  with pytest.raises(ScoringError, match='beta'):
    _score(tmp_path, strict=True)


def test_unknown_workload_suggests_closest_name(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 's', FULL)
  synthetic.write_trial(exp, 's', 0, 'alpah', 1, [0.95])
  problem = _kinds(_score(tmp_path))['unknown workload']
  assert 'alpah_jax' in problem.path and "'alpha'" in problem.detail


def test_inconsistent_trial_counts_warn_and_strict_raises(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 's', FULL, studies=2, trials=3)
  for workload in FULL:
    (exp / 's' / 'study_1' / f'{workload}_jax' / 'trial_3' /
     'eval_measurements.csv').unlink()
  assert 'trial count' in _kinds(_score(tmp_path))
  with pytest.raises(ScoringError, match='trial'):
    _score(tmp_path, strict=True)
  with pytest.raises(ScoringError, match='studies'):
    _score(tmp_path, strict=True, expected_studies=5, expected_trials=2)


def test_mixed_benchmark_versions_are_an_error(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'a', FULL)
  synthetic.write_submission(exp, 'b', FULL)
  for submission, version in (('a', '0.5'), ('b', '0.6')):
    trial = exp / submission / 'study_0' / 'alpha_jax' / 'trial_1'
    (trial / 'meta_data_0.json').write_text(
      json.dumps({'benchmark_version': version}))
  with pytest.raises(ScoringError, match='several benchmark versions'):
    _score(tmp_path)


def test_timestamped_sibling_directories_merge(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 's', {'alpha': 1, 'beta': 1})
  synthetic.write_trial(exp, 's-2024-01-02-03-04-05', 0, 'alpha_tweak', 1,
                        [0.9])
  result = _score(tmp_path)
  assert list(result.times) == ['s']
  assert result.times['s']['alpha_tweak'] == 10.0


def test_missing_directory_and_bad_targets_are_clear_errors(tmp_path):
  with pytest.raises(ScoringError, match='not a directory'):
    pipeline.score_experiments(str(tmp_path / 'nope'),
                               pipeline.ScoreOptions(targets='algoperf_v05'))
  bad = tmp_path / 'bad.json'
  bad.write_text('{"benchmark_version": "1"')
  with pytest.raises(ScoringError, match='bad.json'):
    pipeline.score_experiments(str(tmp_path),
                               pipeline.ScoreOptions(targets=str(bad)))
  targets = dict(synthetic.TARGETS, workloads={
    **synthetic.TARGETS['workloads'],
    'beta': {'target_metric_name': 'fancy', 'validation_target_value': 1}})
  path = synthetic.write_targets(tmp_path, targets)
  with pytest.raises(ScoringError, match='metric_direction'):
    pipeline.score_experiments(str(tmp_path),
                               pipeline.ScoreOptions(targets=path))


def test_ruleset_comes_from_flags_and_mixing_is_an_error(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'a', FULL)
  synthetic.write_submission(exp, 'b', FULL)
  for submission in ('a', 'b'):
    trial = exp / submission / 'study_0' / 'beta_jax' / 'trial_1'
    (trial / 'flags_0.json').write_text(json.dumps({'ruleset': 'self'}))
  assert _score(tmp_path).ruleset == 'self'
  mismatch = _score(tmp_path, ruleset='external')
  assert mismatch.ruleset == 'external'
  assert 'ruleset mismatch' in _kinds(mismatch)
  trial = exp / 'b' / 'study_0' / 'beta_jax' / 'trial_1'
  (trial / 'flags_0.json').write_text(
    json.dumps({'tuning_ruleset': 'external'}))
  with pytest.raises(ScoringError, match='mix tuning rulesets'):
    _score(tmp_path)


def test_pbt_logs_are_never_scored_with_or_as_external_tuning(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'a', FULL)
  synthetic.write_submission(exp, 'b', FULL)
  for submission, ruleset in (('a', 'pbt'), ('b', 'external')):
    trial = exp / submission / 'study_0' / 'beta_jax' / 'trial_1'
    (trial / 'flags_0.json').write_text(json.dumps({'ruleset': ruleset}))
  with pytest.raises(ScoringError, match='mix tuning rulesets'):
    _score(tmp_path)
  # PBT alone scores, under its own name; never relabelled external.
  trial = exp / 'b' / 'study_0' / 'beta_jax' / 'trial_1'
  (trial / 'flags_0.json').write_text(json.dumps({'ruleset': 'pbt'}))
  assert _score(tmp_path).ruleset == 'pbt'
  with pytest.raises(ScoringError, match='pbt'):
    _score(tmp_path, ruleset='external')
  (trial / 'flags_0.json').write_text(json.dumps({'ruleset': 'external'}))
  (exp / 'a' / 'study_0' / 'beta_jax' / 'trial_1' / 'flags_0.json'
   ).write_text(json.dumps({'ruleset': 'external'}))
  with pytest.raises(ScoringError, match='pbt'):
    _score(tmp_path, ruleset='pbt')
