"""Ghost BN: running statistics against a per-ghost-batch computation, and
NAdamW exactly where the model keeps no statistics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algoperf import registry
from algoperf import submission as submission_lib
from reference_algorithms.common import ghost_batch
from tests.conftest import REPO

ROOT = REPO / 'reference_algorithms'


def _setup(workload_name, batch_size, name):
  workload = registry.make_workload(workload_name)
  workload.use_synthetic_data(batch_size)
  submission = submission_lib.load_submission(ROOT / name)
  rng = jax.random.PRNGKey(1)
  params, model_state = workload.init_model_fn(rng)
  queue = workload._build_input_queue(rng, 'train', None, batch_size)
  return workload, submission, params, model_state, next(queue), rng


def _step(submission, workload, params, model_state, batch, rng, hp):
  params = jax.tree.map(jnp.copy, params)  # The step donates its inputs.
  model_state = jax.tree.map(jnp.asarray, model_state)
  state = submission.init_optimizer_state(workload, params, model_state, hp,
                                          rng)
  return submission.update_params(workload, params, None, model_state, hp,
                                  batch, None, state, [], 0, rng)


def _momentum_and_statistic(workload, params, model_state, batch, rng):
  """(m, s) per leaf from two forward passes (zeros and ones states)."""
  def forward(state):
    return workload.model_fn(params, batch, state, 'train', rng,
                             update_batch_norm=True, dropout_rate=0.0)[1]
  zero = forward(jax.tree.map(jnp.zeros_like, model_state))
  one = forward(jax.tree.map(jnp.ones_like, model_state))
  momentum = jax.tree.map(lambda a, b: b - a, zero, one)
  return momentum, jax.tree.map(lambda z, m: z / (1 - m), zero, momentum)


@pytest.mark.slow  # Compiles a ResNet step: ~30 s on 2 loaded cores.
def test_ghost_statistics_are_the_papers_merge_of_per_ghost_statistics():
  ghost, count = 16, 4
  workload, submission, params, model_state, batch, rng = _setup(
    'digits_resnet', ghost * count, 'ghost_bn')
  start = jax.device_get(model_state)
  # Some running state that is not the init, so the merge's m^n r shows.
  start = jax.tree.map(lambda x: x + 0.3, start)
  hp = {'ghost_batch_size': ghost, 'dropout_rate': 0.0}
  _, _, merged = _step(submission, workload, params, start, batch, rng, hp)
  momentum, _ = _momentum_and_statistic(workload, params, start, batch, rng)
  expected = start
  for i in range(count):
    part = jax.tree.map(lambda x, i=i: x[i * ghost:(i + 1) * ghost], batch)
    _, statistic = _momentum_and_statistic(workload, params, start, part, rng)
    # r <- m r + (1 - m) s_i, ghost batch after ghost batch (Algorithm 1).
    expected = jax.tree.map(lambda r, m, s: m * r + (1 - m) * s, expected,
                            momentum, statistic)
  leaves = list(zip(jax.tree.leaves(jax.device_get(merged)),
                    jax.tree.leaves(expected)))
  assert leaves
  for got, want in leaves:
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)
  # Whole-batch statistics differ: the check can tell ghosting from none.
  _, full = _momentum_and_statistic(workload, params, start, batch, rng)
  whole = jax.tree.map(lambda r, m, s: m * r + (1 - m) * s, start, momentum,
                       full)
  assert any(not np.allclose(a, b, rtol=1e-3) for a, b in zip(
    jax.tree.leaves(jax.device_get(merged)), jax.tree.leaves(whole)))


def test_a_batch_that_does_not_split_is_named():
  batch = {'inputs': np.zeros((48, 3)), 'targets': np.zeros(48)}
  assert ghost_batch.split(batch, 16)['inputs'].shape == (3, 16, 3)
  with pytest.raises(ValueError, match='ghost_batch_size'):
    ghost_batch.split(batch, 32)


@pytest.mark.slow  # Two optimizers' steps compiled.
def test_without_batch_statistics_it_is_nadamw_exactly():
  results = {}
  for name in ('nadamw', 'ghost_bn'):
    workload, submission, params, model_state, batch, rng = _setup(
      'mnist', 64, name)
    assert not jax.tree.leaves(model_state)  # mnist's MLP keeps none.
    hp = {'ghost_batch_size': 16} if name == 'ghost_bn' else None
    state = submission.init_optimizer_state(workload, params, model_state,
                                            hp, rng)
    for step in range(3):
      state, params, model_state = submission.update_params(
        workload, params, None, model_state, hp, batch, None, state, [],
        step, jax.random.fold_in(rng, step))
    results[name] = jax.device_get(params)
  for a, b in zip(jax.tree.leaves(results['nadamw']),
                  jax.tree.leaves(results['ghost_bn'])):
    np.testing.assert_array_equal(a, b)
