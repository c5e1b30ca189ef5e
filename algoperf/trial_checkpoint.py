"""Trial checkpoints: a preempted trial resumes exactly where it stopped.

Arrays (parameters, model state, the optimizer state's array leaves) go to
an orbax checkpoint ``checkpoints/step_<n>/``; orbax writes into a temporary
directory and renames it when complete, so a kill never leaves a partial
one. Everything else -- step, data position, eval history, metrics-logger
rows, time accumulators -- goes to ``checkpoints/latest.json``, written
atomically *after* the arrays: that file is the commit point, so a kill
between the two leaves the previous checkpoint in force.

Non-array leaves of the optimizer state (e.g. an optax update function) are
not saved; on restore they come from calling ``init_optimizer_state`` again,
and only the array leaves are replaced, position by position.

A resumed trial continues from the checkpoint's accumulators: work a killed
attempt did after its last checkpoint is redone, and only the redone time
counts (as in AlgoPerf, which also restores its clock from the checkpoint).
Recompiling the train step after a restart is submission time.
"""

import pathlib
import shutil
import time

import jax
import numpy as np

from algoperf import records
from algoperf.errors import AlgoperfError

CHECKPOINTS = 'checkpoints'
LATEST = 'latest.json'
_TREES = ('params', 'model_state', 'optimizer_state')


class CheckpointError(AlgoperfError):
  """A checkpoint does not fit the trial it is restored into."""


def _root(trial_dir) -> pathlib.Path:
  return pathlib.Path(trial_dir) / CHECKPOINTS


def load_latest(trial_dir) -> dict | None:
  """The committed checkpoint's metadata, or None when there is none."""
  path = _root(trial_dir) / LATEST
  if not path.exists():
    return None
  meta = records.read_json(path)
  if not (_root(trial_dir) / meta['arrays']).is_dir():
    raise CheckpointError(
      f'{path} names {meta["arrays"]}, which is missing. Delete '
      f'{_root(trial_dir)} to restart the trial from scratch.')
  return meta


def remove(trial_dir) -> None:
  """Deletes a trial's checkpoints (done once the trial has finished)."""
  shutil.rmtree(_root(trial_dir), ignore_errors=True)


def _array_leaves(loop) -> dict:
  arrays = {}
  for name in _TREES:
    for i, leaf in enumerate(jax.tree.leaves(getattr(loop, name))):
      if isinstance(leaf, (jax.Array, np.ndarray)):
        arrays[f'{name}_{i}'] = leaf
  return jax.device_get(arrays)


def save(trial_dir, loop, totals_fn, input_position: int, logger) -> None:
  """Writes the arrays, then commits them with ``latest.json``.

  ``totals_fn()`` is called between the two and returns the accumulators to
  record (the caller charges the time spent so far to checkpointing).
  """
  import orbax.checkpoint as ocp

  root = _root(trial_dir)
  name = f'step_{loop.global_step}'
  step_dir = root / name
  if step_dir.exists():  # Left by an attempt killed before committing it.
    shutil.rmtree(step_dir)
  root.mkdir(parents=True, exist_ok=True)
  ocp.PyTreeCheckpointer().save(step_dir.resolve(), _array_leaves(loop))
  totals = totals_fn()
  records.write_json(root / LATEST, {
    'arrays': name,
    'saved_at': time.time(),
    'global_step': loop.global_step,
    'input_position': input_position,
    'last_eval_submission_time': loop.last_eval_submission_time,
    'last_eval_step': loop.last_eval_step,
    'eval_results': loop.eval_results,
    'eval_rows': loop.eval_rows,
    'test_eval_seconds': loop.test_eval_seconds,
    'metrics_rows': logger.rows,
    'device_history': logger.device_history,
    'accumulators': dict(totals),
  })
  for old in root.glob('step_*'):
    if old.name != name:
      shutil.rmtree(old, ignore_errors=True)


def _place(value: np.ndarray, template):
  """The saved value with the template leaf's dtype and sharding."""
  if isinstance(template, jax.Array):
    return jax.device_put(np.asarray(value, template.dtype),
                          template.sharding)
  return np.asarray(value, template.dtype)


def restore(trial_dir, meta: dict, loop, totals: dict, logger) -> None:
  """Overwrites ``loop`` (freshly initialized) and ``totals`` (the clock's).

  ``loop`` holds the trees that init produced; their array leaves are
  replaced in order and everything else (structure, functions) is kept.
  """
  import orbax.checkpoint as ocp

  path = (_root(trial_dir) / meta['arrays']).resolve()
  arrays = ocp.PyTreeCheckpointer().restore(path)
  for name in _TREES:
    leaves, treedef = jax.tree.flatten(getattr(loop, name))
    positions = [i for i, leaf in enumerate(leaves)
                 if isinstance(leaf, (jax.Array, np.ndarray))]
    saved = sorted(int(k[len(name) + 1:]) for k in arrays
                   if k.startswith(f'{name}_') and k[len(name) + 1:].isdigit())
    if saved != positions:
      raise CheckpointError(
        f'{path}: the saved {name} has array leaves at {saved}, the trial '
        f'builds them at {positions} (the submission or workload changed?). '
        f'Delete {_root(trial_dir)} to restart the trial from scratch.')
    for i in positions:
      leaves[i] = _place(arrays[f'{name}_{i}'], leaves[i])
    setattr(loop, name, jax.tree.unflatten(treedef, leaves))
  loop.global_step = meta['global_step']
  loop.last_eval_submission_time = meta['last_eval_submission_time']
  loop.last_eval_step = meta['last_eval_step']
  loop.eval_results = [(step, result) for step, result in meta['eval_results']]
  loop.eval_rows = meta['eval_rows']
  loop.test_eval_seconds = meta.get('test_eval_seconds', 0.0)  # Older ones.
  totals.update(meta['accumulators'])
  logger.rows = meta['metrics_rows']
  logger.device_history = meta['device_history']
