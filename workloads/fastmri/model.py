"""fastMRI U-Net as AlgoPerf's fastmri JAX model.

Matches mlcommons/algorithmic-efficiency at 2c90454
(fastmri/fastmri_jax/models.py, after init2winit and fastMRI's reference)
in architecture, initialisation and parameter names, so parameter trees
compare path by path:

- ``num_pool_layers`` down blocks (``ConvBlock_0`` ..., widths 32, 64, 128,
  256) each followed by 2x2 average pooling, a bottleneck block (512), then
  per level a ``TransposeConvBlock`` (2x2 stride-2 transposed conv) whose
  output is concatenated with the matching down block's and fed to a
  ``ConvBlock``; a final 1x1 convolution ``Conv_0`` (with bias) to one
  channel;
- a ConvBlock: twice [3x3 conv without bias -> instance norm over H, W (no
  parameters, eps 1e-5; with ``use_layer_norm`` a LayerNorm over H, W, C
  with scale and bias) -> leaky ReLU 0.2 (tanh with ``use_tanh``) ->
  channel dropout (one keep/drop per example and channel)];
- a TransposeConvBlock: transposed conv without bias -> instance norm
  (always) -> the activation.

Module names follow flax's construction order, as AlgoPerf's: the down
blocks, the bottleneck, then each level's transposed-conv and conv blocks.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from algoperf import layers


def instance_norm(x, epsilon: float = 1e-5):
  """Normalises each example's channels over H and W (no parameters).

  The variance is E[x^2] - E[x]^2 clipped at 0, computed in float32 or
  wider, as AlgoPerf's ``_instance_norm2d``.
  """
  x = jnp.asarray(x, jnp.promote_types(jnp.float32, jnp.result_type(x)))
  mean = jnp.mean(x, axis=(1, 2), keepdims=True)
  var = jnp.maximum(0.0, jnp.mean(jnp.square(x), axis=(1, 2), keepdims=True)
                    - jnp.square(mean))
  return (x - mean) / jnp.sqrt(var + epsilon)


def _activation(use_tanh: bool):
  if use_tanh:
    return nn.tanh
  return functools.partial(jax.nn.leaky_relu, negative_slope=0.2)


class ConvBlock(nn.Module):
  """Two [3x3 conv, norm, activation, channel dropout] layers."""

  out_channels: int
  use_tanh: bool = False
  use_layer_norm: bool = False

  @nn.compact
  def __call__(self, x, *, train=False, dropout_rate=0.0):
    for _ in range(2):
      x = nn.Conv(self.out_channels, (3, 3), strides=(1, 1),
                  use_bias=False)(x)
      if self.use_layer_norm:
        x = nn.LayerNorm(reduction_axes=(1, 2, 3))(x)
      else:
        x = instance_norm(x)
      x = _activation(self.use_tanh)(x)
      # Dropout2d: one decision per (example, channel), shared over H, W.
      x = layers.Dropout(rate=dropout_rate, broadcast_dims=(1, 2))(
        x, deterministic=not train)
    return x


class TransposeConvBlock(nn.Module):
  """2x upsampling: transposed conv, instance norm, activation."""

  out_channels: int
  use_tanh: bool = False

  @nn.compact
  def __call__(self, x):
    x = nn.ConvTranspose(self.out_channels, (2, 2), strides=(2, 2),
                         use_bias=False)(x)
    return _activation(self.use_tanh)(instance_norm(x))


class UNet(nn.Module):
  """U-Net; inputs [B, H, W] normalised images, outputs [B, H, W]."""

  num_channels: int = 32
  num_pool_layers: int = 4
  use_tanh: bool = False
  use_layer_norm: bool = False

  @nn.compact
  def __call__(self, inputs, *, train=False, update_batch_norm=False,
               dropout_rate=0.0):
    del update_batch_norm  # No BatchNorm.
    dropout_rate = 0.0 if dropout_rate is None else dropout_rate
    conv_block = functools.partial(ConvBlock, use_tanh=self.use_tanh,
                                   use_layer_norm=self.use_layer_norm)
    # Constructed in AlgoPerf's order so flax numbers the blocks alike.
    channels = self.num_channels
    down = [conv_block(channels)]
    for _ in range(self.num_pool_layers - 1):
      channels *= 2
      down.append(conv_block(channels))
    bottleneck = conv_block(channels * 2)
    up = []
    for _ in range(self.num_pool_layers):
      up.append((TransposeConvBlock(channels, self.use_tanh),
                 conv_block(channels)))
      channels //= 2

    x = inputs[..., None]
    skips = []
    for block in down:
      x = block(x, train=train, dropout_rate=dropout_rate)
      skips.append(x)
      x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
    x = bottleneck(x, train=train, dropout_rate=dropout_rate)
    for upsample, block in up:
      skip = skips.pop()
      x = upsample(x)
      # Odd sizes: reflect-pad one row / column at the bottom / right.
      pad_h = int(x.shape[1] != skip.shape[1])
      pad_w = int(x.shape[2] != skip.shape[2])
      if pad_h or pad_w:
        x = jnp.pad(x, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)),
                    mode='reflect')
      x = block(jnp.concatenate([x, skip], axis=-1), train=train,
                dropout_rate=dropout_rate)
    x = nn.Conv(1, (1, 1), strides=(1, 1))(x)
    return x[..., 0]


def init_inputs(batch_size: int = 13):
  """AlgoPerf's init input: zeros [13, 320, 320]."""
  return jnp.zeros((batch_size, 320, 320), jnp.float32)
