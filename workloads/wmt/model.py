"""AlgoPerf's WMT Transformer (the flax WMT example's), in flax.linen.

Encoder-decoder with one embedding table shared by the source, the target
and the output projection; fixed sinusoidal positions; pre- or post-
LayerNorm blocks; optional gated MLP and attention temperature (the
variants). Submodules are created in AlgoPerf's order under its names
(``shared_embedding``, ``encoder/encoderblock_<i>``,
``decoder/encoderdecoderblock_<i>``, flax's automatic names inside), so
the parameter tree is AlgoPerf's path for path. ``decode=True`` builds the
single-step decoder with a key/value cache used by beam search
(``decode.py``).
"""

from collections.abc import Callable

import flax.linen as nn
import jax.numpy as jnp
import numpy as np
from jax import lax

from algoperf import layers

VOCAB_SIZE = 32_000
MAX_LENGTH = 256
PAD_ID = 0
EOS_ID = 2


def sinusoids(length: int, width: int) -> np.ndarray:
  """[1, length, width]: sines in the first half of the features, cosines in
  the second, frequencies from 1 to 1/10000 geometrically (AlgoPerf's
  ``sinusoidal_init`` with min_scale 1, max_scale 10000)."""
  half = width // 2
  rates = np.exp(np.arange(half) * (-np.log(10_000.0) / (half - 1)))
  angles = np.arange(length)[:, None] * rates[None, :]
  table = np.zeros((length, width), np.float32)
  table[:, :half] = np.sin(angles)
  table[:, half:2 * half] = np.cos(angles)
  return table[None]


def shift_right(tokens):
  """Prepends PAD_ID (the decoder's start token) and drops the last."""
  return jnp.pad(tokens, ((0, 0), (1, 0)))[:, :-1]


class Settings(nn.Module):
  """The shared hyperparameters (a base class, not a layer)."""

  vocab_size: int = VOCAB_SIZE
  emb_dim: int = 1024
  num_heads: int = 16
  num_layers: int = 6
  qkv_dim: int = 1024
  mlp_dim: int = 1024
  max_len: int = MAX_LENGTH
  activation: Callable = nn.relu
  glu: bool = False
  attention_temp: float = 1.0
  pre_ln: bool = True

  def dense(self, width, **kwargs):
    return nn.Dense(width, kernel_init=nn.initializers.xavier_uniform(),
                    bias_init=nn.initializers.normal(stddev=1e-6), **kwargs)

  def attention(self, decode=False):
    return nn.MultiHeadDotProductAttention(
      num_heads=self.num_heads, qkv_features=self.qkv_dim,
      kernel_init=nn.initializers.xavier_uniform(), use_bias=False,
      broadcast_dropout=False, dropout_rate=0.0, deterministic=True,
      decode=decode)

  def settings(self) -> dict:
    return {f: getattr(self, f) for f in (
      'vocab_size', 'emb_dim', 'num_heads', 'num_layers', 'qkv_dim',
      'mlp_dim', 'max_len', 'activation', 'glu', 'attention_temp', 'pre_ln')}


class AddPositions(nn.Module):
  """Adds sinusoidal position embeddings (no parameters).

  With ``positions`` (packed rows) each token gets its own position; in
  decode mode a cache counter gives the position of the one new token.
  """

  max_len: int
  decode: bool = False

  @nn.compact
  def __call__(self, x, positions=None):
    table = jnp.asarray(sinusoids(self.max_len, x.shape[-1]))
    if self.decode:
      started = self.has_variable('cache', 'cache_index')
      index = self.variable('cache', 'cache_index',
                            lambda: jnp.array(0, jnp.uint32))
      if started:  # Not while the cache is being initialised.
        i = index.value
        index.value = i + 1
        start = (0, i.astype(jnp.int32), 0)
        return x + lax.dynamic_slice(table, start, (1, 1, table.shape[-1]))
    if positions is None:
      return x + table[:, :x.shape[1]]
    return x + jnp.take(table[0, :x.shape[1]], positions, axis=0)


