"""DLRM-small and DLRM-ResNet on Criteo 1TB rows, as AlgoPerf's criteo1tb.

Both take AlgoPerf's batch ``inputs`` [B, 13 + 26] float32: 13 log-scaled
dense features, then 26 hashed categorical ids stored as floats (see
README.md); the ids index one shared embedding table modulo its size.
Layer names are flax's automatic ones in AlgoPerf's creation order
(``Dense_0``.., ``LayerNorm_0``.., ``embedding_table``), so our parameter
trees are AlgoPerf's path for path.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from algoperf import layers

NUM_DENSE_FEATURES = 13
NUM_CATEGORICAL_FEATURES = 26
VOCAB_SIZE = 32 * 128 * 1024  # 4,194,304 rows in the one shared table.


def _normal(stddev):
  return nn.initializers.normal(stddev=stddev)


def _split_features(inputs, num_dense: int):
  """Dense features and int32 row ids (the float ids cast back)."""
  dense, categorical = inputs[:, :num_dense], inputs[:, num_dense:]
  return dense, categorical.astype(jnp.int32)


def _embedding_table(module, vocab_size, embed_dim, scale):
  """[vocab, dim] drawn uniform on [0, 1) times ``scale``, as AlgoPerf."""

  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype) * scale

  return module.param('embedding_table', init, (vocab_size, embed_dim))


def dot_interactions(features_BFD):
  """Upper triangle (diagonal included) of each row's F x F Gram matrix.

  [B, F, D] -> [B, F (F + 1) / 2], row-major over (i <= j) as AlgoPerf's
  ``dot_interact`` orders it.
  """
  gram_BFF = jnp.einsum('bfd,bgd->bfg', features_BFD, features_BFD)
  rows, cols = jnp.triu_indices(features_BFD.shape[1])
  return gram_BFF[:, rows, cols]


class DlrmSmall(nn.Module):
  """Logits [B, 1]: bottom MLP, embeddings, dot interactions, top MLP.

  Attributes:
    vocab_size: rows of the shared embedding table.
    num_dense_features: leading columns of ``inputs`` that are dense.
    mlp_bottom_dims: bottom MLP widths (the last equals ``embed_dim``).
    mlp_top_dims: top MLP widths (the last is 1, the logit).
    embed_dim: embedding width.
    use_layer_norm: LayerNorm after every hidden ReLU and on the embeddings
      (criteo1tb_layernorm).
    embedding_init_multiplier: scale of the uniform embedding init; None
      means 1 / sqrt(vocab_size) (criteo1tb_embed_init sets 1.0).
  """

  vocab_size: int = VOCAB_SIZE
  num_dense_features: int = NUM_DENSE_FEATURES
  mlp_bottom_dims: Sequence[int] = (512, 256, 128)
  mlp_top_dims: Sequence[int] = (1024, 1024, 512, 256, 1)
  embed_dim: int = 128
  use_layer_norm: bool = False
  embedding_init_multiplier: float | None = None

  @nn.compact
  def __call__(self, inputs, *, train, update_batch_norm=False,
               dropout_rate=0.0):
    del update_batch_norm
    x, ids = _split_features(inputs, self.num_dense_features)
    for width in self.mlp_bottom_dims:
      x = nn.Dense(width, kernel_init=nn.initializers.glorot_uniform(),
                   bias_init=_normal(jnp.sqrt(1.0 / width)))(x)
      x = nn.relu(x)
      if self.use_layer_norm:
        x = nn.LayerNorm()(x)
    bottom_out = x
    batch_size = x.shape[0]

    scale = self.embedding_init_multiplier
    if scale is None:
      scale = 1.0 / jnp.sqrt(self.vocab_size)
    table = _embedding_table(self, self.vocab_size, self.embed_dim, scale)
    embedded = table[ids.reshape(-1) % self.vocab_size]
    embedded_BFD = embedded.reshape(batch_size, -1, self.embed_dim)
    if self.use_layer_norm:
      embedded_BFD = nn.LayerNorm()(embedded_BFD)
    stack_BFD = jnp.concatenate(
      [bottom_out.reshape(batch_size, -1, self.embed_dim), embedded_BFD],
      axis=1)
    x = jnp.concatenate([bottom_out, dot_interactions(stack_BFD)], axis=-1)

    last = len(self.mlp_top_dims) - 1
    for i, fan_out in enumerate(self.mlp_top_dims):
      fan_in = x.shape[-1]
      x = nn.Dense(fan_out,
                   kernel_init=_normal(jnp.sqrt(2.0 / (fan_in + fan_out))),
                   bias_init=_normal(jnp.sqrt(1.0 / fan_out)))(x)
      if i < last:
        x = nn.relu(x)
        if self.use_layer_norm:
          x = nn.LayerNorm()(x)
      if i == last - 1:  # Dropout on the last hidden layer, as AlgoPerf.
        # The rate may be traced: AlgoPerf submissions jit model_fn.
        x = layers.Dropout(rate=dropout_rate)(x, deterministic=not train)
    return x


class DlrmResNet(nn.Module):
  """AlgoPerf's DLRMResNet (criteo1tb_resnet): residual MLPs, no dot
  interactions; the embeddings are concatenated with the bottom output.

  ``use_layer_norm`` and ``embedding_init_multiplier`` exist so every
  variant builds from one set of settings; AlgoPerf's DLRMResNet ignores
  both, and so does this one.
  """

  vocab_size: int = VOCAB_SIZE
  num_dense_features: int = NUM_DENSE_FEATURES
  mlp_bottom_dims: Sequence[int] = (256, 256, 256)
  mlp_top_dims: Sequence[int] = (256, 256, 256, 256, 1)
  embed_dim: int = 128
  use_layer_norm: bool = False  # Ignored, as in AlgoPerf.
  embedding_init_multiplier: float | None = None  # Ignored, as in AlgoPerf.

  @nn.compact
  def __call__(self, inputs, *, train, update_batch_norm=False,
               dropout_rate=0.0):
    del update_batch_norm
    x, ids = _split_features(inputs, self.num_dense_features)
    for i, width in enumerate(self.mlp_bottom_dims):
      h = nn.Dense(width, kernel_init=nn.initializers.glorot_uniform(),
                   bias_init=_normal(1.0 / width**0.5))(x)
      # The first layer changes the width; the others add a residual.
      x = nn.relu(h) if i == 0 else x + nn.relu(h)
    batch_size = x.shape[0]

    table = _embedding_table(self, self.vocab_size, self.embed_dim,
                             1.0 / jnp.sqrt(self.vocab_size))
    embedded = table[ids.reshape(-1) % self.vocab_size]
    x = jnp.concatenate([x, embedded.reshape(batch_size, -1)], axis=1)

    dims = self.mlp_top_dims
    x = nn.relu(nn.Dense(
      dims[0], kernel_init=_normal(jnp.sqrt(2.0 / (x.shape[-1] + dims[0]))),
      bias_init=_normal(jnp.sqrt(1.0 / dims[0])))(x))
    for i in range(1, len(dims) - 1):
      h = nn.Dense(dims[i],
                   kernel_init=_normal(jnp.sqrt(2.0 / (dims[i - 1] + dims[i]))),
                   bias_init=_normal(jnp.sqrt(1.0 / dims[i])))(x)
      h = nn.relu(h)
      if i == len(dims) - 2:  # Dropout on the last hidden layer.
        h = layers.Dropout(rate=dropout_rate)(h, deterministic=not train)
      x = x + h
    return nn.Dense(1, kernel_init=_normal(jnp.sqrt(2.0 / (dims[-2] + 1))),
                    bias_init=_normal(1.0))(x)


def init_inputs(batch_size: int = 2):
  """AlgoPerf's init batch: ones [2, 39] (every id 1)."""
  return jnp.ones(
    (batch_size, NUM_DENSE_FEATURES + NUM_CATEGORICAL_FEATURES), jnp.float32)
