"""Layers both LibriSpeech families share, as in AlgoPerf's speech models.

Module class names are AlgoPerf's (``LayerNorm``, ``BatchNorm``,
``Conv2dSubsampling``) because flax names parameters after them: our
parameter paths then equal AlgoPerf's, which the parameter tests check path
by path.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from workloads.espeak_conformer.model import subsample_paddings

XAVIER = nn.initializers.xavier_uniform()


class LayerNorm(nn.Module):
  """LayerNorm scaling by (1 + scale), scale and bias initialised to 0.

  AlgoPerf's speech models' form (epsilon 1e-6), not flax's (scale init 1).
  """

  epsilon: float = 1e-6

  @nn.compact
  def __call__(self, x):
    width = x.shape[-1]
    scale = self.param('scale', nn.initializers.zeros, (width,))
    bias = self.param('bias', nn.initializers.zeros, (width,))
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
    return (x - mean) * (1.0 + scale) / jnp.sqrt(var + self.epsilon) + bias


class BatchNorm(nn.Module):
  """BatchNorm over unpadded frames (lingvo's), as AlgoPerf's speech models.

  Statistics over every axis but the last, counting only frames whose
  padding is 0; output scaled by (1 + scale) (scale init 0), padded frames
  zeroed. Running averages in 'batch_stats' ('mean' init 0, 'var' init 1)
  move by ``momentum`` only when ``update`` is set. ``use_running_average``
  normalises by them instead of the batch's statistics.
  """

  momentum: float = 0.999
  epsilon: float = 1e-3

  @nn.compact
  def __call__(self, x, paddings, *, use_running_average: bool,
               update: bool):
    width = x.shape[-1]
    running_mean = self.variable('batch_stats', 'mean', jnp.zeros, (width,))
    running_var = self.variable('batch_stats', 'var', jnp.ones, (width,))
    scale = self.param('scale', nn.initializers.zeros, (width,))
    bias = self.param('bias', nn.initializers.zeros, (width,))
    keep = 1.0 - paddings[..., None]
    if use_running_average:
      mean, var = running_mean.value, running_var.value
    else:
      axes = tuple(range(x.ndim - 1))
      count = jnp.maximum(jnp.sum(jnp.broadcast_to(keep, x.shape), axes), 1.0)
      mean = jnp.sum(x * keep, axes) / count
      var = jnp.sum(jnp.square(x - mean) * keep, axes) / count
      if update and not self.is_initializing():
        running_mean.value = (self.momentum * running_mean.value
                              + (1.0 - self.momentum) * mean)
        running_var.value = (self.momentum * running_var.value
                             + (1.0 - self.momentum) * var)
    y = (x - mean) * (1.0 + scale) / jnp.sqrt(var + self.epsilon) + bias
    return y * keep


class Conv2dSubsampling(nn.Module):
  """Stride-2 3x3 convolution over (time, bins), activation, padding zeroed."""

  features: int
  activation: object = nn.relu

  @nn.compact
  def __call__(self, x_BTFC, paddings_BT):
    # Parameters directly on this module (no nn.Conv child): AlgoPerf's
    # path is Conv2dSubsampling_<i>/kernel.
    kernel = self.param('kernel', XAVIER,
                        (3, 3, x_BTFC.shape[-1], self.features))
    bias = self.param('bias', nn.initializers.zeros, (self.features,))
    x_BTFC = jax.lax.conv_general_dilated(
      x_BTFC, kernel, (2, 2), 'SAME',
      dimension_numbers=('NHWC', 'HWIO', 'NHWC')) + bias
    paddings_BT = subsample_paddings(paddings_BT)
    x_BTFC = self.activation(x_BTFC) * (1.0 - paddings_BT)[:, :, None, None]
    return x_BTFC, paddings_BT