class MlpBlock(Settings):
  """Dense -> activation (x gate for GLU) -> dropout -> Dense -> dropout."""

  @nn.compact
  def __call__(self, x, *, train, dropout_rate):
    width = x.shape[-1]
    h = self.activation(self.dense(self.mlp_dim)(x))
    if self.glu:
      h = h * self.dense(self.mlp_dim)(x)
    h = layers.Dropout(rate=dropout_rate)(h, deterministic=not train)
    out = self.dense(width)(h)
    return layers.Dropout(rate=dropout_rate)(out, deterministic=not train)


def _residual(module, x, sublayer, *, train, dropout_rate):
  """x + dropout(sublayer(LN(x))) (pre-LN) or LN(x + dropout(sublayer(x)))."""
  h = nn.LayerNorm()(x) if module.pre_ln else x
  h = layers.Dropout(rate=dropout_rate)(sublayer(h), deterministic=not train)
  return x + h if module.pre_ln else nn.LayerNorm()(x + h)


class Encoder1DBlock(Settings):
  """Self-attention, then the MLP, each in a residual."""

  @nn.compact
  def __call__(self, x, mask, *, train, dropout_rate):
    attend = self.attention()
    x = _residual(self, x, lambda h: attend(self.attention_temp * h, h,
                                            mask=mask),
                  train=train, dropout_rate=dropout_rate)
    return self._mlp(x, train=train, dropout_rate=dropout_rate)

  def _mlp(self, x, *, train, dropout_rate):
    h = nn.LayerNorm()(x) if self.pre_ln else x
    h = MlpBlock(**self.settings())(h, train=train, dropout_rate=dropout_rate)
    return x + h if self.pre_ln else nn.LayerNorm()(x + h)


class EncoderDecoder1DBlock(Encoder1DBlock):
  """Causal self-attention, attention to the encoding, then the MLP."""

  decode: bool = False

  @nn.compact
  def __call__(self, y, encoded, self_mask, cross_mask, *, train,
               dropout_rate):
    attend_self = self.attention(decode=self.decode)
    y = _residual(self, y, lambda h: attend_self(self.attention_temp * h, h,
                                                 mask=self_mask),
                  train=train, dropout_rate=dropout_rate)
    attend_source = self.attention()
    y = _residual(self, y, lambda h: attend_source(self.attention_temp * h,
                                                   encoded, mask=cross_mask),
                  train=train, dropout_rate=dropout_rate)
    return self._mlp(y, train=train, dropout_rate=dropout_rate)


class Encoder(Settings):
  shared_embedding: nn.Module | None = None

  @nn.compact
  def __call__(self, inputs, positions, mask, *, train, dropout_rate):
    x = self.shared_embedding(inputs.astype(jnp.int32))
    x = AddPositions(self.max_len, name='posembed_input')(x, positions)
    x = layers.Dropout(rate=dropout_rate)(x, deterministic=not train)
    for i in range(self.num_layers):
      x = Encoder1DBlock(**self.settings(), name=f'encoderblock_{i}')(
        x, mask, train=train, dropout_rate=dropout_rate)
    if self.pre_ln:
      x = nn.LayerNorm(name='encoder_layernorm')(x)
    return x


