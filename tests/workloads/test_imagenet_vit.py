"""imagenet_vit (AlgoPerf suite): ViT-S/16 and variants against AlgoPerf.

Fast: every variant's parameter tree equals AlgoPerf's table leaf by leaf
(jax.eval_shape); the position embedding. Slow: a forward + backward pass at
AlgoPerf's input shape; AlgoPerf's own model (when its code is present) and
ours give the same outputs on the same variables, and the same initial
distributions.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algoperf import spec
from tests.workloads import param_table
from workloads.imagenet_vit import model
from workloads.imagenet_vit import workload as vit

FAMILY = 'imagenet_vit'
CLASSES = {
  'imagenet_vit': vit.ImagenetVitWorkload,
  'imagenet_vit_glu': vit.ImagenetVitGluWorkload,
  'imagenet_vit_post_ln': vit.ImagenetVitPostLNWorkload,
  'imagenet_vit_map': vit.ImagenetVitMapWorkload,
}
COUNTS = {'imagenet_vit': 22_122_472, 'imagenet_vit_glu': 50_452_456,
          'imagenet_vit_post_ln': 22_121_704, 'imagenet_vit_map': 23_896_552}


def test_the_table_lists_exactly_our_workloads_and_output_layers():
  param_table.assert_table_lists(FAMILY, CLASSES)


@pytest.mark.parametrize('name', sorted(CLASSES))
def test_parameter_tree_equals_algoperfs_leaf_by_leaf(name):
  workload = CLASSES[name]()
  assert workload.name == name
  assert param_table.assert_matches_table(FAMILY, workload) == COUNTS[name]


def test_batch_sizes_are_algoperfs():
  for workload_class in CLASSES.values():
    assert workload_class.default_batch_size == 1024
    assert workload_class.eval_batch_size == 2048
    assert workload_class.num_eval_train_examples == 51_200


def test_position_embedding_is_sin_cos_of_row_and_column():
  table = np.asarray(model.posemb_sincos_2d(14, 14, 384))
  assert table.shape == (1, 196, 384)
  omega = 1.0 / 10_000 ** (np.arange(96) / 95)
  token = 3 * 14 + 5  # Row 3, column 5.
  np.testing.assert_allclose(table[0, token, :96], np.sin(5 * omega),
                             atol=1e-6)
  np.testing.assert_allclose(table[0, token, 288:], np.cos(3 * omega),
                             atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CLASSES))
def test_forward_backward_at_algoperf_shapes(name):
  workload = CLASSES[name]()
  step = param_table.forward_backward(workload)
  param_table.assert_sane_step(workload, step)
  params, state, batch, _, logits, _, _ = step
  assert state is None
  assert batch['inputs'].shape == (2, 224, 224, 3)
  assert logits.shape == (2, 1000)
  np.testing.assert_array_equal(params['head']['kernel'], 0.0)
  # Mixup's dense label rows train as well as integer labels.
  soft = 0.7 * jax.nn.one_hot(batch['targets'], 1000) + 0.3 / 1000
  loss = workload.loss_fn(soft, logits, label_smoothing=0.1)
  assert np.isfinite(float(loss['summed']))
  logits, _ = workload.model_fn(params, batch, None,
                                spec.ForwardPassMode.EVAL, None, False)
  metrics = workload.eval_metrics(logits, batch, jnp.array([1.0, 1.0]))
  assert float(metrics['accuracy']) in (0.0, 1.0, 2.0)


@pytest.mark.slow
@pytest.mark.skipif(param_table.algoperf_dir() is None,
                    reason="AlgoPerf's code is absent: set ALGOPERF_SRC to a "
                    'checkout of mlcommons/algorithmic-efficiency at 2c90454')
def test_outputs_and_init_equal_algoperfs_model(tmp_path):
  reference = param_table.algoperf_outputs(FAMILY, sorted(CLASSES), tmp_path)
  for name, arrays in reference.items():
    workload = CLASSES[name]()
    params = param_table.unflatten(arrays, 'applied')['params']
    batch = {'inputs': jnp.asarray(arrays['inputs'])}
    ours, _ = workload.model_fn(params, batch, None,
                                spec.ForwardPassMode.EVAL, None, False)
    np.testing.assert_allclose(ours, arrays['eval_outputs'], rtol=1e-4,
                               atol=1e-4, err_msg=name)
    ours_init = workload._model.init(
      {'params': jax.random.PRNGKey(1)}, workload.init_inputs())
    param_table.assert_same_init(
      param_table.flat_arrays(ours_init['params']),
      param_table.flat_arrays(
        param_table.unflatten(arrays, 'variables')['params']), name)

