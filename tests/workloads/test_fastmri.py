"""fastmri (AlgoPerf suite): the U-Net and variants against AlgoPerf.

Fast: every variant's parameter tree equals AlgoPerf's table leaf by leaf
(jax.eval_shape); SSIM with volume_max as AlgoPerf computes it. Slow: a
forward + backward pass at AlgoPerf's input shape; AlgoPerf's own model
(when its code is present) and ours give the same outputs on the same
variables, and the same initial distributions.
"""

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algoperf import spec
from tests.workloads import param_table
from workloads.fastmri import workload as fastmri

FAMILY = 'fastmri'
CLASSES = {
  'fastmri': fastmri.FastMRIWorkload,
  'fastmri_model_size': fastmri.FastMRIModelSizeWorkload,
  'fastmri_tanh': fastmri.FastMRITanhWorkload,
  'fastmri_layernorm': fastmri.FastMRILayerNormWorkload,
}
COUNTS = {'fastmri': 7_756_097, 'fastmri_model_size': 7_692_929,
          'fastmri_tanh': 7_756_097, 'fastmri_layernorm': 7_761_985}
NO_ALGOPERF = ("AlgoPerf's code is absent: set ALGOPERF_SRC to a checkout "
               'of mlcommons/algorithmic-efficiency at 2c90454')


def test_the_table_lists_exactly_our_workloads_and_output_layers():
  param_table.assert_table_lists(FAMILY, CLASSES)


@pytest.mark.parametrize('name', sorted(CLASSES))
def test_parameter_tree_equals_algoperfs_leaf_by_leaf(name):
  workload = CLASSES[name]()
  assert workload.name == name
  assert param_table.assert_matches_table(FAMILY, workload) == COUNTS[name]


def test_batch_and_split_sizes_are_algoperfs():
  base = fastmri.FastMRIWorkload
  assert (base.default_batch_size, base.eval_batch_size,
          base.num_train_examples, base.num_validation_examples,
          base.num_test_examples, base.num_eval_train_examples) == (
            32, 256, 34_742, 3_554, 3_581, 3_584)


def _images(seed):
  """Three outputs and targets; SSIM has no size of its own, so small."""
  rng = np.random.default_rng(seed)
  target = rng.uniform(0.0, 1.0, (3, 48, 40)).astype(np.float32)
  output = (target + rng.normal(0, 0.3, target.shape)).astype(np.float32)
  return jnp.asarray(output), jnp.asarray(target)


def test_ssim_is_one_for_a_perfect_output_and_ignores_padding_rows():
  workload = fastmri.FastMRIWorkload()
  _, target = _images(0)
  batch = {'targets': target, 'mean': jnp.array([0.1, 0.2, 0.0]),
           'std': jnp.array([2.0, 1.0, 1.0]),
           'volume_max': jnp.array([3.0, 2.0, 0.0])}  # Row 3: padding.
  metrics = workload.eval_metrics(target, batch, jnp.array([1.0, 1.0, 0.0]))
  np.testing.assert_allclose(metrics['ssim'], 2.0, rtol=1e-5)
  assert float(metrics['loss']) == 0.0


@pytest.mark.skipif(param_table.algoperf_dir() is None, reason=NO_ALGOPERF)
def test_ssim_equals_algoperfs():
  path = (param_table.algoperf_dir() / 'algoperf' / 'workloads' / 'fastmri'
          / 'fastmri_jax' / 'ssim.py')  # Imports only jax: loadable here.
  spec_ = importlib.util.spec_from_file_location('algoperf_fastmri_ssim',
                                                 path)
  reference = importlib.util.module_from_spec(spec_)
  spec_.loader.exec_module(reference)
  output, target = _images(1)
  mean, std = jnp.array([0.5, 0.0, 1.0]), jnp.array([2.0, 1.0, 0.5])
  volume_max = jnp.array([4.0, 0.0, 1.5])
  expected = reference.ssim(output, target, mean, std, volume_max)
  batch = {'targets': target, 'mean': mean, 'std': std,
           'volume_max': volume_max}
  mask = jnp.array([1.0, 1.0, 0.0])
  got = fastmri.FastMRIWorkload().eval_metrics(output, batch, mask)
  np.testing.assert_allclose(got['ssim'], (expected * mask).sum(),
                             rtol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CLASSES))
def test_forward_backward_at_algoperf_shapes(name):
  workload = CLASSES[name]()
  step = param_table.forward_backward(workload)
  param_table.assert_sane_step(workload, step)
  params, state, batch, _, logits, _, _ = step
  assert state is None
  assert batch['inputs'].shape == logits.shape == (2, 320, 320)
  logits, _ = workload.model_fn(params, batch, None,
                                spec.ForwardPassMode.EVAL, None, False)
  metrics = workload.eval_metrics(logits, batch, jnp.array([1.0, 1.0]))
  assert -2.0 <= float(metrics['ssim']) <= 2.0
  assert np.isfinite(float(metrics['loss']))


@pytest.mark.slow
@pytest.mark.skipif(param_table.algoperf_dir() is None, reason=NO_ALGOPERF)
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
