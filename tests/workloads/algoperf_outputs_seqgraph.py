"""Runs AlgoPerf's own wmt / ogbg / criteo1tb models; saves their outputs.

A script, run in a subprocess by tests/workloads/test_<family>.py::

    python algoperf_outputs_seqgraph.py ALGOPERF_DIR FAMILY OUT_DIR
    python algoperf_outputs_seqgraph.py ALGOPERF_DIR FAMILY --table

with AlgoPerf's checkout (mlcommons/algorithmic-efficiency at 2c90454)
first on sys.path and this repository off it (both packages are named
``algoperf``). Each case (``CASES[FAMILY]``) is initialised with
PRNGKey(0), every parameter gets N(0, 0.1) noise (so constant LayerNorm
scales and biases cannot hide a wrong wiring), and the model is applied in
eval mode to fixed inputs. Saved to OUT_DIR/<case>.npz: ``p/<path>`` (the
parameters applied), the inputs and ``out``. The tests load the parameters
into our model of the same settings and compare outputs. Small settings
(vocab, width) keep it fast; the code paths are AlgoPerf's full ones.
With ``--table`` it prints, as JSON, the parameter table that
scripts/algoperf_params/FAMILY.py reads from AlgoPerf's code (the tests
compare it with the committed one). ogbg needs jraph importable; without
it the script exits 3.
"""

import pathlib
import sys
import types

import numpy as np

WMT_SMALL = dict(vocab_size=50, emb_dim=32, num_heads=4, num_layers=2,
                 qkv_dim=32, mlp_dim=64)
# case -> settings, in AlgoPerf's own argument names.
CASES = {
  'criteo1tb': {'dlrm': {}, 'dlrm_layernorm': {'use_layer_norm': True},
                'dlrm_embed_init': {'embedding_init_multiplier': 1.0},
                'resnet': {'resnet': True}},
  'ogbg': {'gnn': {}, 'gnn_model_size': {
    'latent_dim': 128, 'hidden_dims': (256, 256),
    'num_message_passing_steps': 3, 'activation_fn_name': 'gelu'}},
  'wmt': {'transformer': {}, 'post_ln': {'pre_ln': False},
          'glu_tanh': {'glu': True, 'activation': 'tanh'},
          'attention_temp': {'attention_temp': 4.0}},
}
CRITEO_VOCAB = 1024


def criteo_inputs():
  rng = np.random.default_rng(1)
  dense = np.log1p(rng.integers(0, 50, (4, 13)))
  ids = rng.integers(0, 10**7, (4, 26))  # Wrapped modulo the table.
  return {'inputs': np.concatenate([dense, ids], 1).astype(np.float32)}


def ogbg_inputs():
  """Three graphs, the last a padding-like graph with self-loops."""
  rng = np.random.default_rng(2)
  return {
    'nodes': rng.standard_normal((9, 9)).astype(np.float32),
    'edges': rng.standard_normal((9, 3)).astype(np.float32),
    'senders': np.array([0, 1, 1, 2, 3, 4, 5, 5, 5], np.int32),
    'receivers': np.array([1, 2, 0, 1, 4, 3, 5, 5, 5], np.int32),
    'n_node': np.array([3, 2, 4], np.int32),
    'n_edge': np.array([4, 2, 3], np.int32),
  }


def wmt_inputs():
  """Two unpacked rows of different lengths, 0-padded to 256."""
  inputs = np.zeros((2, 256), np.int32)
  targets = np.zeros((2, 256), np.int32)
  inputs[0, :5] = [5, 6, 7, 8, 2]
  inputs[1, :3] = [9, 10, 2]
  targets[0, :4] = [11, 12, 13, 2]
  targets[1, :6] = [14, 15, 16, 17, 18, 2]
  return {'inputs': inputs, 'targets': targets}


INPUTS = {'criteo1tb': criteo_inputs, 'ogbg': ogbg_inputs, 'wmt': wmt_inputs}


def _flatten(tree, prefix=''):
  flat = {}
  for key, value in tree.items():
    if hasattr(value, 'items'):
      flat.update(_flatten(value, f'{prefix}{key}/'))
    else:
      flat[f'{prefix}{key}'] = np.asarray(value)
  return flat


