"""A GraphNet (edge, node and global updates) on padded molecular graphs.

The same update scheme as AlgoPerf's ogbg model (jraph's GraphNetwork with
LayerNorm MLPs), written on fixed-shape padded batches: every graph has
``N`` node slots and ``E`` edge slots with 0/1 masks. Node ids are offset
per graph so that gathers and ``segment_sum`` work on one flat batched
graph, as jraph does; masks keep padded slots out of every sum.
"""

from collections.abc import Callable
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from algoperf import layers

GRAPH_KEYS = (
  'nodes',
  'edges',
  'senders',
  'receivers',
  'node_mask',
  'edge_mask',
)


class MLP(nn.Module):
  """Dense -> LayerNorm -> activation -> dropout, per hidden width."""

  widths: Sequence[int]
  activation: Callable
  dropout_rate: float = 0.0  # May be traced: AlgoPerf submissions jit it.

  @nn.compact
  def __call__(self, x, *, train):
    for width in self.widths:
      x = nn.Dense(width)(x)
      x = nn.LayerNorm()(x)
      x = self.activation(x)
      x = layers.Dropout(rate=self.dropout_rate)(x, deterministic=not train)
    return x


class GraphNet(nn.Module):
  """Logits [B, num_outputs] for a batch of padded graphs.

  Attributes:
    latent_dim: width of the node and edge embeddings and of the globals.
    hidden_dims: layer widths of each update MLP (the last one is the width
      of the updated latents).
    num_message_passing_steps: rounds of edge -> node -> global updates.
    activation: the MLPs' nonlinearity.
    num_outputs: number of classes.
  """

  latent_dim: int = 32
  hidden_dims: Sequence[int] = (32,)
  num_message_passing_steps: int = 3
  activation: Callable = nn.relu
  num_outputs: int = 3

  @nn.compact
  def __call__(
    self, graph, *, train, update_batch_norm=False, dropout_rate=0.0
  ):
    del update_batch_norm
    node_mask = graph['node_mask'][..., None]  # [B, N, 1]
    edge_mask = graph['edge_mask'][..., None]  # [B, E, 1]
    batch_size, num_slots = graph['nodes'].shape[:2]
    num_edges = graph['edges'].shape[1]
    # Flat node ids across the batch, as jraph numbers a batched graph.
    offsets = (jnp.arange(batch_size) * num_slots)[:, None]
    senders = (graph['senders'] + offsets).reshape(-1)
    receivers = (graph['receivers'] + offsets).reshape(-1)

    def gather(nodes_BND, ids):
      flat = nodes_BND.reshape(batch_size * num_slots, -1)
      return flat[ids].reshape(batch_size, num_edges, -1)

    def scatter_sum(edges_BED, ids):
      flat = edges_BED.reshape(batch_size * num_edges, -1)
      summed = jax.ops.segment_sum(flat, ids, batch_size * num_slots)
      return summed.reshape(batch_size, num_slots, -1)

    nodes = nn.Dense(self.latent_dim, name='node_embed')(graph['nodes'])
    edges = nn.Dense(self.latent_dim, name='edge_embed')(graph['edges'])
    nodes, edges = nodes * node_mask, edges * edge_mask
    globals_ = jnp.zeros((batch_size, self.latent_dim), nodes.dtype)

    def mlp(name):
      return MLP(
        tuple(self.hidden_dims), self.activation, dropout_rate, name=name
      )

    def with_globals(features, by_sender, by_receiver):
      """Each slot's features, its two ends' (or sums) and the globals."""
      slots = features.shape[1]
      repeated = jnp.repeat(globals_[:, None], slots, axis=1)
      return jnp.concatenate(
        [features, by_sender, by_receiver, repeated], axis=-1)

    for step in range(self.num_message_passing_steps):
      edge_inputs = with_globals(
        edges, gather(nodes, senders), gather(nodes, receivers))
      # Masking keeps padded edges out of every sum below.
      edges = mlp(f'edge_update_{step}')(edge_inputs, train=train) * edge_mask
      node_inputs = with_globals(
        nodes, scatter_sum(edges, senders), scatter_sum(edges, receivers))
      nodes = mlp(f'node_update_{step}')(node_inputs, train=train) * node_mask
      global_inputs = jnp.concatenate(
        [globals_, nodes.sum(axis=1), edges.sum(axis=1)], axis=-1
      )
      globals_ = mlp(f'global_update_{step}')(global_inputs, train=train)
    return nn.Dense(self.num_outputs, name='Dense_out')(globals_)


def init_inputs(
  num_nodes: int,
  num_edges: int,
  num_node_features: int,
  num_edge_features: int,
  batch_size: int = 1,
):
  """A zero batch of padded graphs of the stored shapes."""
  return {
    'nodes': jnp.zeros((batch_size, num_nodes, num_node_features)),
    'edges': jnp.zeros((batch_size, num_edges, num_edge_features)),
    'senders': jnp.zeros((batch_size, num_edges), jnp.int32),
    'receivers': jnp.zeros((batch_size, num_edges), jnp.int32),
    'node_mask': jnp.zeros((batch_size, num_nodes)),
    'edge_mask': jnp.zeros((batch_size, num_edges)),
  }
