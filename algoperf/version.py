"""What `algoperf --version` prints: the package's version, the benchmark
version of each suite, and the git commit when the package runs from a
checkout (an installed copy has no commit to report)."""

import importlib.metadata
import pathlib
import subprocess

PACKAGE = 'algoperf-bench'
_PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


def package_version() -> str:
  try:
    return importlib.metadata.version(PACKAGE)
  except importlib.metadata.PackageNotFoundError:
    return 'unknown (not installed; run pip install -e .)'


def benchmark_versions() -> list[str]:
  """'suite cpu: benchmark cpu-0.3', one per suite, with its earlier
  versions if it keeps any."""
  from algoperf import registry

  lines = []
  for name, suite in sorted(registry.suites().items()):
    earlier = (f' (also scores {", ".join(suite.earlier_versions)})'
               if suite.earlier_versions else '')
    lines.append(f'suite {name}: benchmark {suite.benchmark_version}'
                 f'{earlier}')
  return lines


def _git(*args: str) -> str | None:
  try:
    done = subprocess.run(['git', '-C', str(_PACKAGE_DIR.parent), *args],
                          capture_output=True, text=True, timeout=5,
                          check=False)
  except (OSError, subprocess.SubprocessError):
    return None
  return done.stdout.strip() if done.returncode == 0 else None


def checkout_commit() -> str | None:
  """'<sha> (uncommitted changes)' when this package is a checkout's own
  ``algoperf/`` folder; None for an installed copy (even one inside some
  other repository, such as a virtual environment in a checkout)."""
  top = _git('rev-parse', '--show-toplevel')
  if top is None or pathlib.Path(top).resolve() != _PACKAGE_DIR.parent:
    return None
  sha = _git('rev-parse', 'HEAD')
  if not sha:
    return None
  dirty = _git('status', '--porcelain', '--untracked-files=no')
  return sha + (' (uncommitted changes)' if dirty else '')


def text() -> str:
  lines = [f'{PACKAGE} {package_version()}']
  lines += benchmark_versions()
  commit = checkout_commit()
  lines.append(f'git commit {commit} in {_PACKAGE_DIR.parent}' if commit
               else 'git commit: none (not running from a checkout)')
  return '\n'.join(lines)
