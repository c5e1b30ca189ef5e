"""Per-example scores add up to the workload's own eval (real models)."""

import jax
import numpy as np
import pytest

from algoperf import registry
from algoperf.target_setting import per_example
from algoperf.target_setting import resolution


def _check(name):
  workload = registry.make_workload(name)
  workload.use_synthetic_data(40)
  params, model_state = workload.init_model_fn(jax.random.PRNGKey(0))
  sums = per_example.per_example_sums(workload, params, model_state,
                                      'validation', None)
  num = workload.num_validation_examples
  assert {len(v) for v in sums.values()} == {min(num, 40)}
  whole = workload._eval_model_on_split(
    'validation', num, workload.eval_batch_size, params, model_state, None,
    None)
  metric = workload.target_metric_name
  value, se = resolution.standard_error(sums, workload.eval_averages, metric,
                                        resamples=50)
  np.testing.assert_allclose(value, whole[metric], rtol=1e-4, atol=1e-6)
  assert se > 0


def test_mnist_rows_add_up_to_the_split_metric():
  _check('mnist')


@pytest.mark.slow
@pytest.mark.parametrize('name', [
  n for n in registry.suite().families if n != 'mnist'])
def test_every_family_rows_add_up_to_the_split_metric(name):
  """Ratio-of-sums metrics (WER, token loss) and SSIM included."""
  _check(name)
