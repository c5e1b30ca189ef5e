"""Every call into a submission, written once, and checks on what it returns.

The runner and the validator both call through ``SubmissionCalls``: AlgoPerf's
arguments in AlgoPerf's order, plus ``train_data`` / ``train_state`` only for
a function whose signature names them. The checks return lists of problems
(what was expected, what was found, the fix): the runner raises them, the
validator collects them into its report.
"""

import dataclasses
import numbers
import traceback
import types
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import NamedTuple

import jax
import numpy as np
from absl import logging

from algoperf import clock
from algoperf import jax_sharding_utils

# The benchmark hardware has 8 accelerators; the validator simulates them.
BENCHMARK_DEVICES = 8


class State(NamedTuple):
  """What update_params and prepare_for_eval take and return, in order."""

  optimizer_state: Any
  params: Any
  model_state: Any


@dataclasses.dataclass(frozen=True)
class SubmissionCalls:
  """One submission's functions bound to a workload and hyperparameters.

  A ``state`` argument is anything with ``optimizer_state``, ``params`` and
  ``model_state`` attributes: a ``State``, or the runner's loop.
  """

  submission: Any  # A loaded ``algoperf.submission.Submission``.
  workload: Any
  hyperparameters: Any  # None under the self-tuning ruleset.
  train_data: Any = None  # The train split view, if data_selection names it.

  @classmethod
  def create(cls, submission, workload, hyperparameters,
             data_dir: str | None) -> 'SubmissionCalls':
    """Reads the training split's view only for a submission that asks."""
    train_data = (workload.train_data_view(data_dir)
                  if submission.wants_train_data else None)
    return cls(submission, workload, hyperparameters, train_data)

  def get_batch_size(self, num_devices: int) -> tuple[int | None, list]:
    """(batch size or None, problems), falling back as AlgoPerf does.

    The workload's name, then its base name, each on ValueError; then the
    workload's default batch size, with a warning.
    """
    workload = self.workload
    names = [name for name in (workload.name, workload.base_name) if name]
    for name in names:
      try:
        value = self.submission.get_batch_size(name)
      except ValueError:
        continue
      problems = check_batch_size(str(self.submission.path), name, value,
                                  num_devices)
      return (None if problems else int(value)), problems
    logging.warning(
      'get_batch_size raised ValueError for %s; using the workload default '
      'batch size %d.', ' and '.join(map(repr, names)),
      workload.default_batch_size)
    return workload.default_batch_size, []

  def init_optimizer_state(self, params, model_state, rng):
    """The submission's state, its single-device arrays replicated."""
    return replicate_unplaced(self.submission.init_optimizer_state(
      self.workload, params, model_state, self.hyperparameters, rng))

  def data_selection(self, input_queue, state, global_step: int, rng):
    extra = ({'train_data': self.train_data}
             if self.submission.wants_train_data else {})
    return self.submission.data_selection(
      self.workload, input_queue, state.optimizer_state, state.params,
      state.model_state, self.hyperparameters, global_step, rng, **extra)

  def update_params(self, state, batch, eval_results: list, global_step: int,
                    rng, train_state: Callable[[], Mapping]):
    """``train_state()`` is called only if update_params names it."""
    extra = ({'train_state': train_state()}
             if self.submission.wants_train_state else {})
    w = self.workload
    return self.submission.update_params(
      w, state.params, w.model_params_types, state.model_state,
      self.hyperparameters, batch, w.loss_type, state.optimizer_state,
      eval_results, global_step, rng, **extra)

  def prepare_for_eval(self, state, eval_results: list, global_step: int,
                       rng):
    w = self.workload
    return self.submission.prepare_for_eval(
      w, state.params, w.model_params_types, state.model_state,
      self.hyperparameters, w.loss_type, state.optimizer_state, eval_results,
      global_step, rng)


def replicate_unplaced(tree):
  """``tree`` with each single-device jax.Array replicated on the mesh.

  AlgoPerf's JAX baselines build the optimizer state with plain jnp calls
  (on one device) and jit their train step with replicated shardings, whose
  outputs then live on the mesh. Without this placement the second step sees
  new input shardings and compiles the step again, charging the submission
  for a compile the harness caused. Leaves already placed (sharded or
  replicated by the submission), numpy arrays and non-arrays (the update
  function) are left as they are.
  """
  replicated = jax_sharding_utils.get_replicate_sharding()

  def place(leaf):
    if isinstance(leaf, jax.Array) and isinstance(
        leaf.sharding, jax.sharding.SingleDeviceSharding):
      return jax.device_put(leaf, replicated)
    return leaf

  return jax.tree.map(place, tree)


