"""Graph batches in AlgoPerf's ogbg layout, without jraph (numpy only).

AlgoPerf builds each batch with jraph: ``dynamically_batch`` fills a batch
with graphs in stream order while they fit a budget, ``pad_with_graphs``
pads it to fixed sizes, ``batch_np`` concatenates the per-device batches.
This module does the same on plain dicts (README.md, "Batch format"):

- a *graph* is ``{'nodes' [n, 9], 'edges' [m, 3], 'senders' [m],
  'receivers' [m] (ids local to the graph), 'labels' [128] (NaN = missing)}``
  with both directions of every bond already present (``from_example``);
- a *batch* is ``{'inputs': {nodes, edges, senders, receivers, n_node,
  n_edge}, 'targets' [G, 128], 'weights' [G, 128]}``.
"""

from collections.abc import Iterable
from collections.abc import Iterator

import numpy as np

# AlgoPerf's per-graph budget (ogbg/input_pipeline.py): a sub-batch of b
# graphs has room for 26 b + 1 nodes, 56 b edges and b + 1 graphs.
AVG_NODES_PER_GRAPH = 26
AVG_EDGES_PER_GRAPH = 56
NUM_TASKS = 128
NUM_NODE_FEATURES = 9
NUM_EDGE_FEATURES = 3


def from_example(node_feat, edge_feat, edge_index, labels) -> dict:
  """One ogbg-molpcba TFDS example as a graph with bidirectional edges.

  ``edge_index`` [m, 2] holds (sender, receiver) per bond; AlgoPerf stores
  every bond twice, forward then backward, with the same features.
  """
  edge_index = np.asarray(edge_index)
  senders, receivers = edge_index[:, 0], edge_index[:, 1]
  return {
    'nodes': np.asarray(node_feat, np.float32),
    'edges': np.concatenate([edge_feat, edge_feat]).astype(np.float32),
    'senders': np.concatenate([senders, receivers]).astype(np.int32),
    'receivers': np.concatenate([receivers, senders]).astype(np.int32),
    'labels': np.asarray(labels, np.float32),
  }


def budget(per_device_batch_size: int) -> tuple[int, int, int]:
  """(nodes, edges, graphs) of one padded sub-batch, padding included."""
  b = per_device_batch_size
  return AVG_NODES_PER_GRAPH * b + 1, AVG_EDGES_PER_GRAPH * b, b + 1


def _fits(nodes: int, edges: int, graphs: int, max_nodes: int,
          max_edges: int, max_graphs: int) -> bool:
  """Whether a sub-batch of these totals leaves room for a padding graph
  (one node, one graph), as jraph.dynamically_batch requires."""
  return (nodes <= max_nodes - 1 and edges <= max_edges
          and graphs <= max_graphs - 1)


def pad_graphs(graphs: list, max_nodes: int, max_edges: int,
               max_graphs: int) -> dict:
  """One padded sub-batch of ``graphs`` (``jraph.pad_with_graphs``).

  ``graphs`` may be empty (an all-padding sub-batch). The first padding
  graph owns every remaining node slot and every
  remaining edge slot (zero features; its edges go from and to its first
  node); further padding graphs are empty. Padding graphs' weights are 0.
  """
  n_node = np.array([len(g['nodes']) for g in graphs], np.int64)
  n_edge = np.array([len(g['edges']) for g in graphs], np.int64)
  if not _fits(n_node.sum(), n_edge.sum(), len(graphs),
                             max_nodes, max_edges, max_graphs):
    raise ValueError(
      f'{len(graphs)} graphs do not fit a batch of {max_nodes} nodes, '
      f'{max_edges} edges and {max_graphs} graphs with room for padding.')
  offsets = np.concatenate([[0], np.cumsum(n_node)[:-1]])
  pad_nodes = max_nodes - n_node.sum()
  pad_edges = max_edges - n_edge.sum()
  pad_graphs_ = max_graphs - len(graphs)

  def with_pad(parts, pad_shape, dtype, fill=0):
    return np.concatenate(
      [*(np.asarray(p, dtype) for p in parts), np.full(pad_shape, fill, dtype)])

  first_pad_node = n_node.sum()
  inputs = {
    'nodes': with_pad([g['nodes'] for g in graphs],
                      (pad_nodes, NUM_NODE_FEATURES), np.float32),
    'edges': with_pad([g['edges'] for g in graphs],
                      (pad_edges, NUM_EDGE_FEATURES), np.float32),
    'senders': with_pad([g['senders'] + o for g, o in zip(graphs, offsets)],
                        (pad_edges,), np.int32, first_pad_node),
    'receivers': with_pad([g['receivers'] + o
                           for g, o in zip(graphs, offsets)],
                          (pad_edges,), np.int32, first_pad_node),
    'n_node': with_pad([n_node, [pad_nodes]], (pad_graphs_ - 1,), np.int32),
    'n_edge': with_pad([n_edge, [pad_edges]], (pad_graphs_ - 1,), np.int32),
  }
  labels = with_pad([np.reshape([g['labels'] for g in graphs],
                               (len(graphs), NUM_TASKS))],
                    (pad_graphs_, NUM_TASKS), np.float32)
  present = ~np.isnan(labels)
  real = np.arange(max_graphs) < len(graphs)
  return {
    'inputs': inputs,
    'targets': np.where(present, labels, 0.0).astype(np.float32),
    'weights': (present & real[:, None]).astype(np.float32),
  }


def dynamic_batches(graphs: Iterable[dict],
                    per_device_batch_size: int) -> Iterator[dict]:
  """Padded sub-batches of consecutive graphs (``jraph.dynamically_batch``).

  Graphs are added in order while they fit the budget; a graph that does
  not fit starts the next sub-batch.
  """
  limits = budget(per_device_batch_size)
  pending, nodes, edges = [], 0, 0
  for graph in graphs:
    size = len(graph['nodes']), len(graph['edges'])
    if not _fits(*size, 1, *limits):
      raise ValueError(
        f'A graph of {size[0]} nodes and {size[1]} edges exceeds a batch '
        f'budget of {limits[0] - 1} nodes and {limits[1]} edges; use a '
        'larger batch.')
    if pending and not _fits(nodes + size[0], edges + size[1],
                             len(pending) + 1, *limits):
      yield pad_graphs(pending, *limits)
      pending, nodes, edges = [], 0, 0
    pending.append(graph)
    nodes, edges = nodes + size[0], edges + size[1]
  if pending:
    yield pad_graphs(pending, *limits)


def concatenate(sub_batches: list) -> dict:
  """Per-device sub-batches as one batch (``jraph.batch_np``): node ids are
  offset by the nodes of the sub-batches before, so splitting every array
  into equal parts along axis 0 gives each device its own sub-batch."""
  offset = 0
  senders, receivers = [], []
  for sub in sub_batches:
    senders.append(sub['inputs']['senders'] + offset)
    receivers.append(sub['inputs']['receivers'] + offset)
    offset += len(sub['inputs']['nodes'])
  inputs = {key: np.concatenate([s['inputs'][key] for s in sub_batches])
            for key in ('nodes', 'edges', 'n_node', 'n_edge')}
  inputs['senders'] = np.concatenate(senders)
  inputs['receivers'] = np.concatenate(receivers)
  return {
    'inputs': inputs,
    'targets': np.concatenate([s['targets'] for s in sub_batches]),
    'weights': np.concatenate([s['weights'] for s in sub_batches]),
  }
