"""AlgoPerf's LibriSpeech Conformer (2c90454), written in flax.linen.

Raw audio in; inside the model: the log-mel front end (``frontend``),
SpecAugment in training (``specaugment``), then

  Subsample: two stride-2 3x3 convolutions with ReLU (4x fewer frames,
             80 bins -> 20), flattened, Dense to 512, + sinusoids, dropout
  4 x ConformerBlock:
    x = x + 0.5 * FeedForwardModule(x)    LN, Dense 2048, act, Dense 512
    x = x + MultiHeadedSelfAttention(x)   LN, 8 heads, learned query scale
    x = x + ConvolutionBlock(x)           LN, GLU, depthwise 5, BN, act, Dense
    x = x + 0.5 * FeedForwardModule(x)
    x = LayerNorm(x)                      (not in the _layernorm variant)
  LayerNorm, Dense_0 to 1024 logits a frame.

Every LayerNorm and BatchNorm is AlgoPerf's (1 + scale) form (``layers``).
The attention scales each query dimension by softplus(s) / softplus(0)
(s init 0) before flax's 1/sqrt(depth), and multiplies its output by the
attention temperature (1.6 in the _attention_temperature variant).
Class and module names are AlgoPerf's, so parameter paths are too.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from algoperf import layers as shared_layers
from workloads.espeak_conformer.model import sinusoids
from workloads.librispeech_conformer import frontend
from workloads.librispeech_conformer import specaugment
from workloads.librispeech_conformer.layers import XAVIER
from workloads.librispeech_conformer.layers import BatchNorm
from workloads.librispeech_conformer.layers import Conv2dSubsampling
from workloads.librispeech_conformer.layers import LayerNorm

DROPOUT_RATE = 0.1  # AlgoPerf's default residual and input dropout.
ACTIVATIONS = {'swish': nn.swish, 'gelu': nn.gelu}


class Subsample(nn.Module):
  width: int

  @nn.compact
  def __call__(self, x_BTF, paddings_BT, dropout):
    x_BTFC = x_BTF[..., None]
    for _ in range(2):
      x_BTFC, paddings_BT = Conv2dSubsampling(self.width)(x_BTFC, paddings_BT)
    batch, length = x_BTFC.shape[:2]
    x_BTD = nn.Dense(self.width, kernel_init=XAVIER)(
      x_BTFC.reshape(batch, length, -1))
    return dropout(x_BTD + sinusoids(length, self.width)), paddings_BT


class FeedForwardModule(nn.Module):
  width: int
  activation: str

  @nn.compact
  def __call__(self, x_BTD, keep_BT1, dropout):
    h_BTH = nn.Dense(4 * self.width, kernel_init=XAVIER)(LayerNorm()(x_BTD))
    h_BTH = dropout(ACTIVATIONS[self.activation](h_BTH)) * keep_BT1
    return dropout(nn.Dense(self.width, kernel_init=XAVIER)(h_BTH) * keep_BT1)


class QueryScaler(nn.Module):
  """Per-dimension query scale softplus(s) / softplus(0), s init 0."""

  @nn.compact
  def __call__(self, query):
    scale = self.param('scale', nn.initializers.zeros, (query.shape[-1],))
    return query * (jax.nn.softplus(scale) / jax.nn.softplus(0.0))


def scaled_query_attention(query, key, value, bias=None, mask=None, *,
                           temperature):
  """flax's dot-product attention after a learned query scale, x temperature.

  Called by flax's attention module inside its own scope, so the
  ``QueryScaler`` made here lives under it (AlgoPerf's parameter path). Flax
  passes only the keyword arguments named here (no attention dropout:
  AlgoPerf's rate there is 0).
  """
  query = QueryScaler()(query)
  weights = nn.dot_product_attention_weights(query, key, bias, mask)
  return jnp.einsum('...hqk,...khd->...qhd', weights, value) * temperature


class MultiHeadedSelfAttention(nn.Module):
  width: int
  num_heads: int
  temperature: float

  @nn.compact
  def __call__(self, x_BTD, paddings_BT, dropout):
    keep_BT = paddings_BT == 0
    y_BTD = nn.MultiHeadDotProductAttention(
      num_heads=self.num_heads, qkv_features=self.width, kernel_init=XAVIER,
      attention_fn=functools.partial(scaled_query_attention,
                                     temperature=self.temperature))(
        LayerNorm()(x_BTD), mask=nn.make_attention_mask(keep_BT, keep_BT))
    return dropout(y_BTD)


class ConvolutionBlock(nn.Module):
  width: int
  kernel_size: int
  activation: str

  @nn.compact
  def __call__(self, x_BTD, paddings_BT, dropout, bn_kwargs):
    y_BTD = LayerNorm()(x_BTD)
    y_BTD = nn.Dense(self.width, kernel_init=XAVIER)(y_BTD) * jax.nn.sigmoid(
      nn.Dense(self.width, kernel_init=XAVIER)(y_BTD))
    y_BTD = y_BTD * (1.0 - paddings_BT)[..., None]
    y_BTD = nn.Conv(self.width, (self.kernel_size,), padding='SAME',
                    feature_group_count=self.width, use_bias=False,
                    kernel_init=XAVIER)(y_BTD)
    y_BTD = BatchNorm()(y_BTD, paddings_BT, **bn_kwargs)
    y_BTD = ACTIVATIONS[self.activation](y_BTD)
    return dropout(nn.Dense(self.width, kernel_init=XAVIER)(y_BTD))


class ConformerBlock(nn.Module):
  width: int
  num_heads: int
  kernel_size: int
  activation: str
  attention_temperature: float
  post_layer_norm: bool

  @nn.compact
  def __call__(self, x_BTD, paddings_BT, dropout, bn_kwargs):
    keep_BT1 = (1.0 - paddings_BT)[..., None]
    x_BTD = x_BTD + 0.5 * FeedForwardModule(self.width, self.activation)(
      x_BTD, keep_BT1, dropout)
    x_BTD = x_BTD + MultiHeadedSelfAttention(
      self.width, self.num_heads, self.attention_temperature)(
        x_BTD, paddings_BT, dropout)
    x_BTD = x_BTD + ConvolutionBlock(
      self.width, self.kernel_size, self.activation)(
        x_BTD, paddings_BT, dropout, bn_kwargs)
    x_BTD = x_BTD + 0.5 * FeedForwardModule(self.width, self.activation)(
      x_BTD, keep_BT1, dropout)
    if self.post_layer_norm:
      x_BTD = LayerNorm()(x_BTD)
    return x_BTD


class Conformer(nn.Module):
  """(logits [B, 500, 1024], logit paddings [B, 500]) from raw audio.

  ``inputs`` is ``(audio [B, N], audio_paddings [B, N])``. As AlgoPerf's:
  BatchNorm uses batch statistics in training and running averages
  otherwise unless ``use_running_average_bn`` says; running averages move
  when ``update_batch_norm`` (default: ``train``).
  """

  vocab_size: int = 1024
  width: int = 512
  num_heads: int = 8
  depth: int = 4
  kernel_size: int = 5
  activation: str = 'swish'
  attention_temperature: float = 1.0
  post_layer_norm: bool = True
  use_specaug: bool = True
  freq_mask_count: int = 2
  time_mask_count: int = 10

  @nn.compact
  def __call__(self, inputs, *, train, update_batch_norm=None,
               dropout_rate=DROPOUT_RATE, use_running_average_bn=None):
    audio_BN, audio_paddings_BN = inputs
    if update_batch_norm is None:
      update_batch_norm = train
    if use_running_average_bn is None:
      use_running_average_bn = not train
    bn_kwargs = dict(use_running_average=use_running_average_bn,
                     update=update_batch_norm)
    dropout = shared_layers.Dropout(dropout_rate, deterministic=not train)
    x_BTF, paddings_BT = frontend.log_mel(audio_BN, audio_paddings_BN)
    if train and self.use_specaug:
      x_BTF = specaugment.spec_augment(
        self.make_rng('dropout'), x_BTF, paddings_BT,
        freq_mask_count=self.freq_mask_count,
        time_mask_count=self.time_mask_count)
    x_BTD, paddings_BT = Subsample(self.width)(x_BTF, paddings_BT, dropout)
    for _ in range(self.depth):
      x_BTD = ConformerBlock(
        self.width, self.num_heads, self.kernel_size, self.activation,
        self.attention_temperature, self.post_layer_norm)(
          x_BTD, paddings_BT, dropout, bn_kwargs)
    logits_BTV = nn.Dense(self.vocab_size, kernel_init=XAVIER)(
      LayerNorm()(x_BTD))
    return logits_BTV, paddings_BT
