"""The transfer ablation: AlgoPerf's point with hyperparameters moved."""

import json

import pytest

from algoperf import registry
from algoperf import submission as submission_lib
from algoperf.reference_leaderboard import ablation
from algoperf.reference_leaderboard.run_info import LeaderboardError
from tests.conftest import finish_trial


def test_each_arm_moves_only_its_hyperparameters_to_the_suite_point():
  base = ablation.algoperf_point()
  suite = submission_lib.import_module(
    ablation.NADAMW_DIR).SELF_TUNING_DEFAULTS
  for arm, moved in ablation.ARMS.items():
    point = ablation.point(arm)
    changed = {k for k in point if point[k] != base[k]}
    assert changed == set(moved), arm
    assert all(point[k] == suite[k] for k in moved), arm


def test_the_base_point_is_the_transfer_submissions_own():
  defaults = submission_lib.import_module(ablation.TRANSFER_DIR).DEFAULTS
  assert ablation.algoperf_point() == defaults
  # AlgoPerf's published numbers, not the suite's.
  assert defaults['dropout_rate'] == 0.1
  assert abs(defaults['learning_rate'] - 1.7486e-3) < 1e-6


def test_a_run_trains_to_step_hint_untimed_without_test_evals(tmp_path):
  plan = ablation.plan('zinc_gnn', 'suite_lr', tmp_path)
  (job,) = plan.jobs
  step_hint = registry.facts('zinc_gnn').step_hint
  assert plan.spec.max_steps == step_hint
  assert job.config.budget_multiplier >= 1e5
  assert not job.config.stop_at_target
  assert 'test' not in job.config.eval_splits
  assert job.config.hyperparameters == ablation.point('suite_lr')
  written = json.loads((tmp_path / 'points' / 'suite_lr.json').read_text())
  assert written == [ablation.point('suite_lr')]


def test_summary_finds_the_best_eval_and_the_first_step_reaching(tmp_path):
  facts = registry.facts('zinc_gnn')
  target = facts.validation_target_value
  reached = ablation.plan('zinc_gnn', 'dropout_0', tmp_path)
  missed = ablation.plan('zinc_gnn', 'suite_lr', tmp_path)
  unfinished = ablation.plan('zinc_gnn', 'dropout_0_suite_lr', tmp_path)
  finish_trial(reached.jobs[0], facts.target_metric_name,
               [(100, target - 0.1), (200, target + 0.01),
                (300, target + 0.002)])
  finish_trial(missed.jobs[0], facts.target_metric_name,
               [(100, target - 0.2), (200, target - 0.05)])
  rows = ablation.summarize([reached, missed, unfinished])
  assert [r['arm'] for r in rows] == ['dropout_0', 'suite_lr']
  assert rows[0]['first_step_reaching'] == 200
  assert abs(rows[0]['best_validation'] - (target + 0.01)) < 1e-12
  assert rows[1]['first_step_reaching'] is None
  text = ablation.markdown(rows, 'cmd')
  assert '1 of 1' in text and '0 of 1' in text
  # Only the arms that ran get a column.
  assert 'dropout_0_suite_lr' not in text.split('| workload')[1]
  assert f'**{target + 0.01:.4f}** (step 200)' in text


@pytest.mark.parametrize('workloads, arms, says', [
  (('zinc_gnn',), ('dropout_0', 'lr_x10'), 'unknown lr_x10'),
  (('ogbg',), ('dropout_0',), 'ogbg not in the CPU suite'),
])
def test_a_bad_request_is_refused_before_anything_runs(
    tmp_path, workloads, arms, says):
  with pytest.raises(LeaderboardError, match=says):
    ablation.ablate(workloads, arms, tmp_path / 'runs', 'cmd',
                    out_dir=tmp_path)
  assert not list(tmp_path.iterdir())  # Nothing planned, nothing written.
