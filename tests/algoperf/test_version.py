"""`algoperf --version`: package, suites' benchmark versions, git commit."""

import importlib.metadata
import pathlib
import subprocess

from algoperf import cli
from algoperf import registry
from algoperf import version

REPO = pathlib.Path(__file__).resolve().parents[2]


def _printed(capsys) -> str:
  try:
    cli.main(['--version'])
  except SystemExit as e:
    assert e.code in (0, None)
  return capsys.readouterr().out


def test_version_names_package_suites_and_commit(capsys):
  out = _printed(capsys)
  assert out.startswith(
    f'algoperf-bench {importlib.metadata.version("algoperf-bench")}\n')
  for name, suite in registry.suites().items():
    assert f'suite {name}: benchmark {suite.benchmark_version}' in out
  head = subprocess.run(['git', '-C', str(REPO), 'rev-parse', 'HEAD'],
                        capture_output=True, text=True, check=False)
  if head.returncode == 0:  # Tests run from a checkout.
    assert f'git commit {head.stdout.strip()}' in out


def test_no_commit_for_a_copy_inside_another_repository(tmp_path,
                                                        monkeypatch):
  # A virtual environment inside some checkout: git answers for that
  # checkout, whose commit says nothing about this copy.
  subprocess.run(['git', 'init', '-q', str(tmp_path)], check=True)
  copy = tmp_path / '.venv' / 'site-packages' / 'algoperf'
  copy.mkdir(parents=True)
  monkeypatch.setattr(version, '_PACKAGE_DIR', copy)
  assert version.checkout_commit() is None
  assert 'git commit: none (not running from a checkout)' in version.text()
