"""A tiny Vision Transformer for 28x28 digits (after AlgoPerf's ViT).

Like AlgoPerf's imagenet_vit model (itself after big_vision): a strided
convolution cuts the image into patches (7x7 here, so 4x4 = 16 tokens), a
fixed 2-D sin-cos position embedding is added, pre-LayerNorm encoder blocks
(multi-head self-attention, then a GELU MLP) are followed by a final
LayerNorm, tokens are averaged ('gap' pooling) and a zero-initialised dense
layer gives the logits. Options give AlgoPerf's variants: a GLU in the MLP
(``use_glu``) and LayerNorm after each residual sum (``use_post_layer_norm``).
Smaller than AlgoPerf's S/16: width 64, depth 4, 4 heads, MLP width 256,
and no pre-logits layer.
"""

import flax.linen as nn
import jax.numpy as jnp

from algoperf import layers

_dense_init = nn.initializers.xavier_uniform()


def sincos_2d_embedding(
  height: int, width: int, dim: int, temperature: float = 10_000.0
):
  """Fixed [1, height * width, dim] position embedding (as big_vision)."""
  if dim % 4:
    raise ValueError(f'Width {dim} must be a multiple of 4 for sincos2d.')
  y, x = jnp.mgrid[:height, :width]
  omega = 1.0 / temperature ** (jnp.arange(dim // 4) / (dim // 4 - 1))
  y = y.reshape(-1)[:, None] * omega[None, :]
  x = x.reshape(-1)[:, None] * omega[None, :]
  table = jnp.concatenate(
    [jnp.sin(x), jnp.cos(x), jnp.sin(y), jnp.cos(y)], axis=1
  )
  return table[None]


class MlpBlock(nn.Module):
  """Dense -> GELU (optionally gated) -> dropout -> Dense."""

  mlp_dim: int
  use_glu: bool = False

  @nn.compact
  def __call__(self, x, *, train, dropout_rate=0.0):
    width = x.shape[-1]
    def dense(n):
      return nn.Dense(n, kernel_init=_dense_init,
                      bias_init=nn.initializers.normal(1e-6))

    y = nn.gelu(dense(self.mlp_dim)(x))
    if self.use_glu:
      y = y * dense(self.mlp_dim)(x)
    y = layers.Dropout(rate=dropout_rate)(y, deterministic=not train)
    return dense(width)(y)


class EncoderBlock(nn.Module):
  """Self-attention and MLP, each in a residual branch."""

  mlp_dim: int
  num_heads: int
  use_glu: bool = False
  use_post_layer_norm: bool = False

  @nn.compact
  def __call__(self, x, *, train, dropout_rate=0.0):
    attention = nn.MultiHeadDotProductAttention(
      num_heads=self.num_heads,
      kernel_init=_dense_init,
      deterministic=True,
      name='attention',
    )
    mlp = MlpBlock(self.mlp_dim, self.use_glu, name='mlp')
    def drop(y):
      return layers.Dropout(rate=dropout_rate)(y, deterministic=not train)

    if self.use_post_layer_norm:
      x = nn.LayerNorm(name='LayerNorm_0')(x + drop(attention(x, x)))
      y = mlp(x, train=train, dropout_rate=dropout_rate)
      return nn.LayerNorm(name='LayerNorm_2')(x + drop(y))
    y = nn.LayerNorm(name='LayerNorm_0')(x)
    x = x + drop(attention(y, y))
    y = nn.LayerNorm(name='LayerNorm_2')(x)
    return x + drop(mlp(y, train=train, dropout_rate=dropout_rate))


class DigitsViT(nn.Module):
  """Patches -> position embedding -> encoder -> mean over tokens -> head."""

  patch_size: int = 7
  width: int = 64
  depth: int = 4
  mlp_dim: int | None = 256
  num_heads: int = 4
  use_glu: bool = False
  use_post_layer_norm: bool = False
  num_classes: int = 10

  @nn.compact
  def __call__(self, x, *, train, update_batch_norm=False, dropout_rate=0.0):
    del update_batch_norm  # No BatchNorm.
    if x.ndim == 3:  # [batch, height, width] -> one channel.
      x = x[..., None]
    patch = (self.patch_size, self.patch_size)
    x = nn.Conv(
      self.width,
      patch,
      strides=patch,
      padding='VALID',
      name='conv_patch_extract',
    )(x)
    batch, height, width, channels = x.shape
    x = x.reshape(batch, height * width, channels)
    x = x + sincos_2d_embedding(height, width, channels)
    x = layers.Dropout(rate=dropout_rate)(x, deterministic=not train)
    for i in range(self.depth):
      x = EncoderBlock(
        self.mlp_dim or 4 * self.width,
        self.num_heads,
        self.use_glu,
        self.use_post_layer_norm,
        name=f'encoderblock_{i}',
      )(x, train=train, dropout_rate=dropout_rate)
    if not self.use_post_layer_norm:  # Post-LN blocks end normalised.
      x = nn.LayerNorm(name='encoder_layernorm')(x)
    x = jnp.mean(x, axis=1)
    return nn.Dense(
      self.num_classes, kernel_init=nn.initializers.zeros, name='Dense_out'
    )(x)
