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
  # A base is never set aside (its data side is its own); a variant whose
  # model, inputs, loss and metric equal an earlier one's is.
  assert twins.twins(names) == {'mnist_relu_again': 'mnist_relu'}
  params = twins.traced_params(names)
  assert [p for p in params if not isinstance(p, str)][0].values == (
    'mnist_relu_again',)


def test_the_shipped_suite_sets_aside_only_twins():
  names = registry.names('cpu')
  for variant, twin in twins.twins(names).items():
    assert registry.facts(variant).base_name
    assert twins._signature(variant) == twins._signature(twin)
