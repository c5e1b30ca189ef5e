"""Our outputs under the traversal rules of AlgoPerf's scoring code.

``scoring.official_layout`` restates those rules; the first test pins each
to what the official code (at ``OFFICIAL_COMMIT``) was seen to do on the
same directories (tests/scoring/test_official_scoring.py runs the official
code itself, when a checkout is given). The others hold our outputs to
them: a fresh `algoperf study` directory, the committed leaderboard logs,
each with a targets file from `algoperf targets export`.
"""

import json
import pathlib

import pytest

from algoperf import records
from algoperf import study
from algoperf import study_driver
from algoperf import targets_export
from algoperf.targets_export import ExportRequest
from scoring import official_layout
from scoring import pipeline
from tests.conftest import ALGOPERF_STYLE
from tests.conftest import CPU_0_3_LEADERBOARD

# cpu-0.3's page: its 5 algorithms and census_dlrm's unrun variant.
LEADERBOARD = CPU_0_3_LEADERBOARD
HEADER = 'accumulated_submission_time,global_step,score,validation/accuracy'
TARGETS = {
  'benchmark_version': 't', 'base_workloads': ['mnist'],
  'held_out_workloads': [],
  'workloads': {name: {'target_metric_name': 'accuracy',
                       'validation_target_value': 0.9, 'step_hint': 10}
                for name in ('mnist', 'mnist_relu')}}


def _trial(path: pathlib.Path, text=f'{HEADER}\n1,10,1,0.5\n2,20,2,0.95\n'):
  path.mkdir(parents=True)
  (path / 'eval_measurements.csv').write_text(text)


def _two_submissions(logs: pathlib.Path):
  for submission in ('a', 'b'):
    for study_dir in ('study_0', 'study_1'):
      _trial(logs / submission / study_dir / 'mnist_jax' / 'trial_1')


def _file(path: pathlib.Path, text='{}'):
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(text)


# Each case was run through the official score_submissions.py (with
# --compute_performance_profiles): 'ok' and 'differs' ran to the end,
# 'raises' ended in the error the finding names.
CASES = {
  'harness directory with a plan and a lock file': (lambda logs: (
    _file(logs / 'a' / '.algoperf' / 'study.json'),
    _file(logs / 'a' / '.algoperf' / 'lock')), 'ok'),
  'harness directory with a lock directory': (lambda logs: (
    (logs / 'a' / '.algoperf' / 'lock').mkdir(parents=True)), 'ok'),
  'trial without eval_measurements.csv': (lambda logs: (
    (logs / 'a' / 'study_0' / 'mnist_jax' / 'trial_9').mkdir()), 'ok'),
  'file at the root of the logs': (lambda logs: (
    _file(logs / 'leaderboard_run.json')), 'NotADirectoryError'),
  'file in a submission': (lambda logs: (
    _file(logs / 'a' / 'study.json')), 'NotADirectoryError'),
  'hidden directory at the root of the logs': (lambda logs: (
    (logs / '.algoperf' / 'x').mkdir(parents=True)), 'KeyError'),
  'submission without trials': (lambda logs: (
    (logs / 'c' / '.algoperf').mkdir(parents=True)), 'KeyError'),
  'eval_measurements.csv with a header only': (lambda logs: _trial(
    logs / 'a' / 'study_0' / 'mnist_jax' / 'trial_2', HEADER + '\n'),
    'ValueError'),
  'empty eval_measurements.csv': (lambda logs: _trial(
    logs / 'a' / 'study_0' / 'mnist_jax' / 'trial_2', '\n'),
    'EmptyDataError'),
  'workload without a target': (lambda logs: _trial(
    logs / 'a' / 'study_0' / 'mnist_deep_jax' / 'trial_1'), 'KeyError'),
  'variant logged without a held-out list': (lambda logs: [_trial(
    logs / 'a' / f'study_{k}' / 'mnist_relu_jax' / 'trial_1')
    for k in (0, 1)], 'differs'),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_rules_agree_with_what_the_official_code_did(tmp_path, case):
  logs = tmp_path / 'logs'
  _two_submissions(logs)
  make, outcome = CASES[case]
  make(logs)
  findings = official_layout.check(str(logs), TARGETS)
  fatal = [f for f in findings if f.fatal]
  if outcome == 'ok':
    assert findings == []
  elif outcome == 'differs':
    assert findings and not fatal
  else:
    assert fatal and all(outcome in f.problem for f in fatal), findings


def test_targets_with_our_keys_or_unlisted_entries_are_refused():
  ours = json.loads(json.dumps(TARGETS))
  ours['workloads']['mnist']['metric_direction'] = 'max'
  ours['held_out_workloads'] = ['mnist_gelu']
  problems = [f.problem for f in official_layout._check_targets(ours)]
  assert len(problems) == 2
  assert 'TypeError' in problems[0] and 'ValueError' in problems[1]


def test_timestamped_reruns_are_gathered_in_listing_order(tmp_path):
  logs = tmp_path / 'logs'
  _two_submissions(logs)
  _trial(logs / 'a-2024-01-02-03-04-05' / 'study_0' / 'mnist_jax' / 'trial_1')
  paths = official_layout.submission_paths(str(logs), 'a')
  assert sorted(paths) == [str(logs / 'a'),
                           str(logs / 'a-2024-01-02-03-04-05')]
  [finding] = official_layout.check(str(logs), TARGETS)
  assert not finding.fatal and 'of its own' in finding.problem


# End to end (real trials, 20-40 s on 2 cores): in the slow set, to keep
# CI's fast suite within its time (docs/design.md §13).
@pytest.mark.slow
def test_a_fresh_study_directory_reads(tmp_path):
  experiment_dir = tmp_path / 'experiments'
  for name in ('first', 'second'):
    study_driver.run_study(study.StudySpec(
      submission=str(ALGOPERF_STYLE), workloads=('fashion_mlp',),
      experiment_dir=str(experiment_dir), name=name, ruleset='self',
      num_studies=2, max_steps=2, synthetic_data=64,
      checkpoint_every_sec=None), backend='local', progress=False)
  targets = targets_export.export(ExportRequest(
    workloads=('fashion_mlp',), logs=str(experiment_dir)))
  assert official_layout.check(str(experiment_dir), targets) == []
  ours = pipeline.score_experiments(str(experiment_dir),
                                    pipeline.ScoreOptions())
  assert ours.targets_how.startswith('recorded with the trials')
  assert sorted(ours.profile.submissions) == ['first', 'second']
  assert not ours.problems.by_kind().get('unexpected directory')
  # As earlier versions wrote it (plan beside the studies) it would not.
  plan = records.study_plan_path(experiment_dir / 'first')
  plan.rename(records.legacy_study_plan_path(experiment_dir / 'first'))
  [finding] = official_layout.check(str(experiment_dir), targets)
  assert finding.fatal and finding.path.endswith('first/study.json')


def test_the_committed_leaderboard_logs_read():
  logs = LEADERBOARD / 'logs'
  fitted = targets_export.export(ExportRequest(
    source=str(LEADERBOARD / 'workload_targets.json'), logs=str(logs)))
  assert official_layout.check(str(logs), fitted) == []
  # Unfitted, the held-out variant no algorithm ran breaks the profiles.
  unfitted = targets_export.export(ExportRequest(
    source=str(LEADERBOARD / 'workload_targets.json')))
  [finding] = official_layout.check(str(logs), unfitted)
  assert "'census_dlrm_embed_init'" in finding.problem and finding.fatal
