"""AlgoPerf's parameter trees, per workload, from AlgoPerf's own code.

  .venv/bin/python scripts/algoperf_param_counts.py --algoperf-dir DIR \
      [--family F] [--python PY] [--check]

For each family with a ``scripts/algoperf_params/<family>.py`` (written by
that family's model side: ``algoperf_models()`` maps workload names to
functions returning AlgoPerf's parameter-shape tree, via jax.eval_shape of
AlgoPerf's init), runs it in a subprocess whose sys.path starts with DIR --
a checkout of mlcommons/algorithmic-efficiency (never committed here) --
and leaves this repository off it (both packages are named ``algoperf``).
Writes ``tests/workloads/algoperf_params/<family>.json``::

  {"algoperf_commit": "2c90454", "script": "scripts/algoperf_param_counts.py",
   "workloads": {"<name>": {"num_params": N,
                            "shapes": {"path/to/leaf": [..], ...}}}}

workloads in ``algoperf_models()`` order, leaf paths ``/``-joined and
sorted. ``--check`` compares instead of writing (exit 1 on a difference).
AlgoPerf's GNN needs jraph in the subprocess's environment (``--python``);
torch is not needed (AlgoPerf's spec.py imports it: placeholders stand in).
"""

import argparse
import json
import pathlib
import subprocess
import sys

from algoperf import registry

REPO = pathlib.Path(__file__).resolve().parents[1]
FAMILY_DIR = REPO / 'scripts' / 'algoperf_params'
OUT_DIR = REPO / 'tests' / 'workloads' / 'algoperf_params'
SCRIPT = 'scripts/algoperf_param_counts.py'
DEFAULT_COMMIT = '2c90454'

# Runs inside the subprocess: AlgoPerf first on sys.path, this repo absent.
_CHILD = r'''
import importlib.util, json, math, sys
algoperf_dir, family_file, repo = sys.argv[1:4]
sys.path = [algoperf_dir] + [p for p in sys.path
                             if p not in ('', '.', repo)]
import os, types
if not os.path.exists(os.path.join(algoperf_dir, 'algoperf', '_version.py')):
  # An export, not an install: setuptools_scm never wrote _version.py.
  sys.modules['algoperf._version'] = types.SimpleNamespace(version='export')
try:
  import torch  # noqa: F401
except ImportError:
  # AlgoPerf's algoperf/spec.py imports torch for its PyTorch half; the JAX
  # models never call it. Without torch, placeholder modules let the import
  # succeed (any torch.* name is a placeholder; calling one fails loudly).
  import importlib.abc, importlib.machinery

  class _Placeholder(types.ModuleType):
    __path__ = []
    def __getattr__(self, name):
      if name.startswith('__'):
        raise AttributeError(name)
      return _Placeholder(f'{self.__name__}.{name}')
    def __call__(self, *args, **kwargs):
      raise RuntimeError(f'{self.__name__}: torch is not installed')

  class _TorchFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
      if name == 'torch' or name.startswith('torch.'):
        return importlib.machinery.ModuleSpec(name, self, is_package=True)
      return None
    def create_module(self, spec):
      return _Placeholder(spec.name)
    def exec_module(self, module):
      pass

  sys.meta_path.insert(0, _TorchFinder())
spec = importlib.util.spec_from_file_location('_algoperf_params', family_file)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
import jax

def is_leaf(x):
  return hasattr(x, 'shape') or (
    isinstance(x, (tuple, list)) and all(isinstance(i, int) for i in x))

def key_name(k):
  for attr in ('key', 'name', 'idx'):
    if hasattr(k, attr):
      return str(getattr(k, attr))
  return str(k)

out = {}
for name, shapes_fn in module.algoperf_models().items():
  tree = shapes_fn()
  leaves = jax.tree_util.tree_flatten_with_path(tree, is_leaf=is_leaf)[0]
  shapes = {}
  for path, leaf in leaves:
    shape = leaf.shape if hasattr(leaf, 'shape') else leaf
    shapes['/'.join(key_name(k) for k in path)] = [int(d) for d in shape]
  shapes = dict(sorted(shapes.items()))
  out[name] = {'num_params': sum(math.prod(s) for s in shapes.values()),
               'shapes': shapes}
print('@@JSON@@' + json.dumps(out))
'''


