"""criteo1tb (AlgoPerf suite): DLRM-small and variants against AlgoPerf.

Fast: every variant's parameter tree equals AlgoPerf's table leaf by leaf
(jax.eval_shape: the 4,194,304-row table is never allocated); the dot
interactions, the id handling and the loss. Slow: a forward + backward pass
at AlgoPerf's input shape with the embedding table of AlgoPerf's own test
workload (65,536 rows), and at the full table size (2 GB of parameters,
2 GB of gradients); AlgoPerf's own models (when its code is present) and
ours give the same outputs on the same parameters.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algoperf import spec
from tests.workloads import algoperf_outputs_seqgraph as reference
from tests.workloads import param_table
from workloads.criteo1tb import model
from workloads.criteo1tb import workload as criteo

FAMILY = 'criteo1tb'
CLASSES = {
  'criteo1tb': criteo.Criteo1TbDlrmSmallWorkload,
  'criteo1tb_layernorm': criteo.Criteo1TbDlrmSmallLayerNormWorkload,
  'criteo1tb_resnet': criteo.Criteo1TbDlrmSmallResNetWorkload,
  'criteo1tb_embed_init': criteo.Criteo1TbDlrmSmallEmbedInitWorkload,
}
COUNTS = {'criteo1tb': 539_267_457, 'criteo1tb_layernorm': 539_275_137,
          'criteo1tb_resnet': 538_121_473, 'criteo1tb_embed_init': 539_267_457}
SMALL_VOCAB = 32 * 128 * 16  # AlgoPerf's Criteo1TbDlrmSmallTestWorkload.


def test_the_table_lists_exactly_our_workloads_and_output_layers():
  param_table.assert_table_lists(FAMILY, CLASSES)


@pytest.mark.parametrize('name', sorted(CLASSES))
def test_parameter_tree_equals_algoperfs_leaf_by_leaf(name):
  workload = CLASSES[name]()
  assert workload.name == name
  assert param_table.assert_matches_table(FAMILY, workload) == COUNTS[name]
  assert workload.output_layer_name in {
    p.split('/')[0] for p in param_table.param_shapes(workload)}


def test_batch_and_split_sizes_are_algoperfs():
  base = criteo.Criteo1TbDlrmSmallWorkload
  assert (base.default_batch_size, base.eval_batch_size) == (262_144, 131_072)
  assert (base.num_train_examples, base.num_validation_examples,
          base.num_test_examples, base.num_eval_train_examples) == (
            4_195_197_692, 83_274_637, 95_000_000, 83_361_792)


def test_dot_interactions_are_the_upper_triangle_row_by_row():
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 3, 4))
  got = np.asarray(jax.jit(model.dot_interactions)(x))
  for b in range(2):
    expected = [float(x[b, i] @ x[b, j]) for i in range(3)
                for j in range(i, 3)]
    np.testing.assert_allclose(got[b], expected, rtol=1e-5)


def test_ids_go_through_float32_and_wrap_modulo_the_table():
  """AlgoPerf's ids arrive as floats; the row is int(id) % vocab."""
  module = model.DlrmSmall(vocab_size=8, mlp_bottom_dims=(4,),
                           mlp_top_dims=(1,), embed_dim=4)
  inputs = jnp.zeros((2, 13 + 26)).at[0, 13:].set(3.0).at[1, 13:].set(11.0)
  # Jitted: one compilation instead of one per operation.
  out = jax.jit(lambda x: module.init_with_output(
    jax.random.PRNGKey(0), x, train=False)[0])(inputs)
  # Row 11 % 8 == 3: both rows look up the same embeddings.
  np.testing.assert_allclose(out[0], out[1], rtol=1e-6)


def test_loss_is_per_row_log_loss_masked_and_unsmoothed():
  workload = criteo.Criteo1TbDlrmSmallWorkload()
  logits = jnp.array([[2.0], [-1.0], [0.5]])
  labels = jnp.array([1.0, 0.0, 1.0])
  mask = jnp.array([1.0, 1.0, 0.0])
  out = jax.jit(functools.partial(workload.loss_fn, label_smoothing=0.3))(
    labels, logits, mask)
  expected = [np.log1p(np.exp(-2.0)), np.log1p(np.exp(-1.0)), 0.0]
  np.testing.assert_allclose(out['per_example'], expected, rtol=1e-5)
  assert float(out['n_valid_examples']) == 2.0
  sums = jax.jit(workload.eval_metrics)(logits, {'targets': labels}, mask)
  assert set(sums) == {'loss'}
  np.testing.assert_allclose(float(sums['loss']), sum(expected), rtol=1e-5)


def _forward_backward(workload):
  """Loss and gradients of one training step on 2 synthetic rows."""
  params, state = workload.init_model_fn(jax.random.PRNGKey(0))
  batch = {k: jnp.asarray(v)
           for k, v in workload.synthetic_arrays(2, 0).items()}
  assert batch['inputs'].shape == (2, 39)
  assert batch['inputs'].dtype == jnp.float32

  def loss(params):
    logits, _ = workload.model_fn(params, batch, state,
                                  spec.ForwardPassMode.TRAIN,
                                  jax.random.PRNGKey(1), False,
                                  dropout_rate=0.1)
    assert logits.shape == (2, 1)
    return workload.loss_fn(batch['targets'], logits)['summed'] / 2

  value, grads = jax.jit(jax.value_and_grad(loss))(params)
  assert np.isfinite(float(value))
  leaves = jax.tree_util.tree_flatten_with_path(grads)[0]
  for path, g in leaves:
    assert np.isfinite(np.asarray(g)).all(), path
  assert np.abs(np.asarray(grads['Dense_7']['kernel'])).max() > 0
  # Only the 2 x 26 looked-up rows of the table get gradient.
  touched = np.abs(np.asarray(grads['embedding_table'])).sum(axis=1) > 0
  ids = np.asarray(batch['inputs'][:, 13:]).astype(np.int32)
  assert set(np.flatnonzero(touched)) <= set(
    (ids % workload.vocab_size).ravel())


@pytest.mark.slow
@pytest.mark.parametrize('name', ['criteo1tb_layernorm', 'criteo1tb_resnet'])
def test_forward_backward_with_algoperfs_test_table_size(name):
  workload = CLASSES[name]()
  workload.vocab_size = SMALL_VOCAB
  workload._model = workload.build_model()
  _forward_backward(workload)


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CLASSES))
def test_forward_backward_at_full_table_size(name):
  _forward_backward(CLASSES[name]())


@pytest.mark.slow
def test_outputs_equal_algoperfs_models_on_the_same_parameters(tmp_path):
  cases = reference.algoperf_outputs(FAMILY, tmp_path)
  ours = {
    'dlrm': model.DlrmSmall(vocab_size=reference.CRITEO_VOCAB),
    'dlrm_layernorm': model.DlrmSmall(vocab_size=reference.CRITEO_VOCAB,
                                      use_layer_norm=True),
    'dlrm_embed_init': model.DlrmSmall(vocab_size=reference.CRITEO_VOCAB,
                                       embedding_init_multiplier=1.0),
    'resnet': model.DlrmResNet(vocab_size=reference.CRITEO_VOCAB),
  }
  assert set(ours) == set(cases)
  for case, arrays in cases.items():
    params = param_table.unflatten(arrays, 'p')
    out = ours[case].apply({'params': params}, jnp.asarray(arrays['inputs']),
                           train=False)
    reference.assert_same_outputs(out, arrays['out'], case)


@pytest.mark.slow
def test_committed_table_is_what_algoperfs_code_gives_now():
  reference.assert_table_is_algoperfs(FAMILY)
