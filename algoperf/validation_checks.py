"""The validator's checks beyond the shared ones of ``submission_calls``.

What the runner cannot afford to check every trial, or leaves to its
``diverged`` status: data_selection's batch, a batch changed by
update_params, non-finite params. Each check returns a list of problem
strings; an empty list means fine. Every message names the function, what
was expected and what was found.
"""

import collections.abc

import jax
import numpy as np


def check_finite(where: str, params) -> list[str]:
  """Params without NaN or Inf after a few steps on tiny data."""
  flat, _ = jax.tree_util.tree_flatten_with_path(params)
  for path, leaf in flat:
    value = np.asarray(jax.device_get(leaf))
    if value.dtype.kind in 'fc' and not np.isfinite(value).all():
      return [f'{where} returned non-finite values (NaN or Inf) in params'
              f'{jax.tree_util.keystr(path)}: the update diverged. Check the '
              'learning rate, divisions and logs of zero.']
  return []


def batch_signature(batch) -> dict:
  """{key: (shape, dtype)} of a batch served by the input queue."""
  return {key: (tuple(np.shape(value)), str(getattr(value, 'dtype', '?')))
          for key, value in batch.items()}


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
