"""ResNet-50 (v1.5, BatchNorm) as AlgoPerf's imagenet_resnet JAX model.

Matches mlcommons/algorithmic-efficiency at 2c90454
(imagenet_resnet/imagenet_jax/models.py) in architecture, initialisation and
parameter names, so parameter trees compare path by path:

- stem ``Conv_init`` (7x7, stride 2, padding 3, no bias) + ``BatchNorm_init``
  + activation + 3x3 max pool (stride 2, padding 1);
- 3, 4, 6, 3 bottleneck blocks (widths 64, 128, 256, 512; output 4x),
  stride 2 on the 3x3 convolution of each stage's first block (stages
  2-4); a projection (``Conv_proj`` + ``BatchNorm_proj``) where the shape
  or stride changes; the block's last BatchNorm scale starts at
  ``bn_init_scale`` (0: every block starts as the identity);
- global average pooling, ``Dense_0`` (1000 classes, kernel ~ N(0, 0.01)).

BatchNorm: momentum 0.9, epsilon 1e-5; batch statistics are used and the
running averages updated only when ``update_batch_norm`` is true (otherwise
the running averages are used), as AlgoPerf's ``use_running_average_bn``
default.
"""

import functools
from collections.abc import Callable

import flax.linen as nn
import jax.numpy as jnp

STAGE_SIZES = (3, 4, 6, 3)  # ResNet-50.


class BottleneckResNetBlock(nn.Module):
  """1x1 -> 3x3 (strided) -> 1x1 (4x wider), each with BatchNorm."""

  filters: int
  conv: Callable
  norm: Callable
  act: Callable
  strides: tuple[int, int] = (1, 1)
  bn_init_scale: float = 0.0

  @nn.compact
  def __call__(self, x):
    y = self.act(self.norm()(self.conv(self.filters, (1, 1))(x)))
    y = self.conv(self.filters, (3, 3), self.strides)(y)
    y = self.act(self.norm()(y))
    y = self.conv(self.filters * 4, (1, 1))(y)
    # Why a chosen scale: at 0 the residual branch starts switched off.
    y = self.norm(scale_init=nn.initializers.constant(self.bn_init_scale))(y)
    shortcut = x
    if x.shape != y.shape or self.strides != (1, 1):
      shortcut = self.conv(self.filters * 4, (1, 1), self.strides,
                           name='Conv_proj')(x)
      shortcut = self.norm(name='BatchNorm_proj')(shortcut)
    return self.act(shortcut + y)


class ResNet50(nn.Module):
  """ImageNet ResNet-50; inputs [B, 224, 224, 3] normalised RGB."""

  num_classes: int = 1000
  num_filters: int = 64
  activation: Callable = nn.relu
  bn_init_scale: float = 0.0

  @nn.compact
  def __call__(self, inputs, *, train=False, update_batch_norm=False,
               dropout_rate=0.0):
    del train, dropout_rate  # No dropout; BatchNorm follows update_batch_norm.
    conv = functools.partial(nn.Conv, use_bias=False)
    norm = functools.partial(nn.BatchNorm,
                             use_running_average=not update_batch_norm,
                             momentum=0.9, epsilon=1e-5)
    x = conv(self.num_filters, (7, 7), (2, 2), padding=[(3, 3), (3, 3)],
             name='Conv_init')(inputs)
    x = self.activation(norm(name='BatchNorm_init')(x))
    x = nn.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
    for stage, num_blocks in enumerate(STAGE_SIZES):
      for block in range(num_blocks):
        x = BottleneckResNetBlock(
          self.num_filters * 2**stage,
          conv=conv,
          norm=norm,
          act=self.activation,
          strides=(2, 2) if stage > 0 and block == 0 else (1, 1),
          bn_init_scale=self.bn_init_scale,
        )(x)
    x = jnp.mean(x, axis=(1, 2))
    return nn.Dense(self.num_classes,
                    kernel_init=nn.initializers.normal())(x)


def init_inputs(batch_size: int = 1):
  """AlgoPerf's init input: ones [batch, 224, 224, 3]."""
  return jnp.ones((batch_size, 224, 224, 3), jnp.float32)
