"""The shipped targets files load and agree with AlgoPerf's conventions."""

import json

import pytest

from scoring import workload_targets
from scoring.errors import ScoringError


def test_v05_targets():
  config = workload_targets.load_targets('algoperf_v05')
  assert config.benchmark_version == '0.5'
  assert len(config.base_workloads) == 8
  assert len(config.held_out_workloads) == 6
  for name, target in config.workloads.items():
    # Explicit directions agree with AlgoPerf's metric-name rule.
    assert target.direction == workload_targets.direction_from_metric_name(
      target.column), name
  assert config.base_of('imagenet_resnet_large_bn_init') == 'imagenet_resnet'
  assert config.workloads['wmt'].max_allowed_runtime_sec == 48151


def test_cpu_suite_targets_load_and_name_their_bases():
  config = workload_targets.load_targets('cpu_suite')
  assert config.held_out_workloads == ()
  assert config.base_workloads
  for name, target in config.workloads.items():
    assert target.direction in ('min', 'max')
    if target.base_name:
      assert target.base_name in config.workloads, name


def test_unknown_targets_file_lists_builtins(tmp_path):
  with pytest.raises(ScoringError, match='algoperf_v05, cpu_suite'):
    workload_targets.load_targets(str(tmp_path / 'nope.json'))


def test_a_suite_document_written_to_a_file_loads_as_the_builtin(tmp_path):
  output = tmp_path / 'cpu.json'
  output.write_text(json.dumps(workload_targets.builtin_document('cpu_suite')))
  from_file = workload_targets.load_targets(str(output))
  builtin = workload_targets.load_targets('cpu_suite')
  assert from_file.workloads == builtin.workloads
  assert from_file.base_workloads == builtin.base_workloads
  assert 'mnist' in from_file.workloads
