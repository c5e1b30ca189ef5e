"""ogbg (AlgoPerf suite): the GNN and variants against AlgoPerf.

Fast: every variant's parameter tree equals AlgoPerf's table leaf by leaf
(jax.eval_shape); graph batches are laid out as jraph's
dynamically_batch / pad_with_graphs / batch_np make them; average precision
as scikit-learn defines it; the masked, smoothed loss. Slow: garbage in
padding slots leaves real graphs' logits unchanged; a forward + backward
pass and an evaluation at AlgoPerf's input layout with batch size 2;
AlgoPerf's own GNN (when its code and jraph are present) and ours give the
same outputs on the same parameters.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algoperf import spec
from tests.workloads import algoperf_outputs_seqgraph as reference
from tests.workloads import param_table
from workloads.ogbg import graphs
from workloads.ogbg import metrics
from workloads.ogbg import model
from workloads.ogbg import workload as ogbg

FAMILY = 'ogbg'
CLASSES = {
  'ogbg': ogbg.OgbgWorkload,
  'ogbg_gelu': ogbg.OgbgGeluWorkload,
  'ogbg_silu': ogbg.OgbgSiluWorkload,
  'ogbg_model_size': ogbg.OgbgModelSizeWorkload,
}
COUNTS = {'ogbg': 3_554_176, 'ogbg_gelu': 3_554_176, 'ogbg_silu': 3_554_176,
          'ogbg_model_size': 2_571_648}


def test_the_table_lists_exactly_our_workloads_and_output_layers():
  param_table.assert_table_lists(FAMILY, CLASSES)


@pytest.mark.parametrize('name', sorted(CLASSES))
def test_parameter_tree_equals_algoperfs_leaf_by_leaf(name):
  workload = CLASSES[name]()
  assert workload.name == name
  assert param_table.assert_matches_table(FAMILY, workload) == COUNTS[name]
  # The logit layer is the last Dense flax creates.
  shapes = param_table.param_shapes(workload)
  assert shapes[f'{workload.output_layer_name}/kernel'][1] == 128
  last = max(int(p.split('/')[0][len('Dense_'):]) for p in shapes
             if p.startswith('Dense_'))
  assert workload.output_layer_name == f'Dense_{last}'


def test_batch_and_split_sizes_are_algoperfs():
  base = ogbg.OgbgWorkload
  assert (base.default_batch_size, base.eval_batch_size) == (512, 32_768)
  assert (base.num_train_examples, base.num_validation_examples,
          base.num_test_examples) == (350_343, 43_793, 43_793)


def _graph(num_nodes, bonds, labels):
  """A molecule with node features = node index, one bond feature each."""
  nodes = np.arange(num_nodes * 9, dtype=np.float32).reshape(num_nodes, 9)
  edge_feat = np.arange(len(bonds) * 3, dtype=np.float32).reshape(-1, 3)
  return graphs.from_example(nodes, edge_feat, np.array(bonds), labels)


def _labels(*values):
  labels = np.full(128, np.nan, np.float32)
  labels[:len(values)] = values
  return labels


def test_bonds_are_stored_in_both_directions():
  g = _graph(3, [[0, 1], [1, 2]], _labels(1.0))
  assert g['senders'].tolist() == [0, 1, 1, 2]
  assert g['receivers'].tolist() == [1, 2, 0, 1]
  np.testing.assert_array_equal(g['edges'][2:], g['edges'][:2])


def test_padded_sub_batch_has_algoperfs_layout():
  a = _graph(3, [[0, 1], [1, 2]], _labels(1.0, 0.0))
  b = _graph(2, [[0, 1]], _labels(np.nan, 1.0))
  batch = graphs.pad_graphs([a, b], *graphs.budget(2))  # 53, 112, 3.
  inputs = batch['inputs']
  assert inputs['nodes'].shape == (53, 9)
  assert inputs['edges'].shape == (112, 3)
  # The padding graph owns every remaining slot.
  assert inputs['n_node'].tolist() == [3, 2, 48]
  assert inputs['n_edge'].tolist() == [4, 2, 106]
  # b's node ids are offset by a's 3 nodes; padding edges loop on node 5.
  assert inputs['senders'][:6].tolist() == [0, 1, 1, 2, 3, 4]
  assert set(inputs['senders'][6:]) == {5}
  assert set(inputs['receivers'][6:]) == {5}
  assert not inputs['nodes'][5:].any() and not inputs['edges'][6:].any()
  # NaN labels become 0 with weight 0; the padding graph weighs nothing.
  assert batch['targets'][:2, :2].tolist() == [[1.0, 0.0], [0.0, 1.0]]
  assert batch['weights'][:2, :2].tolist() == [[1.0, 1.0], [0.0, 1.0]]
  assert batch['weights'][0].sum() == 2 and not batch['weights'][2].any()


def test_dynamic_batching_starts_a_new_batch_when_a_graph_does_not_fit():
  small = _graph(20, [[i, i + 1] for i in range(19)], _labels(1.0))
  big = _graph(30, [[i, i + 1] for i in range(29)], _labels(0.0))
  # Budget for b = 2: 52 real nodes. 20 + 30 fit; a third graph does not.
  batches = list(graphs.dynamic_batches([small, big, small, small], 2))
  assert [b['inputs']['n_node'][:-1].tolist() for b in batches] == [
    [20, 30], [20, 20]]
  too_big = _graph(60, [[i, i + 1] for i in range(59)], _labels(0.0))
  with pytest.raises(ValueError, match='exceeds a batch budget'):
    list(graphs.dynamic_batches([too_big], 2))


def test_per_device_sub_batches_concatenate_with_node_offsets():
  a = graphs.pad_graphs([_graph(2, [[0, 1]], _labels(1.0))],
                        *graphs.budget(1))
  b = graphs.pad_graphs([_graph(2, [[0, 1]], _labels(0.0))],
                        *graphs.budget(1))
  both = graphs.concatenate([a, b])
  assert both['inputs']['nodes'].shape == (54, 9)
  assert both['inputs']['senders'][56:58].tolist() == [27, 28]
  assert both['targets'].shape == (4, 128)


def test_average_precision_is_scikit_learns():
  # Ranked 1, 0, 1, 0: precision 1 at recall 1/2, 2/3 at recall 1.
  assert metrics.average_precision(
    np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1])) == pytest.approx(
      (1 + 2 / 3) / 2)
  # Tied scores form one threshold: 1 of 2 at recall 1/2, then 2/3 at 1.
  assert metrics.average_precision(
    np.array([1, 0, 1]), np.array([0.5, 0.5, 0.2])) == pytest.approx(
      0.5 * 0.5 + 0.5 * 2 / 3)


def test_mean_average_precision_skips_tasks_without_both_labels():
  logits = np.array([[2.0, 1.0], [1.0, 0.0], [-1.0, 3.0]], np.float32)
  labels = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 0.0]], np.float32)
  weights = np.ones_like(labels)
  # Task 1 has no positive label: skipped, not counted as 0.
  assert metrics.mean_average_precision(logits, labels, weights) == (
    pytest.approx(0.5 * 1 + 0.5 * 2 / 3))
  # A missing label (weight 0) is left out of its task's ranking.
  weights[1, 0] = 0.0
  assert metrics.mean_average_precision(logits, labels, weights) == 1.0
  assert np.isnan(metrics.mean_average_precision(
    logits, np.zeros_like(labels), weights))


def test_loss_masks_missing_labels_and_smooths_over_128_tasks():
  workload = ogbg.OgbgWorkload()
  logits = jnp.zeros((2, 128)).at[0, 0].set(2.0)
  labels = jnp.zeros((2, 128)).at[0, 0].set(1.0)
  mask = jnp.zeros((2, 128)).at[0, :2].set(1.0)
  # Jitted: one compilation instead of one per operation.
  out = jax.jit(functools.partial(workload.loss_fn, label_smoothing=0.1))(
    labels, logits, mask)
  y = 0.9 * 1.0 + 0.1 / 128
  expected0 = 2.0 - 2.0 * y + np.log1p(np.exp(-2.0))
  expected1 = np.log(2.0)  # Logit 0: log 2 whatever the label.
  np.testing.assert_allclose(out['per_example'][0, :2],
                             [expected0, expected1], rtol=1e-5)
  assert float(out['n_valid_examples']) == 2.0
  assert float(jnp.abs(out['per_example'][1]).sum()) == 0.0
  np.testing.assert_allclose(float(out['summed']), expected0 + expected1,
                             rtol=1e-5)


@pytest.mark.slow
def test_padding_slots_do_not_change_real_graphs_logits():
  gnn = model.GNN(latent_dim=8, hidden_dims=(8,), num_message_passing_steps=2)
  a = _graph(3, [[0, 1], [1, 2]], _labels(1.0))
  b = _graph(2, [[0, 1]], _labels(0.0))
  batch = graphs.pad_graphs([a, b], *graphs.budget(2))['inputs']
  variables = gnn.init(jax.random.PRNGKey(0), batch, train=False)
  clean = gnn.apply(variables, batch, train=False)
  noisy = dict(batch)
  noisy['nodes'] = batch['nodes'].copy()
  noisy['nodes'][5:] = 7.0
  noisy['edges'] = batch['edges'].copy()
  noisy['edges'][6:] = -3.0
  dirty = gnn.apply(variables, noisy, train=False)
  np.testing.assert_allclose(dirty[:2], clean[:2], rtol=1e-5, atol=1e-6)
  assert not np.allclose(dirty[2], clean[2])


@pytest.mark.slow
@pytest.mark.parametrize('name', ['ogbg', 'ogbg_model_size'])
def test_forward_backward_and_eval_at_algoperfs_layout(name):
  workload = CLASSES[name]()
  workload.eval_batch_size = 8
  workload.use_synthetic_data(num_examples=12)
  params, state = workload.init_model_fn(jax.random.PRNGKey(0))
  queue = workload._build_input_queue(jax.random.PRNGKey(1), 'train', None,
                                      2)
  batch = next(queue)
  queue.close()
  # Batch 2 on one device: 2 * 26 + 1 nodes, 2 * 56 edges, 3 graphs.
  shapes = {k: v.shape for k, v in batch['inputs'].items()}
  assert shapes['nodes'] == (53, 9) and shapes['edges'] == (112, 3)
  assert shapes['n_node'] == (3,) and batch['weights'].shape == (3, 128)

  def loss(params):
    logits, _ = workload.model_fn(params, batch, state,
                                  spec.ForwardPassMode.TRAIN,
                                  jax.random.PRNGKey(2), False)
    out = workload.loss_fn(batch['targets'], logits, batch['weights'],
                           label_smoothing=0.1)
    return out['summed'] / out['n_valid_examples']

  value, grads = jax.jit(jax.value_and_grad(loss))(params)
  assert np.isfinite(float(value))
  for path, g in jax.tree_util.tree_flatten_with_path(grads)[0]:
    assert np.isfinite(np.asarray(g)).all(), path
  head = np.asarray(grads[workload.output_layer_name]['kernel'])
  assert np.abs(head).max() > 0
  result = workload._eval_model_on_split('validation', 12, 8, params, state,
                                         None, None)
  assert set(result) == {'accuracy', 'loss', 'mean_average_precision'}
  assert 0.0 <= result['mean_average_precision'] <= 1.0
  assert 0.0 < result['loss'] < 10.0


@pytest.mark.slow
def test_outputs_equal_algoperfs_gnn_on_the_same_parameters(tmp_path):
  cases = reference.algoperf_outputs(FAMILY, tmp_path)
  ours = {'gnn': model.GNN(),
          'gnn_model_size': model.GNN(latent_dim=128, hidden_dims=(256, 256),
                                      num_message_passing_steps=3,
                                      activation=jax.nn.gelu)}
  assert set(ours) == set(cases)
  for case, arrays in cases.items():
    graph = {k: jnp.asarray(arrays[k]) for k in model.GRAPH_KEYS}
    out = ours[case].apply({'params': param_table.unflatten(arrays, 'p')},
                           graph, train=False)
    reference.assert_same_outputs(out, arrays['out'], case)


@pytest.mark.slow
def test_committed_table_is_what_algoperfs_code_gives_now():
  reference.assert_table_is_algoperfs(FAMILY)
