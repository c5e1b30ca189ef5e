"""ogbg: a GNN predicting 128 properties of molecules (AlgoPerf suite).

AlgoPerf's workload at 2c90454 on ogbg-molpcba: masked sigmoid
cross-entropy over 128 binary tasks; the target metric is the validation
mean average precision (higher is better). Facts (targets, budget, step
hint, eval period) live in algoperf/suites/algoperf.json.

Batches are AlgoPerf's flat padded graphs (README.md, "Batch format").
In memory (synthetic data, small splits) every graph is stored in fixed
slots (``STORED_KEYS``); each step's graphs are packed into the flat
layout with AlgoPerf's per-device budget (``graphs.py``).
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from algoperf import base_workload
from algoperf import jax_sharding_utils
from algoperf import spec
from workloads.ogbg import graphs
from workloads.ogbg import metrics
from workloads.ogbg import model

# The in-memory form of a split: one row per graph, padded slots.
STORED_KEYS = ('nodes', 'edges', 'senders', 'receivers', 'num_nodes',
               'num_edges', 'labels')


def _sigmoid_cross_entropy(logits, labels, xp):
  """AlgoPerf's stable form (TF's): max(x, 0) - x y + log(1 + exp(-|x|)).

  ``xp`` is jax.numpy (training) or numpy (eval on the host).
  """
  return (xp.maximum(logits, 0) - logits * labels
          + xp.log(1 + xp.exp(-xp.abs(logits))))


def stored_graph(arrays, i: int) -> dict:
  """Graph ``i`` of a stored split, its padded slots dropped."""
  n, m = int(arrays['num_nodes'][i]), int(arrays['num_edges'][i])
  return {'nodes': arrays['nodes'][i, :n], 'edges': arrays['edges'][i, :m],
          'senders': arrays['senders'][i, :m],
          'receivers': arrays['receivers'][i, :m],
          'labels': arrays['labels'][i]}


def pack_step(arrays, indices, global_batch_size: int) -> dict:
  """One training batch of the graphs at ``indices``, AlgoPerf's layout.

  Each device's share of the indices is packed in order while it fits
  AlgoPerf's budget (26 b + 1 nodes, 56 b edges, b + 1 graphs); as with
  jraph.dynamically_batch, a graph that does not fit ends the sub-batch
  (here it is skipped for this step).
  """
  num_devices = len(jax.devices())
  if global_batch_size % num_devices:
    raise ValueError(f'ogbg batch size {global_batch_size} must be a '
                     f'multiple of the {num_devices} devices.')
  per_device = global_batch_size // num_devices
  max_nodes, max_edges, max_graphs = graphs.budget(per_device)
  subs = []
  for share in np.array_split(np.asarray(indices), num_devices):
    chosen, nodes, edges = [], 0, 0
    for i in share:
      graph = stored_graph(arrays, int(i))
      nodes += len(graph['nodes'])
      edges += len(graph['edges'])
      if (nodes > max_nodes - 1 or edges > max_edges
          or len(chosen) + 1 > max_graphs - 1):
        break
      chosen.append(graph)
    subs.append(graphs.pad_graphs(chosen, max_nodes, max_edges, max_graphs))
  return graphs.concatenate(subs)


class _GraphBatches(base_workload.ShuffledBatches):
  """The shuffled resumable queue, each batch packed as AlgoPerf's."""

  def batch_at(self, position: int):
    batch = pack_step(self._arrays, self.indices_for(position),
                      self._batch_size)
    return jax_sharding_utils.shard_along_batch_dim(batch)


