"""Shared fixtures: tiny synthetic workloads and in-memory submissions."""

import dataclasses
import os
import pathlib
import sys

import pytest

# Tests check behaviour, not speed: XLA's backend optimizations triple the
# compile time of the small models here and buy nothing for a few steps.
# Set before JAX is imported; an explicit XLA_FLAGS from the caller wins.
os.environ.setdefault('XLA_FLAGS', '--xla_backend_optimization_level=0')

REPO = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = REPO / 'tests' / 'fixtures'
ALGOPERF_STYLE = FIXTURES / 'algoperf_style'

if str(REPO) not in sys.path:
  sys.path.insert(0, str(REPO))


@pytest.fixture
def mnist_synthetic():
  """The real mnist workload class serving 64 random examples per split."""
  from algoperf import registry

  workload = registry.make_workload('mnist')
  workload.use_synthetic_data(64)
  return workload


def load_fixture_submission(path=ALGOPERF_STYLE, **overrides):
  """Loads a submission file, then swaps in replacement functions."""
  from algoperf import submission as submission_lib

  loaded = submission_lib.load_submission(path)
  return dataclasses.replace(loaded, **overrides)


@pytest.fixture
def experiment_dir(tmp_path):
  return tmp_path / 'experiments'


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
  """Tests never read the user's prepared data unless they ask for it."""
  if 'ALGOPERF_TEST_REAL_DATA' not in os.environ:
    monkeypatch.setenv('ALGOPERF_DATA_DIR', str(tmp_path / 'data'))
