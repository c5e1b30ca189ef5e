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
