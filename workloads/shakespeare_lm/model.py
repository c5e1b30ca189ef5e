"""A small decoder-only transformer over character ids (GPT-style).

Token and learned position embeddings, ``depth`` blocks of causal
self-attention and an MLP, then ``Dense_out`` logits over the vocabulary.
The switches the variants turn (pre- vs post-LayerNorm, GLU MLP, activation,
attention temperature) are the ones AlgoPerf's wmt variants turn.
"""

from collections.abc import Callable

import flax.linen as nn
import jax.numpy as jnp

from algoperf import layers

_EMBED_INIT = nn.initializers.normal(stddev=0.02)


class CausalSelfAttention(nn.Module):
  """Multi-head causal attention; logits divided by sqrt(d_head) * temp."""

  num_heads: int
  temperature: float = 1.0

  @nn.compact
  def __call__(self, x_BTD):
    batch, length, width = x_BTD.shape
    head_dim = width // self.num_heads
    qkv = nn.Dense(3 * width, name='query_key_value')(x_BTD)
    qkv = qkv.reshape(batch, length, 3, self.num_heads, head_dim)
    q_BTHK, k_BTHK, v_BTHK = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
    logits_BHTS = jnp.einsum('bthk,bshk->bhts', q_BTHK, k_BTHK)
    logits_BHTS = logits_BHTS / (jnp.sqrt(head_dim) * self.temperature)
    causal_TS = jnp.tril(jnp.ones((length, length), dtype=bool))
    logits_BHTS = jnp.where(causal_TS, logits_BHTS, -1e9)
    weights_BHTS = nn.softmax(logits_BHTS, axis=-1)
    out_BTHK = jnp.einsum('bhts,bshk->bthk', weights_BHTS, v_BTHK)
    out_BTD = out_BTHK.reshape(batch, length, width)
    return nn.Dense(width, name='attention_out')(out_BTD)


class Mlp(nn.Module):
  """Position-wise MLP; with ``glu`` the hidden layer is gated (GLU)."""

  hidden: int
  activation: Callable
  glu: bool = False

  @nn.compact
  def __call__(self, x_BTD):
    hidden_BTF = self.activation(nn.Dense(self.hidden, name='mlp_in')(x_BTD))
    if self.glu:
      hidden_BTF = hidden_BTF * nn.Dense(self.hidden, name='mlp_gate')(x_BTD)
    return nn.Dense(x_BTD.shape[-1], name='mlp_out')(hidden_BTF)


class Block(nn.Module):
  """Attention then MLP, each residual; LayerNorm before or after."""

  num_heads: int
  mlp_hidden: int
  activation: Callable
  glu: bool
  pre_layer_norm: bool
  attention_temperature: float

  @nn.compact
  def __call__(self, x_BTD, train, dropout_rate):
    attention = CausalSelfAttention(self.num_heads, self.attention_temperature)
    mlp = Mlp(self.mlp_hidden, self.activation, self.glu)
    for sublayer, norm_name in ((attention, 'norm_attention'),
                                (mlp, 'norm_mlp')):
      norm = nn.LayerNorm(name=norm_name)
      dropout = layers.Dropout(rate=dropout_rate, deterministic=not train)
      if self.pre_layer_norm:
        x_BTD = x_BTD + dropout(sublayer(norm(x_BTD)))
      else:
        x_BTD = norm(x_BTD + dropout(sublayer(x_BTD)))
    return x_BTD


class DecoderLM(nn.Module):
  """Logits [B, T, vocab] for next-token prediction from ids [B, T]."""

  vocab_size: int = 128
  max_length: int = 64
  width: int = 96
  depth: int = 2
  num_heads: int = 4
  mlp_ratio: int = 4
  activation: Callable = nn.gelu
  glu: bool = False
  pre_layer_norm: bool = True
  attention_temperature: float = 1.0

  @nn.compact
  def __call__(self, x, *, train, update_batch_norm=False, dropout_rate=0.0):
    del update_batch_norm  # No BatchNorm here.
    ids_BT = x.astype(jnp.int32)
    length = ids_BT.shape[1]
    x_BTD = nn.Embed(self.vocab_size, self.width, embedding_init=_EMBED_INIT,
                     name='token_embed')(ids_BT)
    x_BTD = x_BTD + nn.Embed(self.max_length, self.width,
                             embedding_init=_EMBED_INIT,
                             name='position_embed')(jnp.arange(length))
    x_BTD = layers.Dropout(rate=dropout_rate, deterministic=not train)(x_BTD)
    for i in range(self.depth):
      x_BTD = Block(
        num_heads=self.num_heads,
        mlp_hidden=self.mlp_ratio * self.width,
        activation=self.activation,
        glu=self.glu,
        pre_layer_norm=self.pre_layer_norm,
        attention_temperature=self.attention_temperature,
        name=f'Block_{i}',
      )(x_BTD, train, dropout_rate)
    if self.pre_layer_norm:  # Post-LN blocks already end normalised.
      x_BTD = nn.LayerNorm(name='norm_final')(x_BTD)
    return nn.Dense(self.vocab_size, name='Dense_out')(x_BTD)


def init_inputs(max_length: int = 64, batch_size: int = 1):
  return jnp.zeros((batch_size, max_length), jnp.int32)
