"""scripts/algoperf_param_counts.py runs AlgoPerf's own code, not ours.

Needs a checkout of mlcommons/algorithmic-efficiency ($ALGOPERF_SRC, else
/work/algoperf_src); skips, saying so, without one. The family files of the
AlgoPerf suite (scripts/algoperf_params/) are checked by the slow test; the
fast one drives a family file written here around AlgoPerf's MNIST MLP.
"""

import json
import math
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
ALGOPERF = pathlib.Path(os.environ.get('ALGOPERF_SRC', '/work/algoperf_src'))
pytestmark = pytest.mark.skipif(
  not (ALGOPERF / 'algoperf' / 'workloads').is_dir(),
  reason=f'AlgoPerf\'s code is not at {ALGOPERF}: set ALGOPERF_SRC to a '
  'checkout of mlcommons/algorithmic-efficiency (commit 2c90454) to run it')

_DLRM = '''
def _shapes():
  import algoperf, jax, jax.numpy as jnp, pathlib
  # The subprocess must see AlgoPerf's package, never this repository's.
  assert pathlib.Path(algoperf.__file__).parents[1] == pathlib.Path(
    {algoperf_dir!r}), algoperf.__file__
  from algoperf.workloads.criteo1tb.criteo1tb_jax import models
  model = models.DlrmSmall(vocab_size=1000, mlp_bottom_dims=(32, 16),
                           mlp_top_dims=(8, 1), embed_dim=16)
  return jax.eval_shape(lambda: model.init(
    jax.random.PRNGKey(0), jnp.zeros((2, 39)), train=False))['params']

def algoperf_models():
  return {{'dlrm_tiny': _shapes}}
'''


def _run(*args):
  return subprocess.run(
    [sys.executable, str(REPO / 'scripts' / 'algoperf_param_counts.py'),
     '--algoperf-dir', str(ALGOPERF), *args],
    capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow  # Two subprocesses importing JAX and AlgoPerf: ~15 s.
def test_the_driver_writes_algoperfs_tree_in_the_table_format(tmp_path):
  family_dir = tmp_path / 'families'
  family_dir.mkdir()
  (family_dir / 'criteo1tb.py').write_text(
    _DLRM.format(algoperf_dir=str(ALGOPERF.resolve())))
  done = _run('--family-dir', str(family_dir), '--out-dir',
              str(tmp_path / 'out'))
  assert done.returncode == 0, done.stderr
  table = json.loads((tmp_path / 'out' / 'criteo1tb.json').read_text())
  assert table['script'] == 'scripts/algoperf_param_counts.py'
  assert table['algoperf_commit'] == '2c90454'
  dlrm = table['workloads']['dlrm_tiny']
  shapes = dlrm['shapes']
  assert list(shapes) == sorted(shapes)
  assert dlrm['num_params'] == sum(
    math.prod(s) for s in shapes.values())
  # AlgoPerf's DLRM-small: one 1000 x 16 embedding table, a bottom MLP
  # from the 13 dense features.
  assert sorted(s for s in shapes.values() if 1000 in s) == [[1000, 16]]
  assert [13, 32] in shapes.values()
  assert _run('--family-dir', str(family_dir), '--out-dir',
              str(tmp_path / 'out'), '--check').returncode == 0


_FAMILIES = sorted(p.stem for p in
                   (REPO / 'tests' / 'workloads' / 'algoperf_params').glob(
                     '*.json'))


@pytest.mark.slow
@pytest.mark.parametrize('family', _FAMILIES)
def test_the_committed_table_is_what_algoperf_computes(family):
  """Each family file against its committed table."""
  if family == 'ogbg':
    # AlgoPerf's GNN imports jraph, which this project does not need.
    pytest.importorskip('jraph', reason='AlgoPerf\'s ogbg model needs jraph: '
                        'pip install jraph to check its table')
  done = _run('--check', '--family', family)
  assert done.returncode == 0, done.stdout + done.stderr
