"""ogbg-molpcba from the TFDS copy AlgoPerf prepares, as graph records.

Data side of ogbg (AlgoPerf 2c90454, ``ogbg/input_pipeline.py``). AlgoPerf
builds TFDS ``ogbg_molpcba:0.1.3`` (TFRecord shards); this reads those
shards (``algoperf.data.tfrecord``, no TensorFlow) and stores per graph:
``node_feat`` float32 [n, 9], ``edge_feat`` float32 [m, 3], ``edge_index``
int32 [m, 2] and ``labels`` float32 [128] (NaN: no label).

``--source`` is the TFDS data folder AlgoPerf's ``dataset_setup.py --ogbg``
writes: it holds ``ogbg_molpcba/0.1.3/`` (``dataset_info.json`` and the
``ogbg_molpcba-{train,validation,test}.tfrecord-*`` shards).
"""

import numpy as np

from algoperf.data import raw
from algoperf.data import tfrecord
from algoperf.errors import DataError

TFDS_DIR = ('ogbg_molpcba', '0.1.3')
AVG_NODES_PER_GRAPH = 26
AVG_EDGES_PER_GRAPH = 56
NUM_TASKS = 128


class OgbgMolpcba(raw.RawDataset):
  name = 'ogbg_molpcba'
  features = {'node_feat': 'float32', 'edge_feat': 'float32',
              'edge_index': 'int32', 'labels': 'float32'}
  source_layout = (
    'ogbg_molpcba/0.1.3/ (the TFDS folder AlgoPerf\'s dataset_setup.py '
    '--ogbg prepares: dataset_info.json and TFRecord shards).')

  def plan(self, source):
    directory = source.joinpath(*TFDS_DIR)
    if not directory.is_dir():
      raise self.missing(directory, 'TFDS ogbg_molpcba:0.1.3')
    files = {split: tfrecord.split_shards(directory, split)
             for split in self.splits}
    size = raw.file_size([p for shards in files.values() for p in shards])
    return raw.Plan(files=files, estimate_bytes=int(size * 1.1) + (1 << 20))

  def stored_arrays(self, records, split):
    return stored_arrays(records, split)  # The module's function, below.

  def examples(self, split, plan, source):
    for shard in plan.files[split]:
      for data in tfrecord.read_records(shard):
        yield _graph(tfrecord.parse_example(data), shard)


def _graph(example: dict, where) -> dict:
  try:
    num_nodes = int(example['num_nodes'][0])
    num_edges = int(example['num_edges'][0])
    graph = {
      'node_feat': example['node_feat'].reshape(num_nodes, 9),
      'edge_feat': example['edge_feat'].reshape(num_edges, 3),
      'edge_index': example['edge_index'].reshape(num_edges, 2)
      .astype(np.int32),
      'labels': example['labels'].reshape(NUM_TASKS),
    }
  except (KeyError, IndexError, ValueError) as e:
    raise DataError(f'{where}: an example does not have ogbg_molpcba\'s '
                    f'features ({type(e).__name__}: {e}); prepare it again '
                    'with tfds ogbg_molpcba:0.1.3.') from None
  return graph


def stored_arrays(records, split) -> dict:
  """An eval split in memory, the model side's stored form (its mean
  average precision is computed over whole splits): per graph, padded to
  the split's largest graph, ``nodes`` [N, n, 9], ``edges`` [N, 2m, 3]
  with ``senders`` / ``receivers`` [N, 2m] (each bond in both directions,
  node ids local to the graph), ``num_nodes``, ``num_edges`` (= 2 x bonds)
  and ``labels`` [N, 128] (NaN: missing)."""
  del split
  num = len(records)
  max_nodes = max((len(r['node_feat']) for r in records), default=1)
  max_edges = 2 * max((len(r['edge_feat']) for r in records), default=1)
  out = {'nodes': np.zeros((num, max_nodes, 9), np.float32),
         'edges': np.zeros((num, max_edges, 3), np.float32),
         'senders': np.zeros((num, max_edges), np.int32),
         'receivers': np.zeros((num, max_edges), np.int32),
         'num_nodes': np.zeros(num, np.int32),
         'num_edges': np.zeros(num, np.int32),
         'labels': np.zeros((num, NUM_TASKS), np.float32)}
  for i, record in enumerate(records):
    n, m = len(record['node_feat']), len(record['edge_feat'])
    s, r = record['edge_index'][:, 0], record['edge_index'][:, 1]
    out['nodes'][i, :n] = record['node_feat']
    out['edges'][i, :2 * m] = np.concatenate([record['edge_feat']] * 2)
    out['senders'][i, :2 * m] = np.concatenate([s, r])
    out['receivers'][i, :2 * m] = np.concatenate([r, s])
    out['num_nodes'][i], out['num_edges'][i] = n, 2 * m
    out['labels'][i] = record['labels']
  return out


