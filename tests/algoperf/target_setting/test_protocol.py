"""The target-setting protocol's arithmetic (no training, no files)."""

import math

import pytest

from algoperf.target_setting import protocol


def make_run(seed, values, tests=None, times=None, algorithm='nadamw',
             trial=1):
  """A run of workload 'w' with one eval per value, 100 steps apart."""
  tests = tests or values
  times = times or [10.0 * (i + 1) for i in range(len(values))]
  evals = tuple(protocol.Eval(100 * (i + 1), t, v, te)
                for i, (v, te, t) in enumerate(zip(values, tests, times)))
  return protocol.Run('w', algorithm, 0, trial, seed, {'learning_rate': 1e-3},
                      'max_steps', evals)


def test_winner_is_the_best_validation_metric_for_either_direction():
  runs = [make_run(1, [0.5, 0.7], trial=1), make_run(2, [0.9, 0.6], trial=2),
          make_run(3, [math.nan, math.nan], trial=3)]
  assert protocol.winner(runs, 'max').trial == 2
  assert protocol.winner(runs, 'min').trial == 1


def test_targets_are_the_median_smoothed_best_and_the_worst_test_there():
  seeds = [
    # Means of 3 evals: 0.8867, 0.9267, 0.93 -> best 0.93.
    make_run(1, [0.80, 0.90, 0.96, 0.92, 0.91],
             tests=[0.7, 0.88, 0.93, 0.9, 0.9]),
    # 0.8933, 0.92, 0.92 -> 0.92.
    make_run(2, [0.85, 0.91, 0.92, 0.93, 0.91],
             tests=[0.8, 0.89, 0.90, 0.91, 0.9]),
    # 0.94, 0.93, 0.9167 -> 0.94 (its best single eval, 0.95, is not it).
    make_run(3, [0.93, 0.94, 0.95, 0.90, 0.90],
             tests=[0.91, 0.92, 0.9, 0.9, 0.9]),
  ]
  t = protocol.derive_targets(seeds, 'max')
  assert [o.best_validation for o in t.seeds] == pytest.approx(
    [0.93, 0.92, 0.94])
  assert t.validation_target_value == 0.93
  # Reaching is judged on single evals, as in a scored run: seed 1 at its
  # 3rd eval (0.96, test 0.93), seed 2 at its 4th (0.93, test 0.91), seed 3
  # at its 1st (0.93, test 0.91).
  assert [o.reached_step for o in t.seeds] == [300, 400, 100]
  assert t.test_target_value == 0.91
  # Times: 30, 40, 10 -> median 30; budget 4/3 x 30 = 40.
  assert t.median_time_to_target == 30.0
  assert t.budget() == 40


def test_one_lucky_eval_does_not_set_the_target():
  """A spike of noise in one eval moves the smoothed best by a third."""
  steady = make_run(1, [0.90, 0.90, 0.90, 0.90])
  spiky = make_run(2, [0.90, 0.90, 0.99, 0.90])
  assert protocol.best_validation(steady, 'max') == pytest.approx(0.90)
  assert protocol.best_validation(spiky, 'max') == pytest.approx(0.93)
  assert math.isnan(protocol.best_validation(
    make_run(3, [math.nan, math.nan, math.nan]), 'max'))
  # Fewer evals than the window: their mean.
  assert protocol.best_validation(make_run(4, [0.5, 0.7]), 'max') == \
    pytest.approx(0.6)


def test_loss_targets_round_towards_easier_and_diverged_seeds_count_worst():
  seeds = [make_run(1, [2.0, 1.85512, 1.85512, 1.85512]),
           make_run(2, [1.9, 1.86001, 1.86001, 1.86001]),
           make_run(3, [math.nan, math.nan, math.nan, math.nan])]
  t = protocol.derive_targets(seeds, 'min')
  # Sorted best to worst: 1.85512, 1.86001, inf -> median 1.86001 -> 1.8601.
  assert t.validation_target_value == 1.8601
  assert t.median_steps_to_target == 200


def test_too_few_finite_seeds_is_an_error():
  with pytest.raises(ValueError, match='1 of 2 seed runs'):
    protocol.derive_targets([make_run(1, [0.5]), make_run(2, [math.nan])],
                            'max')


def test_step_hint_replays_the_horizon_at_three_quarters():
  assert protocol.step_hint(600) == 800
  assert int(0.75 * protocol.step_hint(600)) == 600


def test_mean_ranks_pick_the_point_best_across_workloads():
  runs = {'a': [make_run(1, [0.9], trial=1), make_run(2, [0.8], trial=2),
                make_run(3, [0.7], trial=3)],
          'b': [make_run(1, [2.0], trial=1), make_run(2, [1.0], trial=2),
                make_run(3, [math.nan], trial=3)]}
  ranks = protocol.mean_ranks(protocol.ranks(runs, {'a': 'max', 'b': 'min'}))
  # a: 1,2,3; b (loss): trial 2 best, then 1, NaN last.
  assert ranks == {1: 1.5, 2: 1.5, 3: 3.0}


def test_self_tuning_point_reaches_the_most_targets_then_ranks_best():
  runs = {'a': [make_run(1, [0.9], trial=1), make_run(2, [0.8], trial=2)],
          'b': [make_run(1, [0.5], trial=1), make_run(2, [0.7], trial=2)]}
  directions = {'a': 'max', 'b': 'max'}
  reached = protocol.targets_reached(runs, {'a': 0.85, 'b': 0.6}, directions)
  assert reached == {1: 1, 2: 1}
  ranks = protocol.ranks(runs, directions)
  assert ranks == {1: [1, 2], 2: [2, 1]}
  assert protocol.self_tuning_choice(ranks, reached) == 1  # Then first.
  # More targets reached beats a better mean rank.
  ranks = {1: [1, 1, 3], 2: [2, 2, 2], 3: [3, 3, 1]}
  assert protocol.self_tuning_choice(ranks, {1: 1, 2: 2, 3: 1}) == 2
  # Equal targets and mean ranks: the better worst rank.
  assert protocol.self_tuning_choice(ranks, {1: 2, 2: 2, 3: 0}) == 1
  ranks = {1: [1, 2, 3], 2: [2, 2, 2]}
  assert protocol.self_tuning_choice(ranks, {1: 2, 2: 2}) == 2
