"""AlgoPerf's LibriSpeech DeepSpeech 2 (2c90454), written in flax.linen.

Raw audio in; the Conformer family's log-mel front end and SpecAugment
(training only), then

  Subsample: two stride-2 3x3 convolutions with ReLU (tanh in _tanh),
             flattened, Dense to 512, dropout (no positions)
  6 x x = x + BatchRNN(x):  masked BatchNorm (LayerNorm in
             _norm_and_spec_aug), one bidirectional LSTM layer of 2 x 256
  3 x x = x + FeedForwardModule(x):  BatchNorm (LayerNorm), Dense 512,
             ReLU (tanh), padding zeroed, dropout
  LayerNorm (not in _norm_and_spec_aug), Dense_0 to 1024 logits a frame.

The residual additions go in _no_resnet. Kept from AlgoPerf as it is: with
residual connections the feed-forward layers' dropout is AlgoPerf's
default 0.1 whatever ``dropout_rate`` says (AlgoPerf passes the rate only
on its no-residual path); the LSTMs see padded frames too (the forward
pass runs through them, the backward pass starts at each utterance's last
real frame), and their outputs there are not zeroed. BatchNorm uses batch
statistics and moves its running averages whenever ``train``.
Class and module names are AlgoPerf's, so parameter paths are too.
"""

import flax.linen as nn
import jax.numpy as jnp

from algoperf import layers as shared_layers
from workloads.librispeech_conformer import frontend
from workloads.librispeech_conformer import specaugment
from workloads.librispeech_conformer.layers import XAVIER
from workloads.librispeech_conformer.layers import BatchNorm
from workloads.librispeech_conformer.layers import Conv2dSubsampling
from workloads.librispeech_conformer.layers import LayerNorm

DROPOUT_RATE = 0.1  # AlgoPerf's default.
ACTIVATIONS = {False: nn.relu, True: nn.tanh}  # By use_tanh.


class Subsample(nn.Module):
  width: int
  use_tanh: bool

  @nn.compact
  def __call__(self, x_BTF, paddings_BT, dropout):
    x_BTFC = x_BTF[..., None]
    for _ in range(2):
      x_BTFC, paddings_BT = Conv2dSubsampling(
        self.width, ACTIVATIONS[self.use_tanh])(x_BTFC, paddings_BT)
    batch, length = x_BTFC.shape[:2]
    x_BTD = nn.Dense(self.width, kernel_init=XAVIER)(
      x_BTFC.reshape(batch, length, -1))
    return dropout(x_BTD), paddings_BT


def normalise(layernorm_everywhere: bool, x, paddings, train: bool):
  """AlgoPerf's pre-normalisation: LayerNorm, or masked BatchNorm."""
  if layernorm_everywhere:
    return LayerNorm()(x)
  return BatchNorm()(x, paddings, use_running_average=not train, update=train)


class LSTMSequenceEncoder(nn.Module):
  """One direction of a bidirectional layer: flax's ``nn.RNN`` over a cell.

  The cell is made here, named 'cell', so its parameters sit where
  AlgoPerf's do (LSTMSequenceEncoder_<i>/cell/...). Backwards, each
  utterance's real frames alone are reversed (``seq_lengths``), so the pass
  starts at its last real frame.
  """

  hidden: int
  reverse: bool

  @nn.compact
  def __call__(self, x_BTD, lengths_B):
    cell = nn.OptimizedLSTMCell(self.hidden, name='cell')
    return nn.RNN(cell, reverse=self.reverse, keep_order=True)(
      x_BTD, seq_lengths=lengths_B)


class Bidirectional(nn.Module):
  """Forward and backward LSTMs (2 x ``hidden``), outputs concatenated.

  Named ``LSTM`` inside AlgoPerf's ``LSTM_0``, with encoders
  ``LSTMSequenceEncoder_0`` (forward) and ``_1`` (backward), for its paths.
  """

  hidden: int

  @nn.compact
  def __call__(self, x_BTD, lengths_B):
    return jnp.concatenate([
      LSTMSequenceEncoder(self.hidden, reverse,
                          name=f'LSTMSequenceEncoder_{i}')(x_BTD, lengths_B)
      for i, reverse in enumerate((False, True))], axis=-1)