class OgbgWorkload(base_workload.ArrayWorkload):
  """GNN: latent 256, MLPs (256,), 5 message-passing steps, ReLU."""

  name = 'ogbg'
  num_train_examples = 350_343
  num_eval_train_examples = 43_793
  num_validation_examples = 43_793
  num_test_examples = 43_793
  eval_batch_size = 32_768
  default_batch_size = 512  # AlgoPerf's reference algorithms'.
  loss_type = spec.LossType.SIGMOID_CROSS_ENTROPY
  # The data side's builder, imported only when data is read.
  dataset_builder = base_workload.DataSide('workloads.ogbg.dataset',
                                          'BUILDER')
  input_keys = STORED_KEYS

  model_class = model.GNN
  model_settings = ('num_outputs', 'latent_dim', 'hidden_dims',
                    'num_message_passing_steps', 'activation')
  num_outputs = model.NUM_TASKS
  latent_dim = 256
  hidden_dims = (256,)
  num_message_passing_steps = 5
  activation = staticmethod(nn.relu)
  default_dropout_rate = 0.1  # AlgoPerf's model_fn default for ogbg.

  @property
  def output_layer_name(self) -> str:
    """The logit layer: flax's name for the last Dense of the model."""
    steps, layers = self.num_message_passing_steps, len(self.hidden_dims)
    return f'Dense_{3 * steps * layers}'

  def init_inputs(self):
    return model.init_inputs()

  def model_fn(self, params, augmented_and_preprocessed_input_batch,
               model_state, mode, rng, update_batch_norm,
               dropout_rate=default_dropout_rate):
    return super().model_fn(params, augmented_and_preprocessed_input_batch,
                            model_state, mode, rng, update_batch_norm,
                            dropout_rate)

  def synthetic_arrays(self, num_examples, seed):
    """Random molecules in stored form: a chain plus two extra bonds.

    Sizes average ~26 nodes and ~56 directed edges (AlgoPerf's budget per
    graph); about 30% of the labels are missing (NaN), 2% of the rest 1.
    """
    rng = np.random.default_rng(seed)
    max_nodes, max_bonds = 41, 42
    num_nodes = rng.integers(12, max_nodes + 1, num_examples)
    arrays = {
      'nodes': rng.integers(0, 10, (num_examples, max_nodes,
                                    model.NUM_NODE_FEATURES)),
      'edges': np.zeros((num_examples, 2 * max_bonds,
                         model.NUM_EDGE_FEATURES)),
      'senders': np.zeros((num_examples, 2 * max_bonds), np.int32),
      'receivers': np.zeros((num_examples, 2 * max_bonds), np.int32),
      'num_nodes': num_nodes,
      'num_edges': 2 * (num_nodes + 1),
    }
    for i, n in enumerate(num_nodes):
      bonds = np.stack([np.arange(n - 1), np.arange(1, n)], axis=1)
      extra = rng.integers(0, n, (2, 2))
      edge_index = np.concatenate([bonds, extra])
      features = rng.integers(0, 4, (len(edge_index),
                                     model.NUM_EDGE_FEATURES))
      graph = graphs.from_example(arrays['nodes'][i, :n], features,
                                  edge_index, np.zeros(model.NUM_TASKS))
      m = len(graph['edges'])
      arrays['edges'][i, :m] = graph['edges']
      arrays['senders'][i, :m] = graph['senders']
      arrays['receivers'][i, :m] = graph['receivers']
    labels = (rng.random((num_examples, model.NUM_TASKS)) < 0.02)
    labels = labels.astype(np.float32)
    labels[rng.random(labels.shape) < 0.3] = np.nan
    arrays['labels'] = labels
    arrays['nodes'] = arrays['nodes'].astype(np.float32)
    arrays['edges'] = arrays['edges'].astype(np.float32)
    return arrays

  def make_batches(self, split, arrays, global_batch_size, seed, position):
    del split
    return _GraphBatches(arrays, global_batch_size, seed, position)

  def loss_fn(self, label_batch, logits_batch, mask_batch=None,
              label_smoothing=0.0):
    """AlgoPerf's masked sigmoid cross-entropy over [G, 128] labels.

    ``per_example`` is per label, [G, 128] (zero where masked), and
    ``n_valid_examples`` counts present labels, as in AlgoPerf. Smoothing
    is ``optax.smooth_labels`` over the 128 tasks after missing labels
    are set to -1 (AlgoPerf's order): y (1 - s) + s / 128.
    """
    if mask_batch is None:
      mask_batch = jnp.ones_like(logits_batch)
    if not logits_batch.shape == label_batch.shape == mask_batch.shape:
      raise ValueError(
        f'ogbg loss: logits {logits_batch.shape}, targets '
        f'{label_batch.shape} and weights {mask_batch.shape} must match.')
    labels = jnp.where(mask_batch, label_batch, -1)
    labels = optax.smooth_labels(labels, label_smoothing)
    per_label = _sigmoid_cross_entropy(logits_batch, labels, jnp)
    per_label = jnp.where(mask_batch, per_label, 0.0)
    return {'summed': per_label.sum(), 'n_valid_examples': mask_batch.sum(),
            'per_example': per_label}

  # --- Evaluation: AlgoPerf collects every graph, then computes mAP. ---
  @functools.cached_property
  def _eval_logits(self):
    """One jitted forward pass per workload instance (fixed batch shape)."""

    def step(params, model_state, inputs):
      logits, _ = self.model_fn(
        params, {'inputs': inputs}, model_state, spec.ForwardPassMode.EVAL,
        jax.random.PRNGKey(0), update_batch_norm=False)
      return logits

    replicated = jax_sharding_utils.get_replicate_sharding()
    return jax.jit(step, out_shardings=replicated)

  def _eval_model_on_split(self, split, num_examples, global_batch_size,
                           params, model_state, rng, data_dir,
                           global_step=0):
    """Every graph of the split once, in order, in eval-budget batches.

    AlgoPerf's eval iterator dynamically batches the split in order with
    the eval batch size's budget and cycles; its ceil(n / batch) steps
    cover the split once when the batches are full enough, as here.
    """
    del global_batch_size, rng, global_step
    arrays = self.split_arrays(split, data_dir)
    count = min(num_examples, len(arrays['num_nodes']))
    stream = (stored_graph(arrays, i) for i in range(count))
    logits, targets, weights = [], [], []
    for batch in eval_batches(stream, self.eval_batch_size):
      inputs = jax_sharding_utils.shard_along_batch_dim(batch['inputs'])
      out = self._eval_logits(params, model_state, inputs)
      logits.append(np.asarray(jax.device_get(out)))
      targets.append(batch['targets'])
      weights.append(batch['weights'])
    logits = np.concatenate(logits)
    targets, weights = np.concatenate(targets), np.concatenate(weights)
    per_label = _sigmoid_cross_entropy(logits.astype(np.float64), targets,
                                       np)
    return metrics.eval_results(logits, targets, weights, per_label)


