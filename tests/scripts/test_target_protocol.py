"""The target-setting protocol's arithmetic and its table (no training)."""

import json
import math

import pytest

from scripts.target_setting import protocol
from scripts.target_setting import table


def _run(seed, values, tests=None, times=None, algorithm='nadamw', trial=1):
  tests = tests or values
  times = times or [10.0 * (i + 1) for i in range(len(values))]
  evals = tuple(protocol.Eval(100 * (i + 1), t, v, te)
                for i, (v, te, t) in enumerate(zip(values, tests, times)))
  return protocol.Run('w', algorithm, 0, trial, seed, {'learning_rate': 1e-3},
                      'max_steps', evals)


def test_winner_is_the_best_validation_metric_for_either_direction():
  runs = [_run(1, [0.5, 0.7], trial=1), _run(2, [0.9, 0.6], trial=2),
          _run(3, [math.nan, math.nan], trial=3)]
  assert protocol.winner(runs, 'max').trial == 2
  assert protocol.winner(runs, 'min').trial == 1


def test_targets_are_the_median_smoothed_best_and_the_worst_test_there():
  seeds = [
    # Means of 3 evals: 0.8867, 0.9267, 0.93 -> best 0.93.
    _run(1, [0.80, 0.90, 0.96, 0.92, 0.91],
         tests=[0.7, 0.88, 0.93, 0.9, 0.9]),
    # 0.8933, 0.92, 0.92 -> 0.92.
    _run(2, [0.85, 0.91, 0.92, 0.93, 0.91],
         tests=[0.8, 0.89, 0.90, 0.91, 0.9]),
    # 0.94, 0.93, 0.9167 -> 0.94 (its best single eval, 0.95, is not it).
    _run(3, [0.93, 0.94, 0.95, 0.90, 0.90],
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
  steady = _run(1, [0.90, 0.90, 0.90, 0.90])
  spiky = _run(2, [0.90, 0.90, 0.99, 0.90])
  assert protocol.best_validation(steady, 'max') == pytest.approx(0.90)
  assert protocol.best_validation(spiky, 'max') == pytest.approx(0.93)
  assert math.isnan(protocol.best_validation(
    _run(3, [math.nan, math.nan, math.nan]), 'max'))
  # Fewer evals than the window: their mean.
  assert protocol.best_validation(_run(4, [0.5, 0.7]), 'max') == \
    pytest.approx(0.6)


def test_loss_targets_round_towards_easier_and_diverged_seeds_count_worst():
  seeds = [_run(1, [2.0, 1.85512, 1.85512, 1.85512]),
           _run(2, [1.9, 1.86001, 1.86001, 1.86001]),
           _run(3, [math.nan, math.nan, math.nan, math.nan])]
  t = protocol.derive_targets(seeds, 'min')
  # Sorted best to worst: 1.85512, 1.86001, inf -> median 1.86001 -> 1.8601.
  assert t.validation_target_value == 1.8601
  assert t.median_steps_to_target == 200


def test_too_few_finite_seeds_is_an_error():
  with pytest.raises(ValueError, match='1 of 2 seed runs'):
    protocol.derive_targets([_run(1, [0.5]), _run(2, [math.nan])], 'max')


def test_step_hint_replays_the_horizon_at_three_quarters():
  assert protocol.step_hint(600) == 800
  assert int(0.75 * protocol.step_hint(600)) == 600


def _summary(tmp_path, kind, name, runs, direction='max'):
  path = tmp_path / kind / f'{name}.json'
  path.parent.mkdir(parents=True, exist_ok=True)
  hw = {'processor': 'cpu', 'cpu_count': 2, 'concurrent_runs': 1,
        'jax': 'x', 'flax': 'y', 'jax_backend': 'cpu', 'optax': 'z'}
  path.write_text(json.dumps({
    'stage': kind, 'workload': name, 'metric': 'accuracy',
    'direction': direction, 'horizon_steps': 300, 'hardware': hw,
    'runs': [{'workload': name, 'algorithm': r.algorithm, 'study': r.study,
              'trial': r.trial, 'rng_seed': r.rng_seed,
              'hyperparameters': r.hyperparameters, 'status': r.status,
              'evals': [[e.step, e.submission_time, e.validation, e.test]
                        for e in r.evals]} for r in runs]}))


def test_table_from_summaries(tmp_path):
  _summary(tmp_path, 'tune', 'w', [
    _run(7, [0.5, 0.9], trial=1), _run(8, [0.5, 0.95], trial=2,
                                       algorithm='nesterov')])
  _summary(tmp_path, 'seeds', 'w', [
    _run(1, [0.9, 0.94]), _run(2, [0.9, 0.93]), _run(3, [0.92, 0.95])])
  _summary(tmp_path, 'tune', 'w_v', [_run(9, [0.8, 0.85])])
  derived = table.derive(tmp_path, ['w'], {'w_v': 'w'})
  assert list(derived) == ['w']  # The variant has no seeds yet.
  # Two of its three seeds finished (the stage is still running): no target.
  _summary(tmp_path, 'seeds', 'w_v', [_run(1, [0.8, 0.84]),
                                      _run(2, [0.8, 0.83])])
  assert list(table.derive(tmp_path, ['w'], {'w_v': 'w'})) == ['w']
  entry = derived['w']
  assert entry['winner']['algorithm'] == 'nesterov'
  # Seeds' smoothed bests (two evals each: their means) 0.92, 0.915, 0.935.
  assert entry['validation_target_value'] == 0.92
  assert entry['max_allowed_runtime_sec'] == math.ceil(4 / 3 * 20.0)
  assert entry['step_hint'] == 400
  assert table.fact_values(entry) == {
    'validation_target_value': 0.92, 'test_target_value': 0.92,
    'max_allowed_runtime_sec': 27, 'step_hint': 400,
    'eval_period_time_sec': 1.4}
  page = table.render(derived, ['w_v'])
  assert '| w | accuracy (max) | 0.92 | 0.92 | 27 | 400 | 1.4 | 300 | nesterov #2' \
    in page
  assert 'provisional' in page and '`w_v`' in page


def test_code_and_docs_match_the_committed_summaries():
  """Every protocol target in the workload code equals docs/targets.md."""
  from scripts import set_targets

  if not (set_targets.SUMMARIES / 'seeds').exists():
    pytest.skip('no committed seed summaries under docs/targets/runs yet')
  assert table.main(set_targets.SUMMARIES, set_targets.REPO, check=True) == 0


def test_mean_ranks_pick_the_point_best_across_workloads():
  runs = {'a': [_run(1, [0.9], trial=1), _run(2, [0.8], trial=2),
                _run(3, [0.7], trial=3)],
          'b': [_run(1, [2.0], trial=1), _run(2, [1.0], trial=2),
                _run(3, [math.nan], trial=3)]}
  ranks = protocol.mean_ranks(protocol.ranks(runs, {'a': 'max', 'b': 'min'}))
  # a: 1,2,3; b (loss): trial 2 best, then 1, NaN last.
  assert ranks == {1: 1.5, 2: 1.5, 3: 3.0}


def test_self_tuning_point_reaches_the_most_targets_then_ranks_best():
  runs = {'a': [_run(1, [0.9], trial=1), _run(2, [0.8], trial=2)],
          'b': [_run(1, [0.5], trial=1), _run(2, [0.7], trial=2)]}
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


def test_exactly_the_untuned_workloads_are_marked_provisional():
  from algoperf import registry
  from scripts import set_targets

  suite = registry.suite()
  tuned = table.derive(set_targets.SUMMARIES, list(suite.base_workloads),
                       {n: f.base_name for n, f in suite.workloads.items()
                        if f.base_name})
  for name, facts in suite.workloads.items():
    assert facts.targets_are_provisional == (name not in tuned), name


def test_a_finished_seed_run_of_another_winner_is_refused(tmp_path):
  from algoperf import records
  from scripts.target_setting import runs
  from algoperf import registry

  workload = registry.make_workload('census_dlrm')
  first = {'learning_rate': 0.1, 'one_minus_beta1': 0.1,
           'weight_decay': 1e-4, 'warmup_factor': 0.05,
           'label_smoothing': 0.0, 'dropout_rate': 0.0}
  [job] = runs.rerun_jobs(workload, 'nesterov', first, 1, tmp_path)
  job.trial_dir.mkdir(parents=True)
  records.write_json(job.trial_dir / records.HPARAMS,
                     job.config.hyperparameters)
  records.write_json(job.trial_dir / records.STATUS,
                     {'status': records.MAX_STEPS})
  done = []
  assert runs.execute([job], 1, lambda j, s: done.append(j)) == 0
  assert done == []  # The same point, finished: reused, not rerun.

  # Re-tuning picked another winner: the old seed run must not count.
  [other] = runs.rerun_jobs(workload, 'nesterov',
                            dict(first, learning_rate=0.2), 1, tmp_path)
  assert other.trial_dir == job.trial_dir
  with pytest.raises(SystemExit, match='Move .* aside'):
    runs.execute([other], 1, lambda j, s: done.append(j))
  assert done == []