class LSTM(nn.Module):
  """AlgoPerf's wrapper level (its parameters sit under LSTM_0/LSTM/)."""

  hidden: int

  @nn.compact
  def __call__(self, x_BTD, lengths_B):
    return Bidirectional(self.hidden, name='LSTM')(x_BTD, lengths_B)


class BatchRNN(nn.Module):
  width: int
  layernorm_everywhere: bool

  @nn.compact
  def __call__(self, x_BTD, paddings_BT, train):
    lengths_B = jnp.sum(1.0 - paddings_BT, axis=-1).astype(jnp.int32)
    x_BTD = normalise(self.layernorm_everywhere, x_BTD, paddings_BT, train)
    return LSTM(self.width // 2)(x_BTD, lengths_B)


class FeedForwardModule(nn.Module):
  width: int
  use_tanh: bool
  layernorm_everywhere: bool

  @nn.compact
  def __call__(self, x_BTD, paddings_BT, train, dropout):
    x_BTD = normalise(self.layernorm_everywhere, x_BTD, paddings_BT, train)
    x_BTD = ACTIVATIONS[self.use_tanh](
      nn.Dense(self.width, kernel_init=XAVIER)(x_BTD))
    return dropout(x_BTD * (1.0 - paddings_BT)[..., None])


class Deepspeech(nn.Module):
  """(logits [B, 500, 1024], logit paddings [B, 500]) from raw audio.

  ``inputs`` is ``(audio [B, N], audio_paddings [B, N])``.
  ``update_batch_norm`` is accepted for the harness's calling convention;
  as in AlgoPerf, ``train`` alone decides BatchNorm's behaviour.
  """

  vocab_size: int = 1024
  width: int = 512
  num_lstm_layers: int = 6
  num_ffn_layers: int = 3
  use_tanh: bool = False
  residual: bool = True
  decoder_layer_norm: bool = True
  layernorm_everywhere: bool = False
  use_specaug: bool = True
  freq_mask_count: int = 2
  time_mask_count: int = 10

  @nn.compact
  def __call__(self, inputs, *, train, update_batch_norm=None,
               dropout_rate=DROPOUT_RATE):
    del update_batch_norm
    audio_BN, audio_paddings_BN = inputs
    deterministic = not train
    dropout = shared_layers.Dropout(dropout_rate, deterministic=deterministic)
    x_BTF, paddings_BT = frontend.log_mel(audio_BN, audio_paddings_BN)
    if train and self.use_specaug:
      x_BTF = specaugment.spec_augment(
        self.make_rng('dropout'), x_BTF, paddings_BT,
        freq_mask_count=self.freq_mask_count,
        time_mask_count=self.time_mask_count)
    x_BTD, paddings_BT = Subsample(self.width, self.use_tanh)(
      x_BTF, paddings_BT, dropout)
    for _ in range(self.num_lstm_layers):
      y_BTD = BatchRNN(self.width, self.layernorm_everywhere)(
        x_BTD, paddings_BT, train)
      x_BTD = x_BTD + y_BTD if self.residual else y_BTD
    # AlgoPerf's quirk: the residual path keeps its default dropout rate.
    ffn_dropout = dropout if not self.residual else shared_layers.Dropout(
      DROPOUT_RATE, deterministic=deterministic)
    for _ in range(self.num_ffn_layers):
      y_BTD = FeedForwardModule(
        self.width, self.use_tanh, self.layernorm_everywhere)(
          x_BTD, paddings_BT, train, ffn_dropout)
      x_BTD = x_BTD + y_BTD if self.residual else y_BTD
    if self.decoder_layer_norm:
      x_BTD = LayerNorm()(x_BTD)
    logits_BTV = nn.Dense(self.vocab_size, kernel_init=XAVIER)(x_BTD)
    return logits_BTV, paddings_BT
