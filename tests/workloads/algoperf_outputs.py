"""Runs one of AlgoPerf's own JAX models and saves its variables and outputs.

A script, run in a subprocess by tests/workloads/test_<family>.py::
    python algoperf_outputs.py ALGOPERF_DIR FAMILY OUT_DIR WORKLOAD...
with AlgoPerf's checkout (mlcommons/algorithmic-efficiency at 2c90454) first
on sys.path and this repository off it: both top-level packages are named
``algoperf``. The model comes from scripts/algoperf_params/FAMILY.py
(``algoperf_modules``), is initialised with PRNGKey(0) on AlgoPerf's init
input, and applied to two random examples of that input's shape: in eval
mode, and for BatchNorm models also in train mode (batch statistics used
and updated). For the outputs, every parameter that starts constant (zero
heads and biases, BatchNorm and LayerNorm scales) is first perturbed with
noise, so that no part of the network is switched off at initialisation
and hidden from the comparison. Saved: the initial variables
('variables/...'), the variables applied ('applied/...'), the inputs and
outputs, one OUT_DIR/WORKLOAD.npz per workload. The test loads 'applied'
into our model and compares.
"""

import pathlib
import runpy
import sys
import types

import numpy as np


def _stub_missing_modules():
  """What AlgoPerf imports but its JAX models never use.

  ``algoperf/__init__.py`` reads a ``_version`` module that only an install
  generates; ``algoperf/spec.py`` imports torch at module level for its
  PyTorch helpers.
  """
  sys.modules.setdefault('algoperf._version',
                         types.SimpleNamespace(version='0+2c90454'))
  try:
    import torch  # noqa: F401
  except ImportError:
    torch = types.ModuleType('torch')
    torch.nn = types.ModuleType('torch.nn')
    torch.nn.Module = type('Module', (), {})
    torch.nn.functional = types.ModuleType('torch.nn.functional')
    sys.modules.update({'torch': torch, 'torch.nn': torch.nn,
                        'torch.nn.functional': torch.nn.functional})


def _flatten(tree, prefix=''):
  flat = {}
  for key, value in tree.items():
    path = f'{prefix}{key}'
    if isinstance(value, dict) or hasattr(value, 'items'):
      flat.update(_flatten(value, path + '/'))
    else:
      flat[path] = np.asarray(value)
  return flat


def _unflatten(flat):
  tree = {}
  for key, value in flat.items():
    *parents, leaf = key.split('/')
    node = tree
    for name in parents:
      node = node.setdefault(name, {})
    node[leaf] = value
  return tree


def main(algoperf_dir, family, out_dir, *workloads):
  repo = pathlib.Path(__file__).resolve().parents[2]
  sys.path = [p for p in sys.path
              if pathlib.Path(p or '.').resolve() != repo]
  sys.path.insert(0, algoperf_dir)
  _stub_missing_modules()
  family_file = repo / 'scripts' / 'algoperf_params' / f'{family}.py'
  modules = runpy.run_path(str(family_file))['algoperf_modules']()
  for workload in workloads:
    module, init_input = modules[workload]()
    _save_outputs(family, module, init_input,
                  pathlib.Path(out_dir) / f'{workload}.npz')


def _save_outputs(family, module, init_input, out):
  import jax

  if family == 'fastmri':
    init = jax.jit(lambda rng, x: module.init(rng, x, train=False))
  else:
    init = jax.jit(module.init)
  variables = init({'params': jax.random.PRNGKey(0)}, init_input)
  rng = np.random.default_rng(0)
  inputs = rng.standard_normal((2,) + init_input.shape[1:]).astype(np.float32)
  initial = _flatten(variables)
  applied = {k: v + rng.normal(0, 0.1, v.shape).astype(v.dtype)
             if k.startswith('params/') and v.std() == 0 else v
             for k, v in initial.items()}
  variables = _unflatten(applied)
  saved = {f'variables/{k}': v for k, v in initial.items()}
  saved.update({f'applied/{k}': v for k, v in applied.items()})
  saved['inputs'] = inputs
  if family == 'imagenet_resnet':
    saved['eval_outputs'] = module.apply(variables, inputs,
                                         update_batch_norm=False)
    train_outputs, state = module.apply(variables, inputs,
                                        update_batch_norm=True,
                                        mutable=['batch_stats'])
    saved['train_outputs'] = train_outputs
    saved.update({f'new_state/{k}': v for k, v in _flatten(state).items()})
  else:
    saved['eval_outputs'] = module.apply(variables, inputs, train=False)
  np.savez(out, **{k: np.asarray(v) for k, v in saved.items()})


if __name__ == '__main__':
  main(*sys.argv[1:])
