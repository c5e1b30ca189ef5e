"""ViT-S/16 as AlgoPerf's imagenet_vit JAX model (after big_vision).

Matches mlcommons/algorithmic-efficiency at 2c90454
(imagenet_vit/imagenet_jax/models.py) in architecture, initialisation and
parameter names, so parameter trees compare path by path:

- ``conv_patch_extract``: a 16x16 stride-16 convolution to width 384
  (196 tokens for a 224x224 image), plus a fixed 2-D sin-cos position
  embedding; no class token;
- ``Transformer``: 12 ``encoderblock_<i>`` (6 heads, MLP 1536; attention and
  MLP kernels Xavier-uniform, MLP biases ~ N(0, 1e-6)); pre-LayerNorm blocks
  and a final ``encoder_layernorm``, or with ``use_post_layer_norm`` a
  LayerNorm after each residual sum and no final one;
- pooling: the mean over tokens, or with ``use_map`` multihead attention
  pooling (``MAPHead_0``: a learned probe attends over the tokens, then a
  LayerNorm'd MLP residual);
- ``pre_logits`` (dense 384 + tanh) and a zero-initialised ``head``.

``use_glu``: the MLP multiplies its GELU output by a dense projection *of
that GELU output* (``Dense_1``, 1536x1536), as AlgoPerf's does.

Dropout (rate from ``model_fn``, default 0) follows the position embedding,
each attention and MLP branch, and the MLP's hidden layer, when training.
"""

import flax.linen as nn
import jax.numpy as jnp

from algoperf import layers

# decode_variant('S/16') of AlgoPerf's imagenet_vit/workload.py.
VIT_S16 = dict(width=384, depth=12, mlp_dim=1536, num_heads=6,
               patch_size=(16, 16))

_xavier = nn.initializers.xavier_uniform()


def posemb_sincos_2d(height: int, width: int, dim: int,
                     temperature: float = 10_000.0, dtype=jnp.float32):
  """Fixed [1, height * width, dim] embedding (MoCo v3 / big_vision)."""
  if dim % 4:
    raise ValueError(f'ViT width {dim} must be a multiple of 4 for the '
                     'sin-cos position embedding.')
  quarter = dim // 4
  omega = 1.0 / temperature ** (jnp.arange(quarter) / (quarter - 1))
  rows, cols = jnp.mgrid[:height, :width]
  y = rows.reshape(-1)[:, None] * omega[None, :]
  x = cols.reshape(-1)[:, None] * omega[None, :]
  table = jnp.concatenate(
    [jnp.sin(x), jnp.cos(x), jnp.sin(y), jnp.cos(y)], axis=1)
  return table.astype(dtype)[None]


class MlpBlock(nn.Module):
  """Dense -> GELU (-> gate) -> dropout -> Dense back to the input width."""

  mlp_dim: int
  use_glu: bool = False

  @nn.compact
  def __call__(self, x, *, train=False, dropout_rate=0.0):
    def dense(features):
      return nn.Dense(features, kernel_init=_xavier,
                      bias_init=nn.initializers.normal(stddev=1e-6))

    width = x.shape[-1]
    y = nn.gelu(dense(self.mlp_dim)(x))
    if self.use_glu:
      y = y * dense(self.mlp_dim)(y)  # Gate computed from the GELU output.
    y = layers.Dropout(rate=dropout_rate)(y, deterministic=not train)
    return dense(width)(y)


def _attention(num_heads, **kwargs):
  return nn.MultiHeadDotProductAttention(
    num_heads=num_heads, kernel_init=_xavier, deterministic=True, **kwargs)