class Decoder(Settings):
  shared_embedding: nn.Module | None = None
  decode: bool = False

  @nn.compact
  def __call__(self, encoded, targets, positions, self_mask, cross_mask, *,
               train, dropout_rate):
    y = targets.astype(jnp.int32)
    if not self.decode:  # Teacher forcing: predict token t from < t.
      y = shift_right(y)
    y = self.shared_embedding(y)
    y = AddPositions(self.max_len, self.decode, name='posembed_output')(
      y, positions)
    y = layers.Dropout(rate=dropout_rate)(y, deterministic=not train)
    for i in range(self.num_layers):
      y = EncoderDecoder1DBlock(**self.settings(), decode=self.decode,
                                name=f'encoderdecoderblock_{i}')(
        y, encoded, self_mask, cross_mask, train=train,
        dropout_rate=dropout_rate)
    if self.pre_ln:
      y = nn.LayerNorm(name='encoderdecoder_layernorm')(y)
    # The output projection is the shared embedding, scaled by 1/sqrt(d).
    logits = self.shared_embedding.attend(y.astype(jnp.float32))
    return logits / jnp.sqrt(y.shape[-1])


def _mask_pair(query_ok, key_ok):
  return nn.make_attention_mask(query_ok, key_ok)


class Transformer(Settings):
  """Logits [B, T, vocab] from a batch dict (README.md, "Batch format").

  ``__call__`` takes the model-side dict (``inputs``, ``targets``, and for
  packed rows ``*_position`` and ``*_segmentation``); ``encode`` and
  ``decode`` are the two halves, which beam search calls separately.
  """

  decode: bool = False

  def setup(self):
    self.shared_embedding = nn.Embed(
      self.vocab_size, self.emb_dim,
      embedding_init=nn.initializers.normal(stddev=1.0))
    self.encoder = Encoder(**self.settings(),
                           shared_embedding=self.shared_embedding)
    self.decoder = Decoder(**self.settings(),
                           shared_embedding=self.shared_embedding,
                           decode=self.decode)

  def encode(self, inputs, inputs_positions=None, inputs_segmentation=None,
             *, train=False, dropout_rate=0.0):
    mask = _mask_pair(inputs > 0, inputs > 0)
    if inputs_segmentation is not None:  # Packed: attend within a sentence.
      mask = nn.combine_masks(mask, nn.make_attention_mask(
        inputs_segmentation, inputs_segmentation, jnp.equal))
    return self.encoder(inputs, inputs_positions, mask, train=train,
                        dropout_rate=dropout_rate)

  def decode_step(self, encoded, inputs, targets, targets_positions=None,
                  inputs_segmentation=None, targets_segmentation=None, *,
                  train=False, dropout_rate=0.0):
    """Decoder logits; with ``decode=True``, for one new token per row."""
    if self.decode:  # The cache holds only earlier tokens: no causal mask.
      self_mask = None
      cross_mask = _mask_pair(jnp.ones_like(targets) > 0, inputs > 0)
    else:
      self_mask = nn.combine_masks(_mask_pair(targets > 0, targets > 0),
                                   nn.make_causal_mask(targets))
      cross_mask = _mask_pair(targets > 0, inputs > 0)
    if inputs_segmentation is not None:
      self_mask = nn.combine_masks(self_mask, nn.make_attention_mask(
        targets_segmentation, targets_segmentation, jnp.equal))
      cross_mask = nn.combine_masks(cross_mask, nn.make_attention_mask(
        targets_segmentation, inputs_segmentation, jnp.equal))
    return self.decoder(encoded, targets, targets_positions, self_mask,
                        cross_mask, train=train, dropout_rate=dropout_rate)

  def __call__(self, batch, *, train, update_batch_norm=False,
               dropout_rate=0.1):
    del update_batch_norm
    encoded = self.encode(batch['inputs'], batch.get('inputs_position'),
                          batch.get('inputs_segmentation'), train=train,
                          dropout_rate=dropout_rate)
    return self.decode_step(
      encoded, batch['inputs'], batch['targets'],
      batch.get('targets_position'), batch.get('inputs_segmentation'),
      batch.get('targets_segmentation'), train=train,
      dropout_rate=dropout_rate)


def init_inputs(batch_size: int = 8):
  """AlgoPerf's init batch: inputs and targets of ones, [8, 256]."""
  ones = jnp.ones((batch_size, MAX_LENGTH), jnp.float32)
  return {'inputs': ones, 'targets': ones}
