"""Fixtures of the fault campaign (docs/reliability.md)."""

import shutil

import pytest

from tests.algoperf.conftest import mnist_data_dir  # noqa: F401


@pytest.fixture
def mnist_copy(mnist_data_dir, tmp_path):  # noqa: F811
  """A private copy of the prepared mnist data, free to corrupt."""
  copy = tmp_path / 'data'
  shutil.copytree(mnist_data_dir, copy)
  return copy
