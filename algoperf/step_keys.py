"""Per-step random keys, a pure function of (trial key, step).

A resumed trial derives the same keys for its remaining steps as an
uninterrupted one, whatever step it restarts at.
"""

import jax
import numpy as np

RNG_CHUNK = 1024


@jax.jit
def _step_keys_chunk(rng, steps):
  return jax.vmap(
    lambda step: jax.random.split(jax.random.fold_in(rng, step), 4))(steps)


class StepKeys:
  """Per-step keys ``split(fold_in(rng, step), 4)``, as AlgoPerf derives them.

  They are computed 1,024 steps at a time in one jitted call and served from
  host memory: deriving them one step at a time costs ~1 ms of dispatch per
  step, which would slow small workloads by a third. The values are the same.
  """

  def __init__(self, rng):
    self._rng = rng
    self._start = None
    self._keys = None

  def for_step(self, step: int):
    if self._start is None or not 0 <= step - self._start < RNG_CHUNK:
      self._start = step - step % RNG_CHUNK
      steps = np.arange(self._start, self._start + RNG_CHUNK)
      self._keys = np.asarray(_step_keys_chunk(self._rng, steps))
    return self._keys[step - self._start]
