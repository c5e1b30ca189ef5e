"""Re-estimates BatchNorm running statistics at other parameters.

Methods that evaluate at parameters they never trained at (Schedule-Free's x
sequence, weight averages) need the BatchNorm statistics of *those*
parameters: the running averages collected during training belong to the
training parameters. This module re-estimates them from a few training
batches ("precise BN": the average of per-batch statistics).

It needs no knowledge of the model. A training-mode forward pass updates
every running statistic as ``new = m * old + (1 - m) * s`` with the batch
statistic ``s``; running it from an all-zeros state gives ``(1 - m) s`` and
from an all-ones state ``m + (1 - m) s``, so each leaf's momentum ``m`` and
batch statistic ``s`` follow. Leaves that are not such averages (``m`` of 1,
e.g. counters) keep their value.
"""

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from algoperf import spec

_MIN_UPDATE_WEIGHT = 1e-6


def _batch_statistics(workload, params, model_state, batch, rng):
  def forward_from(state):
    _, new_state = workload.model_fn(
      params,
      batch,
      state,
      spec.ForwardPassMode.TRAIN,
      rng,
      update_batch_norm=True,
      dropout_rate=0.0,
    )
    return new_state

  from_zeros = forward_from(jax.tree.map(jnp.zeros_like, model_state))
  from_ones = forward_from(jax.tree.map(jnp.ones_like, model_state))

  def statistic(old, zero_start, one_start):
    update_weight = 1.0 - (one_start - zero_start)  # 1 - m
    usable = update_weight > _MIN_UPDATE_WEIGHT
    safe_weight = jnp.where(usable, update_weight, 1.0)
    return jnp.where(usable, zero_start / safe_weight, old)

  return jax.tree.map(statistic, model_state, from_zeros, from_ones)


@functools.cache
def _jitted_batch_statistics():
  return jax.jit(_batch_statistics, static_argnums=0)


def has_running_statistics(model_state) -> bool:
  """Whether the model keeps state to re-estimate (e.g. batch_stats)."""
  return bool(jax.tree.leaves(model_state))


def recompute(
  workload: spec.Workload,
  params: spec.ParameterContainer,
  model_state: spec.ModelAuxiliaryState,
  batches: Sequence[dict[str, spec.Tensor]],
  rng: spec.RandomState,
) -> spec.ModelAuxiliaryState:
  """Running statistics at ``params``: the mean over ``batches``.

  Returns ``model_state`` unchanged when it has no leaves or no batches are
  given. Costs two forward passes per batch.
  """
  if not batches or not has_running_statistics(model_state):
    return model_state
  step = _jitted_batch_statistics()
  per_batch = [
    step(workload, params, model_state, batch, jax.random.fold_in(rng, i))
    for i, batch in enumerate(batches)
  ]
  return jax.tree.map(lambda *xs: sum(xs) / len(xs), *per_batch)
