"""Dependencies point one way: each package imports only the ones below it.

The core (``algoperf``) imports none of the project's other packages;
workloads, reference algorithms and submissions build on the core; scoring
reads files and may use the core's JAX-free modules (errors, registry);
scripts and benchmarks sit on top. Read from the source (AST), so lazy
imports inside functions and ``importlib.import_module('x')`` or
``__import__('x')`` with a literal name count too. Import *strings* held
as data (the suite files, the CLI's verb table) are not imports.
"""

import ast
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
OURS = ('algoperf', 'workloads', 'reference_algorithms', 'submissions',
        'scoring', 'scripts', 'benchmarks', 'tests')
# package -> the project packages it may import (itself always).
ALLOWED = {
  'algoperf': set(),
  'workloads': {'algoperf'},
  'reference_algorithms': {'algoperf'},
  'submissions': {'algoperf'},
  'scoring': {'algoperf'},
  'scripts': {'algoperf', 'scoring'},
  'benchmarks': {'algoperf', 'scoring', 'workloads', 'reference_algorithms'},
  'submission_runner.py': {'algoperf'},
}
_DYNAMIC = {('importlib', 'import_module'), (None, '__import__'),
            (None, 'import_module')}


def imported_modules(source: str) -> list:
  """(line, module) for every import, lazy or dynamic with a literal name."""
  found = []
  for node in ast.walk(ast.parse(source)):
    if isinstance(node, ast.Import):
      found += [(node.lineno, alias.name) for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0:
      found.append((node.lineno, node.module))
    elif isinstance(node, ast.Call) and node.args and isinstance(
        node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
      func = node.func
      owner = getattr(func.value, 'id', None) if isinstance(
        func, ast.Attribute) else None
      name = func.attr if isinstance(func, ast.Attribute) else getattr(
        func, 'id', None)
      if (owner, name) in _DYNAMIC:
        found.append((node.lineno, node.args[0].value))
  return found


def violations(root: pathlib.Path, allowed: dict = ALLOWED) -> list:
  """'file:line imports X' for every import against the direction."""
  problems = []
  for unit, may_import in allowed.items():
    path = root / unit
    files = [path] if path.is_file() else sorted(path.rglob('*.py'))
    for file in files:
      for line, module in imported_modules(file.read_text()):
        top = module.split('.')[0]
        if top in OURS and top != unit and top not in may_import:
          problems.append(f'{file.relative_to(root)}:{line} imports '
                          f'{module} ({unit} may import only '
                          f'{sorted(may_import) or "nothing of ours"})')
  return problems


def test_every_package_imports_only_what_is_below_it():
  assert violations(REPO) == []


@pytest.mark.parametrize('line', [
  'from workloads import registry',
  'import reference_algorithms.nadamw.submission',
  'def f():\n  from scripts import set_targets',
  'import importlib\nimportlib.import_module("benchmarks.runner_overhead")',
  '__import__("workloads.mnist.workload")',
])
def test_an_upward_import_in_the_core_is_caught(tmp_path, line):
  core = tmp_path / 'algoperf'
  core.mkdir()
  (core / 'bad.py').write_text(line + '\n')
  [problem] = violations(tmp_path, {'algoperf': set()})
  assert problem.startswith('algoperf/bad.py:')


def test_import_strings_held_as_data_are_not_imports(tmp_path):
  core = tmp_path / 'algoperf'
  core.mkdir()
  (core / 'table.py').write_text(
    "VERBS = {'score': 'scoring.cli_score'}\n"
    'import importlib\n'
    'def load(name):\n  return importlib.import_module(VERBS[name])\n')
  assert violations(tmp_path, {'algoperf': set()}) == []
