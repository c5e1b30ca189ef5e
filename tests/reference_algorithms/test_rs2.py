"""RS2's sampling plan: coverage, fresh subsets, static subset, resumption."""

import math

import numpy as np
import pytest

from reference_algorithms.common import rs2

N, B = 103, 8


def _rounds(plan, num_rounds):
  """{round: (examples with weight 1, number of weighted-out rows)}."""
  rounds, step = {}, 0
  while True:
    round_index = plan.round_of(step)
    if round_index >= num_rounds:
      return rounds
    indices, weights = plan.batch_indices(step)
    used, padded = rounds.setdefault(round_index, ([], [0]))
    used.extend(indices[weights == 1.0].tolist())
    padded[0] += int((weights == 0.0).sum())
    step += 1


@pytest.mark.parametrize('ratio', [0.05, 0.1, 0.2, 0.3])
def test_without_replacement_visits_every_example_once_per_cycle(ratio):
  plan = rs2.SamplingPlan(N, B, ratio, 'without_replacement', seed=3)
  assert plan.rounds_per_cycle == math.ceil(N / plan.round_size)
  rounds = _rounds(plan, 2 * plan.rounds_per_cycle)
  for start in (0, plan.rounds_per_cycle):
    used = [
      i
      for r in range(start, start + plan.rounds_per_cycle)
      for i in rounds[r][0]
    ]
    assert sorted(used) == list(range(N))
  first, second = (rounds[r][0] for r in (0, plan.rounds_per_cycle))
  assert first != second  # Reshuffled when the permutation is exhausted.


@pytest.mark.parametrize('ratio', [0.05, 0.1, 0.2, 0.3])
def test_a_cycle_is_ceil_one_over_r_rounds_when_r_n_is_whole_batches(ratio):
  plan = rs2.SamplingPlan(160, B, ratio, 'without_replacement')
  assert plan.rounds_per_cycle == math.ceil(1 / ratio)
  rounds = _rounds(plan, plan.rounds_per_cycle)
  used = [i for r in sorted(rounds) for i in rounds[r][0]]
  assert sorted(used) == list(range(160))


def test_rounds_are_whole_batches_of_about_r_n_examples():
  plan = rs2.SamplingPlan(N, B, 0.2, 'without_replacement')
  assert plan.round_size == 24  # round(0.2 * 103 / 8) = 3 batches.
  rounds = _rounds(plan, plan.rounds_per_cycle)
  sizes = [len(rounds[r][0]) for r in sorted(rounds)]
  assert sizes == [24, 24, 24, 24, 7]
  assert rounds[4][1][0] == 1  # 7 examples fill one batch of 8: 1 padded.


def test_with_replacement_draws_a_fresh_subset_each_round():
  plan = rs2.SamplingPlan(N, B, 0.2, 'with_replacement', seed=1)
  rounds = _rounds(plan, 6)
  subsets = [frozenset(rounds[r][0]) for r in range(6)]
  for r, subset in enumerate(subsets):
    assert len(rounds[r][0]) == len(subset) == plan.round_size
  assert len(set(subsets)) == 6
  # Over many rounds, subsets overlap: examples come back (replacement).
  assert subsets[0] & set().union(*subsets[1:])


def test_static_subset_reuses_one_subset_in_a_new_order():
  plan = rs2.SamplingPlan(N, B, 0.2, 'static_subset', seed=1)
  rounds = _rounds(plan, 3)
  assert len({frozenset(rounds[r][0]) for r in range(3)}) == 1
  assert rounds[0][0] != rounds[1][0]


def test_plan_depends_only_on_seed_and_step():
  a = rs2.SamplingPlan(N, B, 0.1, 'without_replacement', seed=5)
  b = rs2.SamplingPlan(N, B, 0.1, 'without_replacement', seed=5)
  for step in (0, 7, 40, 41, 300):
    np.testing.assert_array_equal(
      a.batch_indices(step)[0], b.batch_indices(step)[0]
    )
  other = rs2.SamplingPlan(N, B, 0.1, 'without_replacement', seed=6)
  assert not np.array_equal(a.batch_indices(0)[0], other.batch_indices(0)[0])


def test_bad_mode_and_ratio_are_rejected():
  with pytest.raises(ValueError, match='mode'):
    rs2.SamplingPlan(N, B, 0.1, 'sometimes')
  with pytest.raises(ValueError, match='selection_ratio'):
    rs2.SamplingPlan(N, B, 0.0)
