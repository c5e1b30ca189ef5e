"""The trial clock: contiguous segments charged to named accumulators.

Every timestamp is taken after blocking on device values (JAX dispatch is
asynchronous): the runner waits for the previous step while the current one
runs (``done_marker``), and for everything before an eval. Segments are
contiguous -- each one starts where the previous ended -- so the
accumulators add up to the loop's wall time by construction; ``self_check``
measures that independently.
"""

import dataclasses
import time
from collections.abc import Callable

import jax

SUBMISSION = 'accumulated_submission_time'
EVAL = 'accumulated_eval_time'
LOGGING = 'accumulated_logging_time'
CHECKPOINT = 'accumulated_checkpoint_time'
ACCUMULATORS = (SUBMISSION, EVAL, LOGGING, CHECKPOINT)


# Called as fn(accumulator, totals) after every charge (and with None at
# start): the trial supervisor's child publishes the clock to its parent,
# which stops a submission call that overruns the budget (supervisor.py).
_OBSERVERS: list[Callable[[str | None, dict], None]] = []


def observe(fn: Callable[[str | None, dict], None]) -> None:
  """Registers ``fn`` for every Clock of this process."""
  _OBSERVERS.append(fn)


def block(tree) -> None:
  """Waits for every JAX array in ``tree`` (other leaves are ignored)."""
  if isinstance(tree, jax.Array):
    tree.block_until_ready()
    return
  arrays = [x for x in jax.tree.leaves(tree) if isinstance(x, jax.Array)]
  if arrays:
    jax.block_until_ready(arrays)


@jax.jit
def _first_element(x):
  return x.reshape(-1)[:1]


def done_marker(tree):
  """A value ``block`` can wait on for the work that produced ``tree``.

  A tiny device array computed from ``tree``'s first array leaf: ready once
  the computation that produced that leaf has finished, and still there
  after the leaf is donated to the next step (a donated array cannot be
  waited on). ``tree`` itself when it has no JAX array.
  """
  for leaf in jax.tree.leaves(tree):
    if isinstance(leaf, jax.Array):
      return _first_element(leaf)
  return tree


@dataclasses.dataclass
class Clock:
  """Charges wall time to accumulators; ``time_fn`` is injectable for tests.

  Attributes:
    time_fn: returns seconds (monotonic).
    totals: seconds per accumulator name, carried over on resume.
  """

  time_fn: Callable[[], float] = time.perf_counter
  totals: dict = dataclasses.field(
    default_factory=lambda: dict.fromkeys(ACCUMULATORS, 0.0)
  )

  def __post_init__(self):
    self._segment_start = None
    self._loop_start = None
    self._loop_start_totals = None

  def start(self) -> None:
    """Starts the loop: the first segment begins now."""
    self._segment_start = self._loop_start = self.time_fn()
    self._loop_start_totals = sum(self.totals.values())
    for fn in _OBSERVERS:
      fn(None, self.totals)

  def charge(self, accumulator: str, wait_for=None) -> float:
    """Ends the current segment (after blocking on ``wait_for``).

    Returns the segment's length, now added to ``accumulator``.
    """
    if wait_for is not None:
      block(wait_for)
    now = self.time_fn()
    elapsed = now - self._segment_start
    self.totals[accumulator] += elapsed
    self._segment_start = now
    for fn in _OBSERVERS:
      fn(accumulator, self.totals)
    return elapsed

  @property
  def submission_time(self) -> float:
    return self.totals[SUBMISSION]

  def loop_wall_time(self) -> float:
    return self.time_fn() - self._loop_start

  def self_check(self) -> dict:
    """Compares the accumulators against the loop's measured wall time.

    Call it right after the last ``charge``: time not charged to any
    accumulator (a forgotten segment) shows up as a difference. Returns both
    figures and their relative difference; the runner records it and flags
    a difference over 1%.
    """
    wall = self.loop_wall_time()
    accounted = sum(self.totals.values()) - self._loop_start_totals
    relative = abs(wall - accounted) / wall if wall > 0 else 0.0
    return {
      'loop_wall_time': wall,
      'accumulated_total': accounted,
      'relative_difference': relative,
      'within_1_percent': relative <= 0.01,
    }
