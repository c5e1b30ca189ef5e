"""A small Conformer for CTC (after AlgoPerf's librispeech_conformer model).

AlgoPerf's layout: a subsampling front end (stride-2 3x3 convolutions with
ReLU, flattened and projected to the model width, plus sinusoidal
positions), then Conformer blocks

  x = x + 0.5 * FeedForward(x)
  x = x + SelfAttention(x)
  x = x + ConvolutionModule(x)
  x = x + 0.5 * FeedForward(x)
  x = LayerNorm(x)            # only with post_layer_norm

each sub-module pre-normalised, the convolution module a GLU, a depthwise
convolution, BatchNorm over unpadded frames and the activation; then a
final LayerNorm and the ``Dense_out`` projection to per-frame logits.
Padded frames are zeroed after every sub-module and masked from attention
and from the BatchNorm statistics, so a padded utterance gives the same
logits as the unpadded one.

Unlike AlgoPerf's, the model applies no SpecAugment: at a budget of a few
epochs it slows training more than it regularises (with it, the WER at step
300 of a probe was 0.19 against 0.07), and its random masks cost about 1.5
CPU-seconds of compilation (20% more) on every trial's clock.

The switches the variants turn are AlgoPerf's: the attention temperature
(which, as there, multiplies the attention output), post-block LayerNorm,
and the activation (swish or GELU).
"""

import functools
from collections.abc import Callable

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from algoperf import layers

_DENSE_INIT = nn.initializers.xavier_uniform()


def sinusoids(length: int, width: int) -> np.ndarray:
  """[length, width] sine and cosine position codes (timescales 1..1e4)."""
  half = width // 2
  rates = np.exp(-np.log(1e4) * np.arange(half) / max(half - 1, 1))
  angles = np.arange(length)[:, None] * rates[None]
  return np.concatenate([np.sin(angles), np.cos(angles)], -1).astype(
    np.float32)


def subsample_paddings(paddings_BT):
  """1 where a stride-2 'SAME' convolution's output frame is padding."""
  return paddings_BT[:, ::2]


class Subsample(nn.Module):
  """Three stride-2 3x3 convolutions (8x fewer frames), then a projection.

  AlgoPerf subsamples 4x; our words last about 0.3 s, so 80 ms frames still
  give about four frames a word, and the blocks cost half as much.
  """

  channels: int
  width: int

  @nn.compact
  def __call__(self, x_BTF, paddings_BT):
    x_BTFC = x_BTF[..., None]
    for i in range(3):
      x_BTFC = nn.relu(nn.Conv(self.channels, (3, 3), (2, 2), padding='SAME',
                               kernel_init=_DENSE_INIT,
                               name=f'conv_{i}')(x_BTFC))
      paddings_BT = subsample_paddings(paddings_BT)
      x_BTFC = x_BTFC * (1.0 - paddings_BT)[:, :, None, None]
    batch, length = x_BTFC.shape[:2]
    x_BTD = nn.Dense(self.width, kernel_init=_DENSE_INIT, name='project')(
      x_BTFC.reshape(batch, length, -1))
    return x_BTD + sinusoids(length, self.width), paddings_BT


class FeedForward(nn.Module):
  """LayerNorm, Dense (4x), activation, dropout, Dense back."""

  activation: Callable

  @nn.compact
  def __call__(self, x_BTD, keep_BT1, dropout):
    width = x_BTD.shape[-1]
    h_BTH = nn.Dense(4 * width, kernel_init=_DENSE_INIT)(nn.LayerNorm()(x_BTD))
    h_BTH = dropout(self.activation(h_BTH)) * keep_BT1
    return dropout(nn.Dense(width, kernel_init=_DENSE_INIT)(h_BTH)) * keep_BT1


def scaled_attention(query, key, value, mask=None, *, temperature):
  """Dot-product attention whose output is multiplied by ``temperature``.

  Flax passes an ``attention_fn`` only the keyword arguments its signature
  names, so ``mask`` must be one of them.
  """
  return nn.dot_product_attention(query, key, value, mask=mask) * temperature


class SelfAttention(nn.Module):
  """Pre-LN multi-head attention over unpadded frames; output * temperature.

  AlgoPerf's conformer multiplies the attention output, not the logits, by
  its temperature; we do the same.
  """

  num_heads: int
  temperature: float

  @nn.compact
  def __call__(self, x_BTD, keep_BT1, dropout):
    keep_BT = keep_BT1[..., 0] > 0
    y_BTD = nn.MultiHeadDotProductAttention(
      num_heads=self.num_heads, kernel_init=_DENSE_INIT,
      attention_fn=functools.partial(scaled_attention,
                                     temperature=self.temperature),
      deterministic=True)(
        nn.LayerNorm()(x_BTD), mask=nn.make_attention_mask(keep_BT, keep_BT))
    return dropout(y_BTD) * keep_BT1


