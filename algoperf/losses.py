"""Losses in AlgoPerf's loss_fn form: summed, n_valid_examples, per_example."""

import jax
import jax.numpy as jnp
import optax

from algoperf import spec


def _reduce(per_example, mask_batch):
  if mask_batch is None:
    mask_batch = jnp.ones_like(per_example)
  per_example = per_example * mask_batch
  return {
    'summed': per_example.sum(),
    'n_valid_examples': mask_batch.sum(),
    'per_example': per_example,
  }


def softmax_cross_entropy(
  label_batch, logits_batch, mask_batch=None, label_smoothing=0.0
):
  """Integer labels; optional label smoothing as AlgoPerf applies it."""
  num_classes = logits_batch.shape[-1]
  one_hot = jax.nn.one_hot(label_batch, num_classes)
  smoothed = optax.smooth_labels(one_hot, label_smoothing)
  per_example = optax.softmax_cross_entropy(logits_batch, smoothed)
  return _reduce(per_example, mask_batch)


def _mean_per_example(per_element, mask_batch):
  """Averages all but the batch axis, then reduces over the batch."""
  per_example = per_element.reshape(per_element.shape[0], -1).mean(-1)
  return _reduce(per_example, mask_batch)


def sigmoid_cross_entropy(
  label_batch, logits_batch, mask_batch=None, label_smoothing=0.0
):
  """Binary labels in {0, 1}; smoothing pulls them toward 0.5."""
  labels = label_batch.astype(logits_batch.dtype)
  labels = labels * (1.0 - label_smoothing) + 0.5 * label_smoothing
  per_example = optax.sigmoid_binary_cross_entropy(logits_batch, labels)
  if per_example.ndim > 1:
    return _mean_per_example(per_example, mask_batch)
  return _reduce(per_example, mask_batch)


def mean_absolute_error(
  label_batch, logits_batch, mask_batch=None, label_smoothing=0.0
):
  del label_smoothing
  return _mean_per_example(jnp.abs(logits_batch - label_batch), mask_batch)


def mean_squared_error(
  label_batch, logits_batch, mask_batch=None, label_smoothing=0.0
):
  del label_smoothing
  return _mean_per_example(jnp.square(logits_batch - label_batch), mask_batch)


BY_LOSS_TYPE = {
  spec.LossType.SOFTMAX_CROSS_ENTROPY: softmax_cross_entropy,
  spec.LossType.SIGMOID_CROSS_ENTROPY: sigmoid_cross_entropy,
  spec.LossType.MEAN_ABSOLUTE_ERROR: mean_absolute_error,
  spec.LossType.MEAN_SQUARED_ERROR: mean_squared_error,
}


def num_correct(logits_batch, label_batch, mask_batch):
  """How many valid rows (or tokens) are classified right.

  The prediction is the argmax of the logits, or with one logit per row
  (a binary classifier) whether it is positive.
  """
  if logits_batch.shape[-1] == 1:
    predicted = jnp.reshape(logits_batch, label_batch.shape) > 0
  else:
    predicted = jnp.argmax(logits_batch, -1)
  return ((predicted == label_batch) * mask_batch).sum()
