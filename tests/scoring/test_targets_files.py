"""The shipped targets files load and agree with AlgoPerf's conventions."""

import json
import subprocess
import sys

import pytest

from scoring import workload_targets
from scoring.errors import ScoringError
from tests.scoring.test_no_jax import REPO


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


def test_generator_writes_a_loadable_file(tmp_path):
  output = tmp_path / 'cpu.json'
  done = subprocess.run(
    [sys.executable, 'scripts/generate_workload_targets.py', '--skip-broken',
     '--output', str(output)], cwd=REPO, capture_output=True, text=True,
    timeout=300, check=False)
  assert done.returncode == 0, done.stderr
  config = workload_targets.load_targets(str(output))
  raw = json.loads(output.read_text())
  assert config.base_workloads == tuple(raw['base_workloads'])
  assert 'mnist' in config.workloads
