"""The building blocks of reference_algorithms/common/ against hand
computations: NAdam's direction, BatchNorm statistics at new parameters.

What each reference submission's mechanism shows when it trains is checked
through the harness in test_submissions.py (its table's ``shows`` column).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from algoperf import spec
from reference_algorithms.common import batch_norm
from reference_algorithms.common import nadamw


def test_nadam_direction_matches_the_formula():
  b1, b2, eps = 0.9, 0.99, 1e-8
  grads = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
  tx = nadamw.scale_by_nadam(b1, b2, eps)
  state = tx.init(jnp.zeros(5))
  m = v = np.zeros(5)
  for t, g in enumerate(grads, start=1):
    update, state = tx.update(jnp.asarray(g), state)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    look_ahead = (b1 * m + (1 - b1) * g) / (1 - b1**t)
    expected = look_ahead / (np.sqrt(v / (1 - b2**t)) + eps)
    np.testing.assert_allclose(update, expected, rtol=1e-5)


class _DenseBatchNorm(nn.Module):
  @nn.compact
  def __call__(self, x, train):
    x = nn.Dense(3)(x)
    return nn.BatchNorm(use_running_average=not train, momentum=0.8)(x)


class _BatchNormWorkload:
  """Just enough of a workload for batch_norm.recompute."""

  def __init__(self):
    self.module = _DenseBatchNorm()

  def model_fn(
    self,
    params,
    batch,
    model_state,
    mode,
    rng,
    update_batch_norm,
    dropout_rate=0.0,
  ):
    del rng, dropout_rate
    train = mode == spec.ForwardPassMode.TRAIN
    variables = {'params': params, **model_state}
    if update_batch_norm:
      out, new_state = self.module.apply(
        variables, batch['inputs'], train=train, mutable=['batch_stats']
      )
      return out, new_state
    return self.module.apply(variables, batch['inputs'], train=train), None


def test_batch_norm_statistics_are_recomputed_at_new_params():
  workload = _BatchNormWorkload()
  rng = np.random.default_rng(0)
  variables = workload.module.init(
    jax.random.PRNGKey(0), jnp.zeros((1, 4)), train=False
  )
  params, model_state = (
    variables['params'],
    {'batch_stats': variables['batch_stats']},
  )
  other_params = jax.tree.map(lambda p: p + 0.5, params)
  batches = [
    {'inputs': jnp.asarray(rng.normal(2.0, 3.0, (16, 4)), jnp.float32)}
    for _ in range(3)
  ]
  got = batch_norm.recompute(
    workload, other_params, model_state, batches, jax.random.PRNGKey(1)
  )
  kernel, bias = (
    other_params['Dense_0']['kernel'],
    other_params['Dense_0']['bias'],
  )
  hidden = [b['inputs'] @ kernel + bias for b in batches]
  expected_mean = np.mean([h.mean(0) for h in hidden], axis=0)
  expected_var = np.mean([h.var(0) for h in hidden], axis=0)
  stats = got['batch_stats']['BatchNorm_0']
  np.testing.assert_allclose(stats['mean'], expected_mean, rtol=1e-4)
  np.testing.assert_allclose(stats['var'], expected_var, rtol=1e-4)


def test_batch_norm_recompute_keeps_stateless_models_unchanged():
  assert batch_norm.recompute(None, {}, None, [{}], None) is None
  assert batch_norm.recompute(None, {}, {'a': 1.0}, [], None) == {'a': 1.0}
