"""Infer AlgoPerf ParameterType labels from flax parameter paths."""

import jax

from algoperf import spec

_P = spec.ParameterType


def _type_for(path: tuple[str, ...]) -> spec.ParameterType:
  leaf = path[-1]
  parents = ' '.join(path[:-1]).lower()
  if leaf == 'embedding':
    return _P.EMBEDDING
  if 'batchnorm' in parents or 'bn' in parents.split():
    return _P.BATCH_NORM_SCALE if leaf == 'scale' else _P.BATCH_NORM_BIAS
  if 'layernorm' in parents or 'norm' in parents:
    return _P.LAYER_NORM_SCALE if leaf == 'scale' else _P.LAYER_NORM_BIAS
  if leaf == 'bias':
    return _P.BIAS
  if 'conv' in parents:
    return _P.CONV_WEIGHT
  return _P.WEIGHT


def infer_param_types(params) -> spec.ParameterTypeTree:
  """Same tree as ``params`` with a ParameterType at every leaf."""

  def label(path, _):
    return _type_for(tuple(str(getattr(k, 'key', k)) for k in path))

  return jax.tree_util.tree_map_with_path(label, params)