class ConvolutionModule(nn.Module):
  """LayerNorm, GLU, depthwise conv, masked BatchNorm, activation, Dense."""

  kernel_size: int
  activation: Callable
  bn_momentum: float
  update_batch_norm: bool

  @nn.compact
  def __call__(self, x_BTD, keep_BT1, dropout):
    width = x_BTD.shape[-1]
    y_BTD = nn.LayerNorm()(x_BTD)
    y_BTD = nn.Dense(width, kernel_init=_DENSE_INIT, name='glu_value')(
      y_BTD) * nn.sigmoid(nn.Dense(width, kernel_init=_DENSE_INIT,
                                   name='glu_gate')(y_BTD))
    y_BTD = nn.Conv(width, (self.kernel_size,), padding='SAME',
                    feature_group_count=width, use_bias=False,
                    kernel_init=_DENSE_INIT)(y_BTD * keep_BT1)
    y_BTD = nn.BatchNorm(use_running_average=not self.update_batch_norm,
                         momentum=self.bn_momentum, epsilon=1e-3)(
      y_BTD, mask=jnp.broadcast_to(keep_BT1 > 0, y_BTD.shape))
    y_BTD = nn.Dense(width, kernel_init=_DENSE_INIT)(self.activation(y_BTD))
    return dropout(y_BTD) * keep_BT1


class ConformerBlock(nn.Module):
  """Macaron feed-forwards around attention and convolution.

  Called through ``nn.scan`` (one block's code, compiled once, with its
  parameters stacked along a leading depth axis), so everything but the
  activations is an attribute.
  """

  num_heads: int
  kernel_size: int
  activation: Callable
  attention_temperature: float
  post_layer_norm: bool
  bn_momentum: float
  update_batch_norm: bool
  train: bool
  dropout_rate: float

  @nn.compact
  def __call__(self, x_BTD, keep_BT1):
    dropout = layers.Dropout(self.dropout_rate, deterministic=not self.train)
    x_BTD = x_BTD + 0.5 * FeedForward(self.activation)(
      x_BTD, keep_BT1, dropout)
    x_BTD = x_BTD + SelfAttention(self.num_heads, self.attention_temperature)(
      x_BTD, keep_BT1, dropout)
    x_BTD = x_BTD + ConvolutionModule(
      self.kernel_size, self.activation, self.bn_momentum,
      self.update_batch_norm)(x_BTD, keep_BT1, dropout)
    x_BTD = x_BTD + 0.5 * FeedForward(self.activation)(
      x_BTD, keep_BT1, dropout)
    if self.post_layer_norm:
      x_BTD = nn.LayerNorm()(x_BTD)
    return x_BTD, None


class Conformer(nn.Module):
  """(logits [B, T/8, vocab], logit_paddings [B, T/8]) from features."""

  vocab_size: int
  width: int = 64
  depth: int = 3
  num_heads: int = 4
  subsample_channels: int = 32
  kernel_size: int = 5
  activation: Callable = nn.swish
  attention_temperature: float = 1.0
  post_layer_norm: bool = True
  # Running BatchNorm averages must settle within a few hundred steps.
  bn_momentum: float = 0.9

  @nn.compact
  def __call__(self, x, *, train, update_batch_norm=False, dropout_rate=0.0):
    x_BTD, paddings_BT = Subsample(self.subsample_channels, self.width)(
      x['inputs'], x['input_paddings'])
    keep_BT1 = (1.0 - paddings_BT)[..., None]
    x_BTD = layers.Dropout(dropout_rate, deterministic=not train)(
      x_BTD) * keep_BT1
    for _ in range(self.depth):
      x_BTD, _ = ConformerBlock(
        self.num_heads, self.kernel_size, self.activation,
        self.attention_temperature, self.post_layer_norm, self.bn_momentum,
        update_batch_norm, train, dropout_rate)(x_BTD, keep_BT1)
    logits_BTV = nn.Dense(self.vocab_size, kernel_init=_DENSE_INIT,
                          name='Dense_out')(nn.LayerNorm()(x_BTD))
    return logits_BTV, paddings_BT


def init_inputs(num_frames: int, num_bins: int, batch_size: int = 1):
  return {'inputs': jnp.zeros((batch_size, num_frames, num_bins)),
          'input_paddings': jnp.zeros((batch_size, num_frames))}
