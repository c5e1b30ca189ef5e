"""AlgoPerf's ogbg GNN (init2winit's GraphNetwork) on jraph-style graphs.

A graph batch is a dict of flat arrays as jraph's ``GraphsTuple`` holds
them (README.md, "Batch format"): ``nodes`` [N, 9], ``edges`` [E, 3],
``senders``/``receivers`` [E] (global node ids), ``n_node``/``n_edge`` [G].
Each message-passing step is one full GraphNetwork update, in jraph's
order: edges from (edge, sender node, receiver node, graph globals); nodes
from (node, summed outgoing edges, summed incoming edges, graph globals);
globals from (summed nodes, summed edges, globals); no residuals. Every
update is an MLP of Dense -> LayerNorm -> activation -> dropout layers.
The globals start as zeros of width ``num_outputs`` and a last Dense maps
them to the logits. Layers are created in AlgoPerf's order with flax's
automatic names, so the parameter tree is AlgoPerf's path for path.
"""

from collections.abc import Callable
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from algoperf import layers
from workloads.ogbg.graphs import NUM_EDGE_FEATURES
from workloads.ogbg.graphs import NUM_NODE_FEATURES
from workloads.ogbg.graphs import NUM_TASKS

GRAPH_KEYS = ('nodes', 'edges', 'senders', 'receivers', 'n_node', 'n_edge')


def _per_item(values_G, counts_G, total: int):
  """Each graph's value repeated once per node (or edge) it owns."""
  return jnp.repeat(values_G, counts_G, axis=0, total_repeat_length=total)


class GNN(nn.Module):
  """Logits [G, num_outputs], one row per graph (padding graphs included).

  Attributes:
    num_outputs: tasks (128 for ogbg-molpcba); also the initial globals'
      width, as in AlgoPerf.
    latent_dim: width of the node and edge embeddings.
    hidden_dims: layer widths of every update MLP.
    num_message_passing_steps: GraphNetwork updates.
    activation: the MLPs' nonlinearity.
  """

  num_outputs: int = NUM_TASKS
  latent_dim: int = 256
  hidden_dims: Sequence[int] = (256,)
  num_message_passing_steps: int = 5
  activation: Callable = nn.relu

  @nn.compact
  def __call__(self, graph, *, train, update_batch_norm=False,
               dropout_rate=0.1):
    del update_batch_norm
    senders, receivers = graph['senders'], graph['receivers']
    n_node, n_edge = graph['n_node'], graph['n_edge']
    num_nodes, num_edges = graph['nodes'].shape[0], graph['edges'].shape[0]
    num_graphs = n_node.shape[0]
    graph_ids = jnp.arange(num_graphs)
    node_graph = _per_item(graph_ids, n_node, num_nodes)
    edge_graph = _per_item(graph_ids, n_edge, num_edges)

    def mlp(*parts):
      x = jnp.concatenate(parts, axis=-1)
      for width in self.hidden_dims:
        x = nn.Dense(width)(x)
        x = nn.LayerNorm()(x)
        x = self.activation(x)
        # The rate may be traced: AlgoPerf submissions jit model_fn.
        x = layers.Dropout(rate=dropout_rate)(x, deterministic=not train)
      return x

    nodes = nn.Dense(self.latent_dim, name='node_embedding')(graph['nodes'])
    edges = nn.Dense(self.latent_dim, name='edge_embedding')(graph['edges'])
    globals_ = jnp.zeros((num_graphs, self.num_outputs), nodes.dtype)
    for _ in range(self.num_message_passing_steps):
      edges = mlp(edges, nodes[senders], nodes[receivers],
                  _per_item(globals_, n_edge, num_edges))
      nodes = mlp(nodes,
                  jax.ops.segment_sum(edges, senders, num_nodes),
                  jax.ops.segment_sum(edges, receivers, num_nodes),
                  _per_item(globals_, n_node, num_nodes))
      globals_ = mlp(jax.ops.segment_sum(nodes, node_graph, num_graphs),
                     jax.ops.segment_sum(edges, edge_graph, num_graphs),
                     globals_)
    return nn.Dense(self.num_outputs)(globals_)


def init_inputs():
  """AlgoPerf's init graph: one node, one self-loop edge, one graph."""
  return {
    'nodes': jnp.ones((1, NUM_NODE_FEATURES)),
    'edges': jnp.ones((1, NUM_EDGE_FEATURES)),
    'senders': jnp.zeros((1,), jnp.int32),
    'receivers': jnp.zeros((1,), jnp.int32),
    'n_node': jnp.ones((1,), jnp.int32),
    'n_edge': jnp.ones((1,), jnp.int32),
  }
