"""The target table: from committed run summaries to docs/targets.md."""

import json
import math
import pathlib

import pytest

from algoperf import registry
from algoperf.target_setting import table
from tests.algoperf.target_setting.test_protocol import make_run

REPO = pathlib.Path(__file__).resolve().parents[3]
SUMMARIES = REPO / table.summaries_dir()


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
    make_run(7, [0.5, 0.9], trial=1),
    make_run(8, [0.5, 0.95], trial=2, algorithm='nesterov')])
  _summary(tmp_path, 'seeds', 'w', [
    make_run(1, [0.9, 0.94]), make_run(2, [0.9, 0.93]),
    make_run(3, [0.92, 0.95])])
  _summary(tmp_path, 'tune', 'w_v', [make_run(9, [0.8, 0.85])])
  derived = table.derive(tmp_path, ['w'], {'w_v': 'w'}, seeds=3)
  assert list(derived) == ['w']  # The variant has no seeds yet.
  # Two of its three seeds finished (the stage is still running): no target.
  _summary(tmp_path, 'seeds', 'w_v', [make_run(1, [0.8, 0.84]),
                                      make_run(2, [0.8, 0.83])])
  assert list(table.derive(tmp_path, ['w'], {'w_v': 'w'}, seeds=3)) == [
    'w']
  entry = derived['w']
  assert entry['winner']['algorithm'] == 'nesterov'
  # Seeds' smoothed bests (two evals each: their means) 0.92, 0.915, 0.935.
  assert entry['validation_target_value'] == 0.92
  assert entry['max_allowed_runtime_sec'] == math.ceil(4 / 3 * 20.0)
  assert entry['step_hint'] == 400
  # The eval period in steps at the seeds' pace: the median seed reaches
  # the target at step 200 after 20 s, so 1.4 s is 14 steps.
  assert table.fact_values(entry) == {
    'validation_target_value': 0.92, 'test_target_value': 0.92,
    'max_allowed_runtime_sec': 27, 'step_hint': 400,
    'eval_period_time_sec': 1.4, 'eval_every_steps': 14}
  page = table.render(derived, ['w_v'])
  assert ('| w | accuracy (max) | 0.92 | 0.92 | 27 | 400 | 1.4 | 14 | 300 '
          '| nesterov #2') in page
  assert 'provisional' in page and '`w_v`' in page


def test_code_and_docs_match_the_committed_summaries():
  """Every protocol target in the workload code equals docs/targets.md."""
  if not (SUMMARIES / 'seeds').exists():
    pytest.skip(f'no committed seed summaries under {SUMMARIES} yet')
  assert table.main(REPO, check=True) == 0


def test_exactly_the_untuned_workloads_are_marked_provisional():
  suite = registry.suite()
  tuned = table.derive(SUMMARIES, list(suite.base_workloads),
                       {n: f.base_name for n, f in suite.workloads.items()
                        if f.base_name})
  for name, facts in suite.workloads.items():
    assert facts.targets_are_provisional == (name not in tuned), name
