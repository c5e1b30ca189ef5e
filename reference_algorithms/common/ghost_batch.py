"""Ghost Batch Normalization (Hoffer, Hubara & Soudry 2017, Algorithm 1).

A batch of B examples is split into B / g ghost batches of g; each is a
separate training-mode forward pass, so BatchNorm normalises it with its
own statistics, and the gradient is the mean over all valid examples (the
gradient of the whole batch's loss under ghost normalisation). The workload
owns the model: the split is done on the batch, around ``model_fn``.

Running statistics are merged as the paper's Algorithm 1 does: each ghost
batch's statistics enter the running average in turn,

  r <- m^n r + sum_{i=1..n} m^(n-i) (1 - m) s_i       (n = B / g),

which is exactly n momentum updates ``r <- m r + (1 - m) s_i``, one per
ghost batch. A ``lax.scan`` over the ghost batches carries the model state
through them, so the model's own update rule (its momentum, its
variance estimator) is used and nothing about the model is assumed.
In training mode BatchNorm normalises with the batch's own statistics, so
the running state carried through the scan changes no loss or gradient.
"""

import jax
import jax.numpy as jnp

from algoperf import spec
from reference_algorithms.common import train_step


def has_batch_statistics(model_state) -> bool:
  """The model keeps running statistics: its state has array leaves."""
  return bool(jax.tree.leaves(model_state))


def split(batch: dict, ghost_batch_size: int) -> dict:
  """(n, g, ...) arrays from (B, ...) ones; B must be a multiple of g."""
  size = len(batch['targets'])
  if size % ghost_batch_size:
    raise ValueError(
      f'ghost_bn: the batch of {size} examples does not split into ghost '
      f'batches of {ghost_batch_size}; choose a ghost_batch_size that '
      'divides the batch size.')
  count = size // ghost_batch_size
  return jax.tree.map(
    lambda x: x.reshape((count, ghost_batch_size) + x.shape[1:]), batch)


def ghost_train_step(ghost_batch_size, workload, opt_update_fn, dropout_rate,
                     model_state, optimizer_state, current_param_container,
                     batch, rng, grad_clip, label_smoothing):
  """``train_step._train_step`` with the batch split into ghost batches."""
  ghosts = split(batch, ghost_batch_size)
  count = len(ghosts['targets'])

  def summed(params, state, ghost, key):
    logits, new_state = workload.model_fn(
      params, ghost, state, spec.ForwardPassMode.TRAIN, key,
      update_batch_norm=True, dropout_rate=dropout_rate)
    losses = workload.loss_fn(
      label_batch=ghost['targets'], logits_batch=logits,
      mask_batch=ghost.get('weights'), label_smoothing=label_smoothing)
    return losses['summed'], (losses['n_valid_examples'], new_state)

  grad_fn = jax.value_and_grad(summed, has_aux=True)

  def one_ghost(carry, inputs):
    state, grad_sum, loss_sum, valid = carry
    ghost, key = inputs
    (loss, (n_valid, state)), grad = grad_fn(current_param_container, state,
                                             ghost, key)
    grad_sum = jax.tree.map(jnp.add, grad_sum, grad)
    return (state, grad_sum, loss_sum + loss, valid + n_valid), None

  zeros = jax.tree.map(jnp.zeros_like, current_param_container)
  keys = jax.random.split(rng, count)
  start = (model_state, zeros, jnp.zeros([]), jnp.zeros([]))
  (new_model_state, grad_sum, loss_sum, valid), _ = jax.lax.scan(
    one_ghost, start, (ghosts, keys))
  grad = jax.tree.map(lambda g: g / valid, grad_sum)

  def mean_loss(params):
    def ghost_loss(total, inputs):
      ghost, key = inputs
      return total + summed(params, model_state, ghost, key)[0], None
    return jax.lax.scan(ghost_loss, jnp.zeros([]), (ghosts, keys))[0] / valid

  new_optimizer_state, params, norms = train_step.apply_gradient(
    opt_update_fn, optimizer_state, current_param_container, grad, grad_clip,
    mean_loss)
  return new_optimizer_state, params, new_model_state, loss_sum / valid, norms
