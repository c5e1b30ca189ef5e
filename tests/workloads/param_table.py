"""Our models' parameter trees against AlgoPerf's committed tables.

``tests/workloads/algoperf_params/<family>.json`` holds, per workload, the
parameter count and every leaf's shape of AlgoPerf's JAX model (written by
scripts/algoperf_param_counts.py from AlgoPerf's own code). Trees are
compared path by path: same paths, same shape at each path, same total.
"""

import functools
import json
import pathlib

import jax
import numpy as np

TABLES = pathlib.Path(__file__).resolve().parent / 'algoperf_params'


@functools.cache
def table(family: str) -> dict:
  with open(TABLES / f'{family}.json') as f:
    return json.load(f)


def flat_shapes(tree) -> dict:
  """``{'a/b/kernel': [..]}`` from a (shape) pytree of nested dicts."""
  leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
  return {'/'.join(str(k.key) for k in path): list(leaf.shape)
          for path, leaf in leaves}


def param_shapes(workload) -> dict:
  """Our workload's parameter shapes, traced (jax.eval_shape), not built."""
  rng = jax.random.PRNGKey(0)
  init = functools.partial(workload._model.init, train=False)
  variables = jax.eval_shape(init, {'params': rng, 'dropout': rng},
                             workload.init_inputs())
  return flat_shapes(variables['params'])


def assert_table_lists(family: str, classes: dict) -> None:
  """The family's table names exactly ``classes`` (workload name -> class),
  and each workload's output layer (a property of the instance for some)
  is a top-level module of its tree."""
  workloads = table(family)['workloads']
  assert set(workloads) == set(classes)
  for name, entry in workloads.items():
    top = {path.split('/')[0] for path in entry['shapes']}
    assert classes[name]().output_layer_name in top, name


def assert_matches_table(family: str, workload) -> int:
  """Asserts leaf-by-leaf equality with AlgoPerf's table; returns the count."""
  expected = table(family)['workloads'][workload.name]
  ours = param_shapes(workload)
  missing = sorted(set(expected['shapes']) - set(ours))
  extra = sorted(set(ours) - set(expected['shapes']))
  assert not missing and not extra, (
    f'{workload.name}: parameters only in AlgoPerf: {missing[:5]}; only '
    f'ours: {extra[:5]}')
  wrong = {p: (ours[p], s) for p, s in expected['shapes'].items()
           if ours[p] != s}
  assert not wrong, f'{workload.name}: (ours, AlgoPerf) shapes {wrong}'
  count = sum(int(np.prod(s)) for s in ours.values())
  assert count == expected['num_params']
  return count


# --- Outputs: AlgoPerf's model and ours on the same variables and inputs. ---

OUTPUTS_SCRIPT = pathlib.Path(__file__).resolve().parent / 'algoperf_outputs.py'


def algoperf_dir():
  """AlgoPerf's checkout ($ALGOPERF_SRC, else /work/algoperf_src), or None."""
  import os

  path = pathlib.Path(os.environ.get('ALGOPERF_SRC', '/work/algoperf_src'))
  if (path / 'algoperf' / 'workloads').is_dir():
    return path
  return None


def algoperf_outputs(family: str, workloads, out_dir) -> dict:
  """Runs AlgoPerf's models (a subprocess) -> {workload: npz arrays}."""
  import subprocess
  import sys

  source = algoperf_dir()
  done = subprocess.run(
    [sys.executable, str(OUTPUTS_SCRIPT), str(source), family, str(out_dir),
     *workloads], capture_output=True, text=True, timeout=1800)
  assert done.returncode == 0, done.stderr[-3000:]
  return {w: dict(np.load(pathlib.Path(out_dir) / f'{w}.npz'))
          for w in workloads}


def unflatten(arrays: dict, prefix: str) -> dict:
  """``{'prefix/a/b': x}`` -> ``{'a': {'b': x}}``."""
  tree = {}
  for key, value in arrays.items():
    if not key.startswith(prefix + '/'):
      continue
    *parents, leaf = key[len(prefix) + 1:].split('/')
    node = tree
    for name in parents:
      node = node.setdefault(name, {})
    node[leaf] = value
  return tree


def assert_same_init(ours: dict, theirs: dict, name: str) -> None:
  """Same initial distribution per leaf (flat ``{path: array}`` dicts).

  Constant leaves (zeros, ones, a BatchNorm scale of 8) must be equal;
  random ones must have the same mean and standard deviation (to sampling
  error: the random streams differ between the two implementations).
  """
  assert set(ours) == set(theirs), name
  for path, expected in theirs.items():
    got = np.asarray(ours[path], np.float64)
    expected = np.asarray(expected, np.float64)
    spread = expected.std()
    if spread == 0:
      np.testing.assert_array_equal(got, expected, err_msg=f'{name} {path}')
      continue
    # Four standard errors of the difference between two samples' std
    # (relative) and mean: loose for the 32-weight output conv, tight for
    # the millions of weights of a ResNet stage.
    n = expected.size
    assert abs(got.std() / spread - 1) < max(0.15, 4 / np.sqrt(n)), (
      name, path, got.std(), spread)
    assert abs(got.mean() - expected.mean()) < 4 * spread * np.sqrt(2 / n), (
      name, path, got.mean(), expected.mean())


def flat_arrays(tree) -> dict:
  leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
  return {'/'.join(str(k.key) for k in path): np.asarray(leaf)
          for path, leaf in leaves}


def forward_backward(workload, batch_size: int = 2):
  """One training step's loss and gradients at AlgoPerf's input shapes.

  Through the workload API (init_model_fn, model_fn in train mode with
  BatchNorm updates and dropout 0.1, loss_fn with label smoothing 0.1) on
  ``synthetic_arrays``. Returns (params, state, batch, loss, logits,
  new_state, grads).
  """
  import jax.numpy as jnp

  from algoperf import spec

  params, state = workload.init_model_fn(jax.random.PRNGKey(0))
  batch = {k: jnp.asarray(v)
           for k, v in workload.synthetic_arrays(batch_size, 0).items()}

  def loss(params):
    logits, new_state = workload.model_fn(
      params, batch, state, spec.ForwardPassMode.TRAIN,
      jax.random.PRNGKey(1), update_batch_norm=True, dropout_rate=0.1)
    summed = workload.loss_fn(batch['targets'], logits,
                              label_smoothing=0.1)['summed']
    return summed / batch_size, (logits, new_state)

  (value, (logits, new_state)), grads = jax.jit(
    jax.value_and_grad(loss, has_aux=True))(params)
  return params, state, batch, value, logits, new_state, grads


def assert_sane_step(workload, step) -> None:
  """Finite loss and gradients, one gradient per parameter, and a nonzero
  gradient for the output layer."""
  params, _, _, value, _, _, grads = step
  assert np.isfinite(float(value)), workload.name
  assert (jax.tree_util.tree_structure(grads)
          == jax.tree_util.tree_structure(params))
  for path, g in flat_arrays(grads).items():
    assert np.isfinite(g).all(), (workload.name, path)
  output = flat_arrays(grads[workload.output_layer_name])
  assert any(np.abs(g).max() > 0 for g in output.values()), workload.name