def eval_batches(stream, eval_batch_size: int):
  """The stream's graphs in order, one dynamically packed sub-batch of
  ``eval_batch_size // devices`` per device; the last batch is completed
  with all-padding sub-batches."""
  num_devices = len(jax.devices())
  per_device = max(1, eval_batch_size // num_devices)
  group = []
  for sub in graphs.dynamic_batches(stream, per_device):
    group.append(sub)
    if len(group) == num_devices:
      yield graphs.concatenate(group)
      group = []
  if group:
    while len(group) < num_devices:
      group.append(graphs.pad_graphs([], *graphs.budget(per_device)))
    yield graphs.concatenate(group)


class OgbgGeluWorkload(OgbgWorkload):
  """GELU instead of ReLU in every MLP."""

  name = 'ogbg_gelu'
  activation = staticmethod(nn.gelu)


class OgbgSiluWorkload(OgbgWorkload):
  """SiLU instead of ReLU in every MLP."""

  name = 'ogbg_silu'
  activation = staticmethod(nn.silu)


class OgbgModelSizeWorkload(OgbgWorkload):
  """Latent 128, two hidden layers of 256 per MLP, 3 steps."""

  name = 'ogbg_model_size'
  latent_dim = 128
  hidden_dims = (256, 256)
  num_message_passing_steps = 3
