"""digits_resnet and its variants: one real step on synthetic data, BatchNorm.

Synthetic arrays of the real shapes stand in for the prepared digits, so
nothing here touches disk or network.
"""

import functools
import math

import jax
import numpy as np
import pytest

from algoperf import spec
from algoperf import registry

FAMILY = ['digits_resnet', 'digits_resnet_silu', 'digits_resnet_large_bn_init']
BATCH = 8


SEED = 0


def make_small_workload(name):
  workload = registry.make_workload(name)
  workload.use_synthetic_data(32)
  workload.eval_batch_size = 16  # Test size: a small eval compile.
  return workload


def make_train_step(workload):
  def loss_of(params, state, batch, rng):
    logits, new_state = workload.model_fn(
      params,
      batch,
      state,
      spec.ForwardPassMode.TRAIN,
      rng,
      update_batch_norm=True,
    )
    loss = workload.loss_fn(batch['targets'], logits)
    return loss['summed'] / loss['n_valid_examples'], new_state

  @jax.jit
  def train_step(params, state, batch, rng):
    (loss, state), grads = jax.value_and_grad(loss_of, has_aux=True)(
      params, state, batch, rng
    )
    params = jax.tree.map(lambda p, g: p - 0.01 * g, params, grads)
    return params, state, loss, grads

  return train_step


@functools.cache
def initialised(name):
  """(workload, train_step, params, state): one init per workload per file.

  Initialisation compiles for seconds on CPU, so tests share it.
  """
  workload = make_small_workload(name)
  params, state = workload.init_model_fn(jax.random.PRNGKey(SEED))
  return workload, make_train_step(workload), params, state


def first_losses(workload, train_step, params, state, num_steps):
  rng = jax.random.PRNGKey(SEED)
  queue = workload._build_input_queue(rng, 'train', None, BATCH)
  losses = []
  for step in range(num_steps):
    params, state, loss, _ = train_step(
      params, state, next(queue), jax.random.fold_in(rng, step)
    )
    losses.append(float(loss))
  return losses


@pytest.mark.parametrize('name', FAMILY)
def test_one_step_and_eval(name):
  workload, train_step, params, state = initialised(name)
  assert workload.name == name
  if name != 'digits_resnet':
    assert workload.base_name == 'digits_resnet'
  assert set(state) == {'batch_stats'}
  rng = jax.random.PRNGKey(SEED)
  batch = next(workload._build_input_queue(rng, 'train', None, BATCH))
  _, new_state, loss, grads = train_step(params, state, batch, rng)
  assert math.isfinite(float(loss))
  assert all(np.isfinite(g).all() for g in jax.tree.leaves(grads))
  assert 'Dense_out' in params and workload.is_output_params('Dense_out')
  results = workload.eval_model(BATCH, params, new_state, rng, None, None, 1)
  for split in ('train', 'validation', 'test'):
    for metric in ('accuracy', 'loss'):
      assert math.isfinite(results[f'{split}/{metric}'])
  assert 0.0 <= results['validation/accuracy'] <= 1.0
  # The variants' one detail: the last BatchNorm scale of every block.
  last_scale = params['ResidualBlock_1']['BatchNorm_1']['scale']
  np.testing.assert_array_equal(last_scale, workload.bn_init_scale)


def test_same_seed_gives_identical_first_ten_losses():
  workload, train_step, params, state = initialised('digits_resnet')
  first = first_losses(workload, train_step, params, state, 10)
  params, state = workload.init_model_fn(jax.random.PRNGKey(SEED))
  again = first_losses(workload, train_step, params, state, 10)
  assert first == again
  assert len(set(first)) == 10  # The steps really train.


def test_batch_norm_state_changes_only_when_updating():
  workload, train_step, params, state = initialised('digits_resnet')
  rng = jax.random.PRNGKey(SEED)
  batch = next(workload._build_input_queue(rng, 'train', None, BATCH))
  forward = jax.jit(
    workload.model_fn, static_argnames=('mode', 'update_batch_norm')
  )
  _, kept = forward(
    params,
    batch,
    state,
    mode=spec.ForwardPassMode.TRAIN,
    rng=rng,
    update_batch_norm=False,
  )
  _, updated, _, _ = train_step(params, state, batch, rng)
  before = jax.tree.leaves(state)
  assert all(
    np.array_equal(a, b) for a, b in zip(before, jax.tree.leaves(kept))
  )
  assert all(
    not np.array_equal(a, b) for a, b in zip(before, jax.tree.leaves(updated))
  )


def test_batch_norm_parameters_are_typed_as_batch_norm():
  workload, _, _, _ = initialised('digits_resnet')
  types = jax.tree.leaves(workload.model_params_types)
  bn = {spec.ParameterType.BATCH_NORM_SCALE, spec.ParameterType.BATCH_NORM_BIAS}
  # Stem + 2 per block + 2 projection shortcuts, a scale and a bias each.
  assert sum(t in bn for t in types) == 2 * (1 + 2 * 3 + 2)
