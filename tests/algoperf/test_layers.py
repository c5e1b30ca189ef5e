"""algoperf.layers.Dropout: a traced rate, flax's call convention."""

import jax
import jax.numpy as jnp
import numpy as np

from algoperf import layers


def _apply(rate, inputs, **settings):
  """Dropout applied with ``rate`` passed into jit: a tracer."""
  rngs = {'dropout': jax.random.PRNGKey(0)}
  return jax.jit(lambda r, x: layers.Dropout(r, **settings).apply(
    {}, x, deterministic=False, rngs=rngs))(rate, inputs)


def test_a_traced_rate_drops_and_rescales():
  out = np.asarray(_apply(0.5, jnp.ones((64, 64))))
  assert set(np.unique(out)) == {0.0, 2.0}
  assert 0.4 < (out == 0).mean() < 0.6


def test_broadcast_dims_share_one_decision_along_those_axes():
  out = np.asarray(_apply(0.5, jnp.ones((4, 8, 8, 16)), broadcast_dims=(1, 2)))
  per_channel = out.reshape(4, 64, 16)
  assert (per_channel == per_channel[:, :1, :]).all(), (
    'one keep/drop decision per (example, channel), shared over H and W')
  assert 0 < (per_channel[:, 0, :] == 0).mean() < 1