def _algoperf_apply(family, settings, inputs):
  """AlgoPerf's module for ``settings``, its init and apply on ``inputs``."""
  import jax
  import jax.numpy as jnp

  if family == 'criteo1tb':
    from algoperf.workloads.criteo1tb.criteo1tb_jax import models

    settings = dict(settings)
    cls = models.DLRMResNet if settings.pop('resnet', False) else (
      models.DlrmSmall)
    module = cls(vocab_size=CRITEO_VOCAB, **settings)
    args = (jnp.asarray(inputs['inputs']),)
  elif family == 'ogbg':
    import jraph

    from algoperf.workloads.ogbg.ogbg_jax import models

    module = models.GNN(128, **settings)
    args = (jraph.GraphsTuple(globals=np.zeros((3, 128), np.float32),
                              **inputs),)
  else:
    from algoperf.workloads.wmt.wmt_jax import models

    settings = dict(settings)
    if settings.get('activation') == 'tanh':
      settings['activation'] = jnp.tanh
    config = models.TransformerConfig(**WMT_SMALL, **settings,
                                      deterministic=True)
    module = models.Transformer(config)
    args = (jnp.asarray(inputs['inputs']), jnp.asarray(inputs['targets']))
  kwargs = {} if family == 'wmt' else {'train': False}
  params = module.init({'params': jax.random.PRNGKey(0)}, *args,
                       **kwargs)['params']
  noise = np.random.default_rng(3)
  params = jax.tree.map(
    lambda x: x + 0.1 * noise.standard_normal(x.shape).astype(x.dtype),
    params)
  return params, module.apply({'params': params}, *args, **kwargs)


def _table(repo, family):
  """Prints {workload: {num_params, shapes}} from AlgoPerf's code, as
  scripts/algoperf_params/FAMILY.py reads it."""
  import json
  import runpy

  import jax

  family_file = repo / 'scripts' / 'algoperf_params' / f'{family}.py'
  table = {}
  for name, shapes in runpy.run_path(str(family_file))[
      'algoperf_models']().items():
    leaves = jax.tree_util.tree_flatten_with_path(shapes())[0]
    flat = {'/'.join(str(k.key) for k in path): list(leaf.shape)
            for path, leaf in leaves}
    table[name] = {'num_params': int(sum(np.prod(s) for s in flat.values())),
                   'shapes': dict(sorted(flat.items()))}
  print(json.dumps(table))


def main(algoperf_dir, family, out_dir):
  repo = pathlib.Path(__file__).resolve().parents[2]
  sys.path = [p for p in sys.path
              if pathlib.Path(p or '.').resolve() != repo]
  sys.path.insert(0, algoperf_dir)
  # algoperf/__init__.py reads a _version module only an install writes.
  sys.modules.setdefault('algoperf._version',
                         types.SimpleNamespace(version='0+2c90454'))
  if family == 'ogbg':
    try:
      import jraph  # noqa: F401
    except ImportError:
      sys.exit(3)
  if out_dir == '--table':
    _table(repo, family)
    return
  inputs = INPUTS[family]()
  for case, settings in CASES[family].items():
    params, out = _algoperf_apply(family, settings, inputs)
    arrays = {f'p/{k}': v for k, v in _flatten(params).items()}
    np.savez(pathlib.Path(out_dir) / f'{case}.npz', out=np.asarray(out),
             **arrays, **inputs)


def _run(family: str, out_dir: str) -> str:
  """Runs this script in a subprocess; its stdout. Skips the calling test
  when AlgoPerf's code (or, for ogbg, jraph) is absent."""
  import subprocess

  import pytest

  from tests.workloads import param_table

  source = param_table.algoperf_dir()
  if source is None:
    pytest.skip('AlgoPerf\'s code is absent: set ALGOPERF_SRC to a checkout '
                'of mlcommons/algorithmic-efficiency at 2c90454.')
  done = subprocess.run([sys.executable, __file__, str(source), family,
                         out_dir], capture_output=True, text=True,
                        timeout=1800)
  if done.returncode == 3:
    pytest.skip('AlgoPerf\'s ogbg model needs jraph: pip install jraph.')
  assert done.returncode == 0, done.stderr[-3000:]
  return done.stdout


def algoperf_outputs(family: str, out_dir) -> dict:
  """For the tests: AlgoPerf's outputs per case -> {case: arrays}."""
  _run(family, str(out_dir))
  return {case: dict(np.load(pathlib.Path(out_dir) / f'{case}.npz'))
          for case in CASES[family]}


def assert_table_is_algoperfs(family: str) -> None:
  """The committed table equals what scripts/algoperf_params/FAMILY.py
  reads from AlgoPerf's code now."""
  import json

  from tests.workloads import param_table

  fresh = json.loads(_run(family, '--table').strip().splitlines()[-1])
  assert fresh == param_table.table(family)['workloads']


def assert_same_outputs(ours, theirs, case: str) -> None:
  """Equal to float32 rounding, relative to the outputs' scale."""
  ours, theirs = np.asarray(ours), np.asarray(theirs)
  assert ours.shape == theirs.shape, (case, ours.shape, theirs.shape)
  scale = np.abs(theirs).max()
  assert np.abs(ours - theirs).max() <= 1e-5 * scale + 1e-6, case


if __name__ == '__main__':
  main(*sys.argv[1:])
