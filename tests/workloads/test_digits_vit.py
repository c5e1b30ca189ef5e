"""digits_vit and its variants: one real step on synthetic data, shifts.

Synthetic arrays of the real shapes stand in for the prepared digits, so
nothing here touches disk or network.
"""

import functools
import math

import jax
import numpy as np
import pytest

from algoperf import base_workload, spec
from algoperf import registry
from workloads.digits_vit import input_pipeline

FAMILY = ['digits_vit', 'digits_vit_glu', 'digits_vit_post_ln']
BATCH = 8
SEED = 0


def make_small_workload(name):
  workload = registry.make_workload(name)
  workload.use_synthetic_data(32)
  workload.eval_batch_size = 16  # Test size: a small eval compile.
  return workload


def make_train_step(workload):
  def loss_of(params, batch, rng):
    logits, _ = workload.model_fn(
      params,
      batch,
      None,
      spec.ForwardPassMode.TRAIN,
      rng,
      update_batch_norm=True,
      dropout_rate=0.1,
    )
    loss = workload.loss_fn(batch['targets'], logits)
    return loss['summed'] / loss['n_valid_examples']

  @jax.jit
  def train_step(params, batch, rng):
    loss, grads = jax.value_and_grad(loss_of)(params, batch, rng)
    params = jax.tree.map(lambda p, g: p - 0.01 * g, params, grads)
    return params, loss, grads

  return train_step


@functools.cache
def initialised(name):
  """(workload, train_step, params): one init per workload per file.

  Initialisation compiles for seconds on CPU, so tests share it.
  """
  workload = make_small_workload(name)
  params, state = workload.init_model_fn(jax.random.PRNGKey(SEED))
  assert state is None  # No BatchNorm: nothing in model_state.
  return workload, make_train_step(workload), params


def first_losses(workload, train_step, params, num_steps):
  rng = jax.random.PRNGKey(SEED)
  queue = workload._build_input_queue(rng, 'train', None, BATCH)
  losses = []
  for step in range(num_steps):
    params, loss, _ = train_step(
      params, next(queue), jax.random.fold_in(rng, step)
    )
    losses.append(float(loss))
  return losses


@pytest.mark.parametrize('name', FAMILY)
def test_one_step_and_eval(name):
  workload, train_step, params = initialised(name)
  assert workload.name == name
  if name != 'digits_vit':
    assert workload.base_name == 'digits_vit'
  rng = jax.random.PRNGKey(SEED)
  batch = next(workload._build_input_queue(rng, 'train', None, BATCH))
  new_params, loss, grads = train_step(params, batch, rng)
  assert math.isfinite(float(loss))
  assert all(np.isfinite(g).all() for g in jax.tree.leaves(grads))
  assert 'Dense_out' in params and workload.is_output_params('Dense_out')
  results = workload.eval_model(BATCH, new_params, None, rng, None, None, 1)
  for split in ('train', 'validation', 'test'):
    for metric in ('accuracy', 'loss'):
      assert math.isfinite(results[f'{split}/{metric}'])
  assert 0.0 <= results['validation/accuracy'] <= 1.0


def test_variants_change_their_one_detail():
  base = initialised('digits_vit')[2]['encoderblock_0']
  glu = initialised('digits_vit_glu')[2]['encoderblock_0']
  assert len(glu['mlp']) == len(base['mlp']) + 1  # The gate's Dense.
  post_ln = initialised('digits_vit_post_ln')[2]
  assert 'encoder_layernorm' in initialised('digits_vit')[2]
  assert 'encoder_layernorm' not in post_ln  # Blocks already end normalised.


def test_same_seed_gives_identical_first_ten_losses():
  workload, train_step, params = initialised('digits_vit')
  first = first_losses(workload, train_step, params, 10)
  params, _ = workload.init_model_fn(jax.random.PRNGKey(SEED))
  again = first_losses(workload, train_step, params, 10)
  assert first == again
  assert len(set(first)) == 10  # The steps really train.


def test_shifts_move_a_pixel_by_at_most_max_shift():
  images = np.full((200, 28, 28), -0.4, np.float32)  # Background value.
  images[:, 14, 14] = 2.0
  shifted = input_pipeline.random_shifts(images, 2, np.random.default_rng(0))
  assert shifted.shape == images.shape
  np.testing.assert_allclose(shifted.sum(axis=(1, 2)), images[0].sum())
  where = np.array([np.unravel_index(i.argmax(), i.shape) for i in shifted])
  assert np.abs(where - 14).max() == 2
  assert len({tuple(w) for w in where}) == 25  # Every offset in [-2, 2]^2.


def test_shifted_queue_is_deterministic_and_resumable():
  workload, _, _ = initialised('digits_vit')
  rng = jax.random.PRNGKey(SEED)
  queue = workload._build_input_queue(rng, 'train', None, BATCH)
  assert isinstance(queue, input_pipeline.ShiftedBatches)
  batches = [next(queue)['inputs'] for _ in range(3)]
  resumed = workload._build_input_queue(
    rng, 'train', None, BATCH, start_position=2
  )
  np.testing.assert_array_equal(next(resumed)['inputs'], batches[2])
  # Same examples in the same order as the plain queue, only shifted.
  plain = base_workload.ShuffledBatches(
    {k: workload.split_arrays('train', None)[k] for k in workload.input_keys},
    BATCH,
    base_workload.seed_from_key(rng),
  )
  first_plain = next(plain)
  np.testing.assert_array_equal(
    first_plain['targets'],
    next(workload._build_input_queue(rng, 'train', None, BATCH))['targets'],
  )
  assert not np.array_equal(first_plain['inputs'], batches[0])
