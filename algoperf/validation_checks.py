"""Checks on what a submission's functions return (used by the validator).

Each check returns a list of problem strings; an empty list means fine.
Every message names the function, what was expected and what was found.
"""

import collections.abc
import numbers

import jax
import numpy as np

# The benchmark hardware has 8 accelerators; the validator simulates them.
BENCHMARK_DEVICES = 8


def check_batch_size(where: str, name: str, value,
                     num_devices: int) -> list[str]:
  """get_batch_size's result: a positive int divisible by the devices."""
  if isinstance(value, bool) or not isinstance(value, numbers.Integral):
    return [f'{where}: get_batch_size({name!r}) returned {value!r} '
            f'({type(value).__name__}); expected a positive int.']
  if value <= 0 or value % num_devices:
    return [f'{where}: get_batch_size({name!r}) returned {value}, not a '
            f'positive multiple of the {num_devices} devices the validator '
            f'simulates (the benchmark hardware has {BENCHMARK_DEVICES} '
            f'accelerators); return a multiple of {num_devices}.']
  return []


def leaf_signatures(tree) -> dict:
  """{key path: (shape, dtype)} of every leaf of ``tree``."""
  flat, _ = jax.tree_util.tree_flatten_with_path(tree)
  return {jax.tree_util.keystr(path): (tuple(np.shape(leaf)),
                                       str(getattr(leaf, 'dtype', type(leaf))))
          for path, leaf in flat}


def _compare_trees(where: str, what: str, expected: dict,
                   found: dict) -> list[str]:
  missing = sorted(set(expected) - set(found))
  extra = sorted(set(found) - set(expected))
  if missing or extra:
    return [f'{where} returned {what} with a different pytree structure: '
            f'missing {missing or "nothing"}, unexpected {extra or "nothing"}'
            f'. Return the same tree you received, updated.']
  wrong = [path for path in expected if found[path] != expected[path]]
  if not wrong:
    return []
  path = wrong[0]
  (shape, dtype), (found_shape, found_dtype) = expected[path], found[path]
  more = f' (and {len(wrong) - 1} more leaves)' if len(wrong) > 1 else ''
  return [f'{where} returned {what}{path} with shape {found_shape} and dtype '
          f'{found_dtype}; expected shape {shape} and dtype {dtype}{more}. '
          'Keep every leaf\'s shape and dtype.']


def check_update_return(where: str, returned, params_before: dict,
                        model_state_before: dict,
                        returns_what='(optimizer_state, params, '
                        'model_state)') -> list[str]:
  """update_params / prepare_for_eval: a 3-tuple with unchanged trees."""
  if not isinstance(returned, (tuple, list)) or len(returned) != 3:
    length = (f' of length {len(returned)}'
              if isinstance(returned, (tuple, list)) else '')
    return [f'{where} returned {type(returned).__name__}{length}; expected a '
            f'tuple {returns_what}.']
  _, params, model_state = returned
  problems = _compare_trees(where, 'params', params_before,
                            leaf_signatures(params))
  problems += _compare_trees(where, 'model_state', model_state_before,
                             leaf_signatures(model_state))
  if not problems:
    problems += _check_finite(where, params)
  return problems


def _check_finite(where: str, params) -> list[str]:
  flat, _ = jax.tree_util.tree_flatten_with_path(params)
  for path, leaf in flat:
    value = np.asarray(jax.device_get(leaf))
    if value.dtype.kind in 'fc' and not np.isfinite(value).all():
      return [f'{where} returned non-finite values (NaN or Inf) in params'
              f'{jax.tree_util.keystr(path)}: the update diverged. Check the '
              'learning rate, divisions and logs of zero.']
  return []


def check_batch(where: str, batch, reference: dict) -> list[str]:
  """data_selection's result: a dict with the input batches' keys/dtypes."""
  if not isinstance(batch, collections.abc.Mapping):
    return [f'{where} returned {type(batch).__name__}; expected a dict of '
            f'arrays with keys {sorted(reference)} like the batches of '
            'input_queue.']
  missing = sorted(set(reference) - set(batch))
  if missing:
    return [f'{where} returned a batch without key(s) {missing}; expected '
            f'keys {sorted(reference)} like the batches of input_queue.']
  problems = []
  for key, (shape, dtype) in reference.items():
    leaf = batch[key]
    found = (tuple(np.shape(leaf))[1:], str(getattr(leaf, 'dtype', '?')))
    if found != (shape[1:], dtype):
      problems.append(
        f'{where} returned batch[{key!r}] with per-example shape {found[0]} '
        f'and dtype {found[1]}; expected per-example shape {shape[1:]} and '
        f'dtype {dtype}, as input_queue serves it.')
  return problems


def batch_snapshot(batch):
  """What update_params must leave unchanged: keys and value identities."""
  if not isinstance(batch, collections.abc.MutableMapping):
    return None
  return {key: (id(value), _numpy_digest(value))
          for key, value in batch.items()}


def _numpy_digest(value):
  if isinstance(value, np.ndarray):
    return hash(value.tobytes())
  return None


def check_batch_unchanged(where: str, batch, snapshot) -> list[str]:
  if snapshot is None:
    return []
  after = batch_snapshot(batch)
  added = sorted(set(after) - set(snapshot))
  removed = sorted(set(snapshot) - set(after))
  changed = sorted(k for k in set(after) & set(snapshot)
                   if after[k] != snapshot[k])
  if not (added or removed or changed):
    return []
  changes = [f'{label} {keys}' for label, keys in (
    ('added keys', added), ('removed keys', removed),
    ('replaced or changed in place', changed)) if keys]
  return [f'{where} mutated its input batch ({"; ".join(changes)}); the '
          'batch belongs to the harness: copy it (dict(batch)) before '
          'changing it.']
