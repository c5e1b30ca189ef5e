"""RS2's sampling plan: which training examples each step uses.

RS2 (Okanovic et al. 2023, "Repeated Random Sampling for Minimizing the
Time-to-Accuracy of Learning") trains each round for one pass over a random
fraction r of the training set:

* without replacement: rounds are consecutive chunks of one random
  permutation, reshuffled when it is exhausted, so every example is used
  exactly once per ceil(1 / r) rounds (the last chunk of a permutation may be
  shorter);
* with replacement: every round draws a fresh subset;
* static subset (the baseline): one subset drawn once, reshuffled each round.

The plan is a pure function of (seed, global step): a resumed run selects
exactly what an uninterrupted one would, with no state to checkpoint.
Rounds hold whole batches; a shorter last chunk ends in a batch padded with
repeats of its examples whose weight is 0, so they add nothing to the loss.
"""

import dataclasses
import functools
import math

import jax.numpy as jnp
import numpy as np

from algoperf import jax_sharding_utils

MODES = ('without_replacement', 'with_replacement', 'static_subset')


@dataclasses.dataclass(frozen=True)
class SamplingPlan:
  num_examples: int
  batch_size: int
  ratio: float  # r, the fraction of the training set per round.
  mode: str = 'without_replacement'
  seed: int = 0

  def __post_init__(self):
    if self.mode not in MODES:
      raise ValueError(f'RS2 mode {self.mode!r} is not one of {MODES}.')
    if not 0.0 < self.ratio <= 1.0:
      raise ValueError(f'RS2 selection_ratio must be in (0, 1]: {self.ratio}.')

  @property
  def round_size(self) -> int:
    """Examples per round: r N rounded to whole batches (at least one)."""
    batches = max(round(self.ratio * self.num_examples / self.batch_size), 1)
    return min(batches * self.batch_size, self.num_examples)

  @property
  def rounds_per_cycle(self) -> int:
    """Rounds per permutation of the training set (without replacement)."""
    return math.ceil(self.num_examples / self.round_size)

  def _round_steps(self, size: int) -> int:
    return math.ceil(size / self.batch_size)

  @functools.cached_property
  def _cycle_steps(self) -> int:
    last = self.num_examples - (self.rounds_per_cycle - 1) * self.round_size
    full = self._round_steps(self.round_size)
    return (self.rounds_per_cycle - 1) * full + self._round_steps(last)

  def _rng(self, *keys) -> np.random.Generator:
    return np.random.default_rng([self.seed, *keys])

  def _round_examples(self, global_step: int):
    """(examples of the round that holds ``global_step``, step in round)."""
    steps_per_round = self._round_steps(self.round_size)
    if self.mode == 'without_replacement':
      cycle, offset = divmod(global_step, self._cycle_steps)
      index, position = divmod(offset, steps_per_round)
      permutation = self._permutation(cycle)
      start = index * self.round_size
      return permutation[start : start + self.round_size], position
    round_index, position = divmod(global_step, steps_per_round)
    if self.mode == 'with_replacement':
      subset = self._rng(1, round_index).choice(
        self.num_examples, self.round_size, replace=False
      )
      return subset, position
    subset = self._rng(2).choice(
      self.num_examples, self.round_size, replace=False
    )
    return self._rng(3, round_index).permutation(subset), position

  def _permutation(self, cycle: int) -> np.ndarray:
    return _cached_permutation(self.seed, cycle, self.num_examples)

  def round_of(self, global_step: int) -> int:
    """The index of the round that step ``global_step`` belongs to."""
    steps_per_round = self._round_steps(self.round_size)
    if self.mode != 'without_replacement':
      return global_step // steps_per_round
    cycle, offset = divmod(global_step, self._cycle_steps)
    return cycle * self.rounds_per_cycle + offset // steps_per_round

  def batch_indices(self, global_step: int):
    """(indices, weights) of the batch for ``global_step``; weights in {0,1}."""
    examples, position = self._round_examples(global_step)
    chosen = examples[
      position * self.batch_size : (position + 1) * self.batch_size
    ]
    weights = np.ones(self.batch_size, np.float32)
    missing = self.batch_size - len(chosen)
    if missing:
      weights[len(chosen) :] = 0.0
      chosen = np.resize(chosen, self.batch_size)  # Repeats, weight 0.
    return chosen, weights


@functools.lru_cache(maxsize=4)
def _cached_permutation(seed: int, cycle: int, num_examples: int):
  return np.random.default_rng([seed, 0, cycle]).permutation(num_examples)


def harness_batch_size(workload, get_batch_size) -> int:
  """The global batch size the harness uses, found as it finds it.

  The submission's size for the workload, else for its base workload, else
  the workload's ``default_batch_size`` (docs/design.md §3).
  """
  for name in (workload.name, getattr(workload, 'base_name', None)):
    if name:
      try:
        return get_batch_size(name)
      except ValueError:
        pass
  return workload.default_batch_size


def weighted_batch(train_data, indices, weights):
  """The examples at ``indices`` with per-example loss ``weights``.

  Weights multiply any the workload's batches already carry.
  """
  batch = dict(train_data.get_batch(indices))
  weights = jax_sharding_utils.shard_along_batch_dim(weights)
  if 'weights' in batch:
    existing = batch['weights']
    shape = (-1,) + (1,) * (existing.ndim - 1)
    weights = existing * jnp.reshape(weights, shape)
  batch['weights'] = weights
  return batch