def train_state_view(totals: Mapping[str, float], last_eval_time: float,
                     budget: float, validation_goal_reached: bool = False,
                     test_goal_reached: bool = False) -> Mapping:
  """update_params' read-only ``train_state``: the clock's facts so far."""
  return types.MappingProxyType({
    'accumulated_submission_time': totals[clock.SUBMISSION],
    'accumulated_eval_time': totals[clock.EVAL],
    'accumulated_logging_time': totals[clock.LOGGING],
    'last_eval_time': last_eval_time,
    'training_complete': False,
    'is_time_remaining': totals[clock.SUBMISSION] < budget,
    'validation_goal_reached': validation_goal_reached,
    'test_goal_reached': test_goal_reached,
  })


def raised_message(where: str, error: Exception, path) -> str:
  """'<where> raised <error> (at <line>)', the line in ``path`` if any."""
  frames = traceback.extract_tb(error.__traceback__)
  origin = next((f for f in reversed(frames) if f.filename == str(path)),
                frames[-1])
  return (f'{where} raised {type(error).__name__}: {error} (at '
          f'{origin.filename}:{origin.lineno}, in {origin.name}).')


def check_batch_size(where: str, name: str, value,
                     num_devices: int) -> list[str]:
  """get_batch_size's result: a positive int divisible by the devices."""
  if isinstance(value, bool) or not isinstance(value, numbers.Integral):
    return [(f'{where}: get_batch_size({name!r}) returned {value!r} '
            f'({type(value).__name__}); expected a positive int.')]
  if value <= 0 or value % num_devices:
    return [(f'{where}: get_batch_size({name!r}) returned {value}, not a '
            f'positive multiple of the {num_devices} devices of this run '
            f'(the benchmark hardware has {BENCHMARK_DEVICES} accelerators);'
            f' return a multiple of {num_devices}.')]
  return []


class TreeSignature(NamedTuple):
  """A pytree's structure and every leaf's (shape, dtype) by key path."""

  treedef: Any
  leaves: dict


def tree_signature(tree) -> TreeSignature:
  flat, treedef = jax.tree_util.tree_flatten_with_path(tree)
  return TreeSignature(treedef, {
    jax.tree_util.keystr(path): (tuple(np.shape(leaf)),
                                 str(getattr(leaf, 'dtype', type(leaf))))
    for path, leaf in flat})


def check_update_return(where: str, returned, params: TreeSignature,
                        model_state: TreeSignature) -> list[str]:
  """update_params / prepare_for_eval: a 3-tuple whose params and model
  state keep the initial model's signatures; otherwise the next step or eval
  would fail far from the cause.
  """
  if not isinstance(returned, (tuple, list)) or len(returned) != 3:
    length = (f' of length {len(returned)}'
              if isinstance(returned, (tuple, list)) else '')
    return [(f'{where} returned {type(returned).__name__}{length}; expected a '
             'tuple (optimizer_state, params, model_state).')]
  return (_compare_trees(where, 'params', params, returned[1])
          + _compare_trees(where, 'model_state', model_state, returned[2]))


def _compare_trees(where: str, what: str, expected: TreeSignature,
                   tree) -> list[str]:
  found = tree_signature(tree)
  missing = sorted(set(expected.leaves) - set(found.leaves))
  extra = sorted(set(found.leaves) - set(expected.leaves))
  if missing or extra:
    return [(f'{where} returned {what} with a different pytree structure: '
            f'missing {missing or "nothing"}, unexpected {extra or "nothing"}'
            '. Return the same tree you received, updated.')]
  wrong = [path for path in expected.leaves
           if found.leaves[path] != expected.leaves[path]]
  if wrong:
    path = wrong[0]
    (shape, dtype), (found_shape, found_dtype) = (
      expected.leaves[path], found.leaves[path])
    more = f' (and {len(wrong) - 1} more leaves)' if len(wrong) > 1 else ''
    return [(f'{where} returned {what}{path} with shape {found_shape} and '
            f'dtype {found_dtype}; expected shape {shape} and dtype {dtype}'
            f'{more}. Keep every leaf\'s shape and dtype.')]
  if found.treedef != expected.treedef:
    return [(f'{where} returned {what} with a different pytree structure: '
            f'the same leaves in other containers (expected '
            f'{expected.treedef}, found {found.treedef}). Return the same '
            'tree you received, updated.')]
  return []
