"""The v0.5 held-out rule: which variant trials a leaderboard run needs."""

import pytest

from algoperf import registry
from algoperf.reference_leaderboard import held_out
from algoperf.reference_leaderboard.held_out import RUN
from algoperf.reference_leaderboard.held_out import SKIP
from algoperf.reference_leaderboard.held_out import WAIT


@pytest.mark.parametrize('reached, study, n, action', [
  ({0: True}, 0, 1, RUN),
  ({0: False}, 0, 1, SKIP),
  ({}, 0, 1, WAIT),
  # Base missed in study 0 only: its median over 3 may still be finite.
  ({0: False}, 0, 3, WAIT),
  ({0: False, 1: True}, 0, 3, WAIT),
  ({0: False, 1: True, 2: True}, 0, 3, RUN),  # median finite: needed.
  ({0: False, 1: False}, 0, 3, SKIP),  # 2 of 3 missed: median infinite.
  ({0: False, 1: False}, 2, 3, SKIP),
  ({0: True, 1: False}, 0, 3, RUN),
  ({0: False, 1: True}, 1, 2, SKIP),  # 1 of 2: the median averages inf.
])
def test_held_out_trial_is_skipped_only_when_the_base_median_is_infinite(
    reached, study, n, action):
  assert held_out.decide(reached, study, n).action == action


def test_every_cpu_suite_family_has_a_registered_held_out_variant():
  for base in registry.suite().base_workloads:
    assert registry.facts(held_out.variant(base)).base_name == base


def _scoring_says_reached(trial_dir, name: str) -> bool:
  """Scoring's own judgement: its first eval meeting the target."""
  from scoring import load
  from scoring import time_to_target
  from scoring import workload_targets
  from scoring.errors import Problems

  target = workload_targets.parse_targets(
    registry.targets_document(), 'cpu').workloads[name]
  parsed = load.read_eval_csv(str(trial_dir / load.EVAL_CSV), target.column,
                              Problems())
  return parsed is not None and time_to_target.first_reaching_index(
    parsed[0], target) is not None


@pytest.mark.parametrize('name, cells, reached', [
  ('mnist', ['0.5', '0.9435'], True),  # At the target counts.
  ('mnist', ['0.5', '0.9434'], False),
  ('mnist', ['nan', '', '0.99'], True),  # NaN and empty never meet it.
  ('mnist', ['nan', ''], False),
  ('mnist', [], False),  # Header only.
  ('census_dlrm', ['0.4', '0.3048'], True),  # A loss: lower is better.
  ('census_dlrm', ['0.4', '0.31'], False),
  ('census_dlrm', ['0.2'], True),
])
def test_a_trial_reaches_its_target_exactly_when_scoring_says_so(
    tmp_path, name, cells, reached):
  facts = registry.facts(name)
  column = f'validation/{facts.target_metric_name}'
  rows = [f'{i},{i * 10},{value}' for i, value in enumerate(cells, 1)]
  (tmp_path / 'eval_measurements.csv').write_text('\n'.join(
    [f'accumulated_submission_time,global_step,{column}'] + rows) + '\n')
  assert held_out.trial_reached(tmp_path, facts) == reached
  assert _scoring_says_reached(tmp_path, name) == reached


def test_a_trial_without_evals_or_the_metric_never_reaches(tmp_path):
  facts = registry.facts('mnist')
  assert not held_out.trial_reached(tmp_path, facts)  # No csv at all.
  (tmp_path / 'eval_measurements.csv').write_text(
    'global_step,validation/loss\n1,0.0\n')
  assert not held_out.trial_reached(tmp_path, facts)
  assert not _scoring_says_reached(tmp_path, 'mnist')
