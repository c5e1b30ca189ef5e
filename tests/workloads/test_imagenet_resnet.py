"""imagenet_resnet (AlgoPerf suite): ResNet-50 and variants against AlgoPerf.

Fast: every variant's parameter tree equals AlgoPerf's table leaf by leaf
(jax.eval_shape); the loss. Slow: a forward + backward pass at AlgoPerf's
input shape; AlgoPerf's own model (when its code is present) and ours give
the same outputs on the same variables, and the same initial distributions.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algoperf import spec
from tests.workloads import param_table
from workloads.imagenet_resnet import workload as resnet

FAMILY = 'imagenet_resnet'
CLASSES = {
  'imagenet_resnet': resnet.ImagenetResNetWorkload,
  'imagenet_resnet_silu': resnet.ImagenetResNetSiLUWorkload,
  'imagenet_resnet_gelu': resnet.ImagenetResNetGELUWorkload,
  'imagenet_resnet_large_bn_init': resnet.ImagenetResNetLargeBNScaleWorkload,
}


def test_the_table_lists_exactly_our_workloads_and_output_layers():
  param_table.assert_table_lists(FAMILY, CLASSES)


@pytest.mark.parametrize('name', sorted(CLASSES))
def test_parameter_tree_equals_algoperfs_leaf_by_leaf(name):
  workload = CLASSES[name]()
  assert workload.name == name
  assert param_table.assert_matches_table(FAMILY, workload) == 25_557_032


def test_batch_and_split_sizes_are_algoperfs():
  sizes = {n: c.default_batch_size for n, c in CLASSES.items()}
  assert sizes == {'imagenet_resnet': 1024, 'imagenet_resnet_silu': 512,
                   'imagenet_resnet_gelu': 512,
                   'imagenet_resnet_large_bn_init': 1024}
  base = resnet.ImagenetResNetWorkload
  assert (base.num_train_examples, base.num_validation_examples,
          base.num_test_examples, base.eval_batch_size,
          base.num_eval_train_examples) == (1_281_167, 50_000, 10_000, 1024,
                                            50_176)


def test_loss_smooths_integer_and_dense_labels_alike():
  logits = jax.random.normal(jax.random.PRNGKey(0), (3, 1000))
  labels = jnp.array([5, 999, 0])
  mask = jnp.array([1.0, 1.0, 0.0])
  workload = resnet.ImagenetResNetWorkload()
  sparse = workload.loss_fn(labels, logits, mask, label_smoothing=0.1)
  dense = workload.loss_fn(jax.nn.one_hot(labels, 1000), logits, mask,
                           label_smoothing=0.1)
  target = 0.9 * np.eye(1000)[np.asarray(labels)] + 0.1 / 1000
  expected = -(target * jax.nn.log_softmax(logits)).sum(-1) * mask
  for got in (sparse, dense):
    np.testing.assert_allclose(got['per_example'], expected, rtol=1e-5)
    np.testing.assert_allclose(got['summed'], expected.sum(), rtol=1e-5)
    assert float(got['n_valid_examples']) == 2.0


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CLASSES))
def test_forward_backward_at_algoperf_shapes(name):
  workload = CLASSES[name]()
  step = param_table.forward_backward(workload)
  param_table.assert_sane_step(workload, step)
  params, state, batch, _, logits, new_state, _ = step
  assert batch['inputs'].shape == (2, 224, 224, 3)
  assert logits.shape == (2, 1000)
  # Training updates the BatchNorm running averages.
  before = state['batch_stats']['BatchNorm_init']['mean']
  after = new_state['batch_stats']['BatchNorm_init']['mean']
  assert not np.allclose(before, after)
  # Each block's last BatchNorm starts at bn_init_scale.
  scale = params['BottleneckResNetBlock_0']['BatchNorm_2']['scale']
  np.testing.assert_array_equal(scale, workload.bn_init_scale)
  logits, _ = workload.model_fn(params, batch, new_state,
                                spec.ForwardPassMode.EVAL, None, False)
  metrics = workload.eval_metrics(logits, batch, jnp.array([1.0, 0.0]))
  assert float(metrics['accuracy']) in (0.0, 1.0)
  assert np.isfinite(float(metrics['loss']))


@pytest.mark.slow
@pytest.mark.skipif(param_table.algoperf_dir() is None,
                    reason="AlgoPerf's code is absent: set ALGOPERF_SRC to a "
                    'checkout of mlcommons/algorithmic-efficiency at 2c90454')
def test_outputs_and_init_equal_algoperfs_model(tmp_path):
  reference = param_table.algoperf_outputs(FAMILY, sorted(CLASSES), tmp_path)
  for name, arrays in reference.items():
    workload = CLASSES[name]()
    variables = param_table.unflatten(arrays, 'applied')
    params, state = variables['params'], {'batch_stats':
                                          variables['batch_stats']}
    batch = {'inputs': jnp.asarray(arrays['inputs'])}
    ours, _ = workload.model_fn(params, batch, state,
                                spec.ForwardPassMode.EVAL, None, False)
    np.testing.assert_allclose(ours, arrays['eval_outputs'], rtol=1e-4,
                               atol=1e-4, err_msg=name)
    ours, new_state = workload.model_fn(params, batch, state,
                                        spec.ForwardPassMode.TRAIN, None, True)
    np.testing.assert_allclose(ours, arrays['train_outputs'], rtol=1e-4,
                               atol=1e-4, err_msg=name)
    expected_state = param_table.unflatten(arrays, 'new_state')
    for path, value in param_table.flat_arrays(expected_state).items():
      np.testing.assert_allclose(
        param_table.flat_arrays(new_state)[path], value, rtol=1e-4,
        atol=1e-5, err_msg=f'{name} {path}')
    ours_init = workload._model.init(
      {'params': jax.random.PRNGKey(1)}, workload.init_inputs())
    param_table.assert_same_init(
      param_table.flat_arrays(ours_init),
      param_table.flat_arrays(param_table.unflatten(arrays, 'variables')),
      name)
