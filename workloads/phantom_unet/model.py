"""A small fastMRI-style U-Net (Ronneberger et al. 2015) in flax.linen.

The structure follows fastMRI's reference U-Net as AlgoPerf's fastmri
workload uses it: conv blocks of two bias-free 3x3 convolutions, each
followed by parameter-free instance normalisation, leaky ReLU (slope 0.2)
and channel-wise dropout; 2x2 average pooling on the way down; 2x2
transposed convolutions on the way up; skip connections by concatenation;
a final 1x1 convolution to one channel. AlgoPerf's variants switch the
activation to tanh or the conv blocks' normalisation to LayerNorm.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from algoperf import layers


def instance_norm(x, epsilon: float = 1e-5):
  """Normalises each example's channels over the spatial axes [B, H, W, C]."""
  mean = jnp.mean(x, axis=(1, 2), keepdims=True)
  mean_sq = jnp.mean(jnp.square(x), axis=(1, 2), keepdims=True)
  var = jnp.maximum(0.0, mean_sq - jnp.square(mean))  # Round-off guard.
  return (x - mean) / jnp.sqrt(var + epsilon)


def _activation(use_tanh: bool):
  if use_tanh:
    return jnp.tanh
  return functools.partial(jax.nn.leaky_relu, negative_slope=0.2)


class ConvBlock(nn.Module):
  """Two (3x3 conv, norm, activation, dropout) stages."""

  features: int
  use_tanh: bool = False
  use_layer_norm: bool = False

  @nn.compact
  def __call__(self, x, *, train: bool, dropout_rate: float):
    for _ in range(2):
      x = nn.Conv(self.features, (3, 3), use_bias=False)(x)
      if self.use_layer_norm:
        x = nn.LayerNorm(reduction_axes=(1, 2, 3))(x)
      else:
        x = instance_norm(x)
      x = _activation(self.use_tanh)(x)
      # Dropout2d: one keep/drop decision per channel (shared over H, W).
      x = layers.Dropout(
        dropout_rate, broadcast_dims=(1, 2), deterministic=not train
      )(x)
    return x


class UpBlock(nn.Module):
  """2x2 stride-2 transposed convolution, instance norm, activation."""

  features: int
  use_tanh: bool = False

  @nn.compact
  def __call__(self, x):
    x = nn.ConvTranspose(self.features, (2, 2), strides=(2, 2), use_bias=False)(
      x
    )
    return _activation(self.use_tanh)(instance_norm(x))


class UNet(nn.Module):
  """Maps a [B, H, W] image to a [B, H, W] image; H, W divisible by 2**pools.

  Attributes:
    num_channels: channels of the first block; doubled at every pooling.
    num_pool_layers: number of down- (and up-) sampling steps.
    use_tanh: tanh instead of leaky ReLU (AlgoPerf's fastmri_tanh).
    use_layer_norm: LayerNorm in the conv blocks (AlgoPerf's
      fastmri_layernorm; the up blocks keep instance norm, as there).
  """

  num_channels: int = 16
  num_pool_layers: int = 3
  use_tanh: bool = False
  use_layer_norm: bool = False

  @nn.compact
  def __call__(self, x, *, train, update_batch_norm=False, dropout_rate=0.0):
    del update_batch_norm  # No batch statistics: instance norm only.
    block = functools.partial(
      ConvBlock, use_tanh=self.use_tanh, use_layer_norm=self.use_layer_norm
    )
    kwargs = {'train': train, 'dropout_rate': dropout_rate}
    x = x[..., None]
    skips = []
    features = self.num_channels
    for _ in range(self.num_pool_layers):
      x = block(features)(x, **kwargs)
      skips.append(x)
      x = nn.avg_pool(x, (2, 2), strides=(2, 2))
      features *= 2
    x = block(features)(x, **kwargs)
    for skip in reversed(skips):
      features //= 2
      x = UpBlock(features, use_tanh=self.use_tanh)(x)
      x = jnp.concatenate([x, skip], axis=-1)
      x = block(features)(x, **kwargs)
    x = nn.Conv(1, (1, 1), name='Conv_out')(x)
    return x[..., 0]


def init_inputs(image_size: int, batch_size: int = 1):
  return jnp.zeros((batch_size, image_size, image_size), jnp.float32)