DATASET = OgbgMolpcba()


def pack(graphs: list, per_device: int) -> dict:
  """One device's sub-batch, as jraph.dynamically_batch + pad_with_graphs.

  Graphs are taken in order while they fit the budgets (26 b nodes, 56 b
  edges, b graphs, each edge stored in both directions); AlgoPerf's stream
  carries a graph that does not fit into the next batch, batch k here
  drops it (batches are addressed by index; it is rare: the budgets are
  the mean sizes times b). One padding graph then takes the remaining node
  and edge slots, and empty graphs fill the remaining graph slots.
  """
  max_nodes = AVG_NODES_PER_GRAPH * per_device + 1
  max_edges = AVG_EDGES_PER_GRAPH * per_device
  max_graphs = per_device + 1
  nodes, edges, senders, receivers, n_node, n_edge, labels = (
    [], [], [], [], [], [], [])
  total_nodes = total_edges = 0
  for graph in graphs:
    if graph.get('_padding'):
      continue  # Filler of a padded eval batch: a padding graph instead.
    n = len(graph['node_feat'])
    m = 2 * len(graph['edge_feat'])
    if (total_nodes + n > max_nodes - 1 or total_edges + m > max_edges
        or len(n_node) + 1 > max_graphs - 1):
      continue
    s, r = graph['edge_index'][:, 0], graph['edge_index'][:, 1]
    nodes.append(graph['node_feat'])
    edges.append(np.concatenate([graph['edge_feat'], graph['edge_feat']]))
    senders.append(np.concatenate([s, r]) + total_nodes)
    receivers.append(np.concatenate([r, s]) + total_nodes)
    labels.append(graph['labels'])
    n_node.append(n)
    n_edge.append(m)
    total_nodes += n
    total_edges += m
  real = len(n_node)
  pad_nodes, pad_edges = max_nodes - total_nodes, max_edges - total_edges
  nodes.append(np.zeros((pad_nodes, 9), np.float32))
  edges.append(np.zeros((pad_edges, 3), np.float32))
  senders.append(np.full(pad_edges, total_nodes, np.int32))
  receivers.append(np.full(pad_edges, total_nodes, np.int32))
  n_node += [pad_nodes] + [0] * (max_graphs - real - 1)
  n_edge += [pad_edges] + [0] * (max_graphs - real - 1)
  label_array = np.zeros((max_graphs, NUM_TASKS), np.float32)
  label_array[:real] = np.stack(labels) if labels else 0.0
  present = ~np.isnan(label_array)
  present[real:] = False
  return {
    'inputs': {
      'nodes': np.concatenate(nodes).astype(np.float32),
      'edges': np.concatenate(edges).astype(np.float32),
      'senders': np.concatenate(senders).astype(np.int32),
      'receivers': np.concatenate(receivers).astype(np.int32),
      'n_node': np.asarray(n_node, np.int32),
      'n_edge': np.asarray(n_edge, np.int32),
    },
    'targets': np.nan_to_num(label_array, nan=0.0),
    'weights': present.astype(np.float32),
  }


def concat_sub_batches(parts: list) -> dict:
  """Device sub-batches -> one global batch (node ids offset per part)."""
  offset, senders, receivers = 0, [], []
  for part in parts:
    senders.append(part['inputs']['senders'] + offset)
    receivers.append(part['inputs']['receivers'] + offset)
    offset += len(part['inputs']['nodes'])
  inputs = {k: np.concatenate([p['inputs'][k] for p in parts])
            for k in ('nodes', 'edges', 'n_node', 'n_edge')}
  inputs.update(senders=np.concatenate(senders),
                receivers=np.concatenate(receivers))
  return {'inputs': inputs,
          'targets': np.concatenate([p['targets'] for p in parts]),
          'weights': np.concatenate([p['weights'] for p in parts])}


def decode_batch(records: list, split: str, rng, num_devices=None) -> dict:
  """Stored graphs -> AlgoPerf's padded graph batch (see the model side's
  README "Batch format"): one sub-batch of b = B / D graphs per device."""
  del split, rng
  if num_devices is None:
    import jax

    num_devices = jax.local_device_count()
  per_device = len(records) // num_devices
  if per_device * num_devices != len(records):
    raise ValueError(f'batch of {len(records)} graphs does not split over '
                     f'{num_devices} devices')
  return concat_sub_batches([
    pack(records[d * per_device:(d + 1) * per_device], per_device)
    for d in range(num_devices)])

# The name the model side imports (workload.py: dataset_builder).
BUILDER = DATASET