def families(chosen: str | None, family_dir: pathlib.Path = FAMILY_DIR
             ) -> list:
  # Only the AlgoPerf suite's families: the folder also keeps helpers of
  # other checks (librispeech_outputs.py, for the output-parity tests).
  known = registry.suite('algoperf').families
  found = sorted(p.stem for p in family_dir.glob('*.py') if p.stem in known)
  if chosen:
    if chosen not in found:
      raise SystemExit(f'error: no {family_dir / chosen}.py; families: '
                       f'{", ".join(found) or "none"}')
    return [chosen]
  return found


def commit_of(algoperf_dir: pathlib.Path, default: str) -> str:
  """The checkout's short commit (git), else ``default`` (an export)."""
  if (algoperf_dir / '.git').exists():
    done = subprocess.run(['git', '-C', str(algoperf_dir), 'rev-parse',
                           '--short=7', 'HEAD'], capture_output=True,
                          text=True, check=False)
    if done.returncode == 0:
      return done.stdout.strip()
  return default


def run_family(family: str, algoperf_dir: pathlib.Path, python: str,
               family_dir: pathlib.Path = FAMILY_DIR) -> dict:
  done = subprocess.run(
    [python, '-c', _CHILD, str(algoperf_dir),
     str(family_dir / f'{family}.py'), str(REPO)],
    capture_output=True, text=True, check=False, cwd=str(algoperf_dir),
    env={'JAX_PLATFORMS': 'cpu', 'PATH': '/usr/bin:/bin'})
  marker = [line for line in done.stdout.splitlines()
            if line.startswith('@@JSON@@')]
  if done.returncode != 0 or not marker:
    raise SystemExit(f'error: {family}: AlgoPerf\'s models did not load '
                     f'(exit {done.returncode}):\n{done.stderr[-2000:]}')
  return json.loads(marker[0][len('@@JSON@@'):])


def document(workloads: dict, commit: str) -> str:
  return json.dumps({'algoperf_commit': commit, 'script': SCRIPT,
                     'workloads': workloads}, indent=1) + '\n'


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--algoperf-dir', required=True, type=pathlib.Path,
                      help='a checkout of mlcommons/algorithmic-efficiency')
  parser.add_argument('--family', help='one family (default: every one)')
  parser.add_argument('--python', default=sys.executable,
                      help='the interpreter to run AlgoPerf\'s code with')
  parser.add_argument('--commit', default=DEFAULT_COMMIT,
                      help='recorded when DIR is not a git checkout')
  parser.add_argument('--check', action='store_true',
                      help='compare with the committed tables, write nothing')
  parser.add_argument('--out-dir', type=pathlib.Path, default=OUT_DIR)
  parser.add_argument('--family-dir', type=pathlib.Path, default=FAMILY_DIR,
                      help=argparse.SUPPRESS)  # Tests: other family files.
  args = parser.parse_args(argv)
  algoperf_dir = args.algoperf_dir.resolve()
  if not (algoperf_dir / 'algoperf' / 'workloads').is_dir():
    raise SystemExit(f'error: {algoperf_dir} is not an AlgoPerf checkout '
                     '(no algoperf/workloads/).')
  commit = commit_of(algoperf_dir, args.commit)
  differ = []
  for family in families(args.family, args.family_dir):
    text = document(run_family(family, algoperf_dir, args.python,
                               args.family_dir), commit)
    path = args.out_dir / f'{family}.json'
    if args.check:
      old = json.loads(path.read_text()) if path.exists() else None
      if old != json.loads(text):
        differ.append(family)
      print(f'{family}: {"differs" if family in differ else "same"}')
      continue
    args.out_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix('.json.tmp')
    tmp.write_text(text)
    tmp.replace(path)
    counts = json.loads(text)['workloads']
    print(f'{family}: ' + ', '.join(f'{n} {w["num_params"]:,}'
                                    for n, w in counts.items()))
  return 1 if differ else 0


if __name__ == '__main__':
  sys.exit(main())
