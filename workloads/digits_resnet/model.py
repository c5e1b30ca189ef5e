"""A small ResNet with BatchNorm for 28x28 digits (after AlgoPerf's ResNet).

Like AlgoPerf's imagenet_resnet model: bias-free convolutions with He
(fan-out) initialisation, BatchNorm after every convolution, residual blocks
whose last BatchNorm scale starts at ``bn_init_scale`` (0 by default, so each
block starts as the identity), a projection shortcut where the shape
changes, global average pooling and a dense classifier. Smaller: a 3x3
stride-2 stem without max-pooling (28x28 -> 14x14), one basic block per
stage (14x14, 7x7, 4x4) and widths (16, 32, 64).

BatchNorm statistics live in the ``batch_stats`` collection (the workload's
``model_state``); batch statistics are used and the running averages updated
only when ``update_batch_norm`` is true, as in AlgoPerf.
"""

import functools
from collections.abc import Callable
from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp

_conv_init = nn.initializers.variance_scaling(2.0, 'fan_out', 'normal')


class ResidualBlock(nn.Module):
  """Two 3x3 convolutions with BatchNorm and a (projected) shortcut."""

  filters: int
  strides: int
  norm: Callable
  activation: Callable
  bn_init_scale: float

  @nn.compact
  def __call__(self, x):
    conv = functools.partial(nn.Conv, use_bias=False, kernel_init=_conv_init)
    y = conv(self.filters, (3, 3), (self.strides, self.strides))(x)
    y = self.activation(self.norm()(y))
    y = conv(self.filters, (3, 3))(y)
    y = self.norm(scale_init=nn.initializers.constant(self.bn_init_scale))(y)
    shortcut = x
    if shortcut.shape != y.shape:
      shortcut = conv(
        self.filters, (1, 1), (self.strides, self.strides), name='conv_proj'
      )(shortcut)
      shortcut = self.norm(name='BatchNorm_proj')(shortcut)
    return self.activation(shortcut + y)


class DigitsResNet(nn.Module):
  """Stem, one residual block per stage (stride 2 after the first), head."""

  stage_widths: Sequence[int] = (16, 32, 64)
  blocks_per_stage: int = 1
  activation: Callable = nn.relu
  bn_init_scale: float = 0.0
  # 0.9 as AlgoPerf's ResNet, not flax's default 0.99: running averages must
  # settle within the few hundred steps a CPU run lasts.
  bn_momentum: float = 0.9
  num_classes: int = 10

  @nn.compact
  def __call__(self, x, *, train, update_batch_norm=False, dropout_rate=0.0):
    del train, dropout_rate  # BatchNorm mode follows update_batch_norm.
    norm = functools.partial(
      nn.BatchNorm,
      use_running_average=not update_batch_norm,
      momentum=self.bn_momentum,
      epsilon=1e-5,
    )
    if x.ndim == 3:  # [batch, height, width] -> one channel.
      x = x[..., None]
    x = nn.Conv(
      self.stage_widths[0],
      (3, 3),
      (2, 2),
      use_bias=False,
      kernel_init=_conv_init,
      name='conv_init',
    )(x)
    x = self.activation(norm(name='BatchNorm_init')(x))
    for stage, width in enumerate(self.stage_widths):
      for block in range(self.blocks_per_stage):
        strides = 2 if stage > 0 and block == 0 else 1
        x = ResidualBlock(
          width, strides, norm, self.activation, self.bn_init_scale
        )(x)
    x = jnp.mean(x, axis=(1, 2))
    return nn.Dense(self.num_classes, name='Dense_out')(x)
