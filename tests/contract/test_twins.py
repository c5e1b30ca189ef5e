"""The twin rule of the traced contract tests (tests/contract/twins.py)."""

from algoperf import registry
from tests.conftest import edit_suite_file
from tests.contract import twins


def test_a_variant_with_an_earlier_twin_is_traced_in_the_slow_set(
    suites_dir):
  def add_copies(raw):
    raw['workloads']['mnist_relu_again'] = {
      'import': 'workloads.mnist.workload:MnistReluWorkload',
      'base_name': 'mnist', 'validation_target_value': 0.9,
      'test_target_value': 0.9}
    raw['workloads']['mnist_again'] = {
      'import': 'workloads.mnist.workload:MnistWorkload',
      'target_metric_name': 'accuracy', 'metric_direction': 'max',
      'validation_target_value': 0.9, 'test_target_value': 0.9,
      'targets_are_provisional': True, 'max_allowed_runtime_sec': 2,
      'eval_period_time_sec': 0.1, 'eval_every_steps': 10,
      'step_hint': 100}

  edit_suite_file(suites_dir / 'cpu.json', add_copies)
  names = ['mnist', 'mnist_relu', 'mnist_deep', 'mnist_again',
           'mnist_relu_again']
  # A workload whose model, inputs, loss and metric equal an earlier
  # one's is set aside, base or variant.
  assert twins.twins(names) == {'mnist_relu_again': 'mnist_relu',
                                'mnist_again': 'mnist'}
  slow = [p.values[0] for p in twins.synthetic_params(names)
          if not isinstance(p, str)]
  assert slow == ['mnist_again', 'mnist_relu_again']
  compiled_slow = [p.values[0] for p in twins.synthetic_params(
    names, variants_slow=True) if not isinstance(p, str)]
  assert compiled_slow == ['mnist_relu', 'mnist_deep', 'mnist_again',
                           'mnist_relu_again']


def test_the_shipped_suite_sets_aside_only_twins():
  names = registry.names('cpu')
  found = twins.twins(names)
  for name, twin in found.items():
    assert names.index(twin) < names.index(name)
    assert twins._signature(name) == twins._signature(twin)
  # The cpu-1.0 families on the digit and molecule models are the twins.
  assert found['fashion_resnet'] == 'digits_resnet'
  assert found['zinc_gnn_gelu'] == 'molecules_gnn_gelu'
