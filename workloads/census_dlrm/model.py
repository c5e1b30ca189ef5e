"""DLRM-small (as AlgoPerf's criteo1tb model), scaled to the census table.

Dense features go through a bottom MLP; each categorical id looks up a row
of one shared embedding table; the bottom output and the embeddings
interact through pairwise dot products; a top MLP maps the bottom output
and the interactions to one logit.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp

from algoperf import layers

INPUT_KEYS = ('numeric', 'categorical')


def dot_interactions(vectors_BFD):
  """Pairwise dot products of F feature vectors: [B, F * (F - 1) / 2]."""
  num_features = vectors_BFD.shape[1]
  gram_BFF = jnp.einsum('bfd,bgd->bfg', vectors_BFD, vectors_BFD)
  rows, cols = jnp.tril_indices(num_features, k=-1)
  return gram_BFF[:, rows, cols]


class DlrmSmall(nn.Module):
  """Logits [B, 1] for census rows.

  Attributes:
    vocab_size: ids in the shared embedding table.
    embed_dim: width of embeddings; also the bottom MLP's output width.
    bottom_dims: bottom MLP widths (the last must equal ``embed_dim``).
    top_dims: top MLP widths (the last is 1, the logit).
    embedding_init_multiplier: stddev of the embedding init; None means
      1 / sqrt(vocab_size) as in AlgoPerf's DLRM.
    use_layer_norm: LayerNorm after every hidden Dense layer.
  """

  vocab_size: int
  embed_dim: int = 16
  bottom_dims: Sequence[int] = (32, 16)
  top_dims: Sequence[int] = (64, 32, 1)
  embedding_init_multiplier: float | None = None
  use_layer_norm: bool = False

  def _hidden(self, x, width, name):
    x = nn.Dense(width, kernel_init=nn.initializers.glorot_normal(), name=name)(
      x
    )
    if self.use_layer_norm:
      x = nn.LayerNorm(name=f'{name}_layernorm')(x)
    return nn.relu(x)

  @nn.compact
  def __call__(
    self, inputs, *, train, update_batch_norm=False, dropout_rate=0.0
  ):
    del update_batch_norm
    x = inputs['numeric']
    for i, width in enumerate(self.bottom_dims):
      x = self._hidden(x, width, f'bottom_{i}')
    scale = self.embedding_init_multiplier
    if scale is None:
      scale = 1.0 / jnp.sqrt(self.vocab_size)
    table = self.param(
      'embedding',
      nn.initializers.normal(stddev=scale),
      (self.vocab_size, self.embed_dim),
    )
    embedded_BFD = table[inputs['categorical']]
    vectors_BFD = jnp.concatenate([x[:, None], embedded_BFD], axis=1)
    x = jnp.concatenate([x, dot_interactions(vectors_BFD)], axis=-1)
    for i, width in enumerate(self.top_dims[:-1]):
      x = self._hidden(x, width, f'top_{i}')
      if i == len(self.top_dims) - 2:  # Dropout before the logit layer.
        # The rate may be traced: AlgoPerf submissions jit model_fn.
        x = layers.Dropout(rate=dropout_rate)(x, deterministic=not train)
    return nn.Dense(
      self.top_dims[-1],
      name='Dense_out',
      kernel_init=nn.initializers.glorot_normal(),
    )(x)


def init_inputs(num_numeric: int, num_categorical: int, batch_size: int = 1):
  return {
    'numeric': jnp.zeros((batch_size, num_numeric)),
    'categorical': jnp.zeros((batch_size, num_categorical), jnp.int32),
  }