class Encoder1DBlock(nn.Module):
  """Self-attention then MLP, each a residual branch."""

  mlp_dim: int
  num_heads: int
  use_glu: bool = False
  use_post_layer_norm: bool = False

  @nn.compact
  def __call__(self, x, *, train=False, dropout_rate=0.0):
    def drop(y):
      return layers.Dropout(rate=dropout_rate)(y, deterministic=not train)

    attention = _attention(self.num_heads,
                           name='MultiHeadDotProductAttention_1')
    mlp = MlpBlock(self.mlp_dim, self.use_glu, name='MlpBlock_3')
    if self.use_post_layer_norm:
      x = nn.LayerNorm(name='LayerNorm_0')(x + drop(attention(x)))
      y = mlp(x, train=train, dropout_rate=dropout_rate)
      return nn.LayerNorm(name='LayerNorm_2')(x + drop(y))
    x = x + drop(attention(nn.LayerNorm(name='LayerNorm_0')(x)))
    y = mlp(nn.LayerNorm(name='LayerNorm_2')(x), train=train,
            dropout_rate=dropout_rate)
    return x + drop(y)


class Encoder(nn.Module):
  """``depth`` encoder blocks (+ a final LayerNorm when pre-LN)."""

  depth: int
  mlp_dim: int
  num_heads: int
  use_glu: bool = False
  use_post_layer_norm: bool = False

  @nn.compact
  def __call__(self, x, *, train=False, dropout_rate=0.0):
    for i in range(self.depth):
      x = Encoder1DBlock(self.mlp_dim, self.num_heads, self.use_glu,
                         self.use_post_layer_norm, name=f'encoderblock_{i}')(
        x, train=train, dropout_rate=dropout_rate)
    if self.use_post_layer_norm:
      return x
    return nn.LayerNorm(name='encoder_layernorm')(x)


class MAPHead(nn.Module):
  """Multihead attention pooling: one learned query over all tokens."""

  mlp_dim: int
  num_heads: int

  @nn.compact
  def __call__(self, x):
    batch, _, width = x.shape
    probe = self.param('probe', _xavier, (1, 1, width), x.dtype)
    pooled = _attention(self.num_heads)(jnp.tile(probe, [batch, 1, 1]), x)
    # No dropout in the head: AlgoPerf's MAPHead never passes its rate on.
    pooled = pooled + MlpBlock(self.mlp_dim)(nn.LayerNorm()(pooled))
    return pooled[:, 0]


class ViT(nn.Module):
  """Vision Transformer; inputs [B, 224, 224, 3] normalised RGB."""

  num_classes: int = 1000
  width: int = VIT_S16['width']
  depth: int = VIT_S16['depth']
  mlp_dim: int = VIT_S16['mlp_dim']
  num_heads: int = VIT_S16['num_heads']
  patch_size: tuple[int, int] = VIT_S16['patch_size']
  use_glu: bool = False
  use_post_layer_norm: bool = False
  use_map: bool = False

  @nn.compact
  def __call__(self, inputs, *, train=False, update_batch_norm=False,
               dropout_rate=0.0):
    del update_batch_norm  # No BatchNorm.
    dropout_rate = 0.0 if dropout_rate is None else dropout_rate
    x = nn.Conv(self.width, self.patch_size, strides=self.patch_size,
                padding='VALID', name='conv_patch_extract')(inputs)
    batch, height, width, channels = x.shape
    x = jnp.reshape(x, [batch, height * width, channels])
    x = x + posemb_sincos_2d(height, width, channels, dtype=x.dtype)
    x = layers.Dropout(rate=dropout_rate)(x, deterministic=not train)
    x = Encoder(self.depth, self.mlp_dim, self.num_heads, self.use_glu,
                self.use_post_layer_norm, name='Transformer')(
      x, train=train, dropout_rate=dropout_rate)
    if self.use_map:
      x = MAPHead(self.mlp_dim, self.num_heads)(x)
    else:
      x = jnp.mean(x, axis=1)
    x = nn.tanh(nn.Dense(self.width, name='pre_logits')(x))
    return nn.Dense(self.num_classes, kernel_init=nn.initializers.zeros,
                    name='head')(x)


def init_inputs(batch_size: int = 1):
  """AlgoPerf's init input: ones [batch, 224, 224, 3]."""
  return jnp.ones((batch_size, 224, 224, 3), jnp.float32)
