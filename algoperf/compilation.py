"""JAX compilation in a trial: the persistent cache and what it cost.

A supervised trial's processes share a persistent compilation cache in the
trial's scratch space (``cache_dir``, made usable by ``cache_env``): the
warm-up process (``trial_child --warmup``) fills it off the clock and the
timed process loads the compiled programs instead of compiling them again,
on every attempt of the trial (docs/design.md §6).

``CompileLog`` counts, per clock accumulator, what JAX traced, compiled
and loaded from that cache, from JAX's own monitoring events, so
status.json says what compilation cost the submission. The listeners are
registered once per process and feed the log made active by ``recording``;
they run only when JAX compiles, never per step.
"""

import contextlib
import dataclasses
import pathlib

CACHE_DIR = 'compilation_cache'
SETUP = 'setup'  # Before the clock starts.
_TRACE = '/jax/core/compile/jaxpr_trace_duration'
_LOWER = '/jax/core/compile/jaxpr_to_mlir_module_duration'
_BACKEND = '/jax/core/compile/backend_compile_duration'
_HIT = '/jax/compilation_cache/cache_hits'
_ACTIVE = []  # The CompileLog being recorded into, if any.
_LISTENING = []


def cache_dir(scratch) -> pathlib.Path:
  """The trial's persistent compilation cache, under its scratch space."""
  return pathlib.Path(scratch) / CACHE_DIR


def cache_env(directory) -> dict:
  """Environment that makes a new JAX process use ``directory`` as its
  persistent cache for every program, however fast it compiled."""
  return {'JAX_COMPILATION_CACHE_DIR': str(directory),
          'JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS': '0',
          'JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES': '-1'}


@dataclasses.dataclass
class Phase:
  """What one accumulator's segments compiled."""

  seconds: float = 0.0  # Tracing, lowering and compiling or loading.
  programs: int = 0  # Programs compiled or loaded from the cache.
  loaded: int = 0  # Of those, loaded from the persistent cache.

  @property
  def compiled(self) -> int:
    return self.programs - self.loaded


@dataclasses.dataclass
class CompileLog:
  """Compilation by clock accumulator; the runner sets ``phase``."""

  phase: str = SETUP
  phases: dict = dataclasses.field(default_factory=dict)

  def _current(self) -> Phase:
    return self.phases.setdefault(self.phase, Phase())

  def on_duration(self, event: str, seconds: float) -> None:
    if event in (_TRACE, _LOWER, _BACKEND):
      self._current().seconds += seconds
    if event == _BACKEND:
      self._current().programs += 1

  def on_event(self, event: str) -> None:
    if event == _HIT:
      self._current().loaded += 1

  def summary(self) -> dict:
    """{phase: {'seconds', 'compiled', 'loaded'}} for status.json."""
    return {name: {'seconds': p.seconds, 'compiled': p.compiled,
                   'loaded': p.loaded} for name, p in self.phases.items()}


def _on_duration(event, seconds, **_):
  if _ACTIVE:
    _ACTIVE[-1].on_duration(event, seconds)


def _on_event(event, **_):
  if _ACTIVE:
    _ACTIVE[-1].on_event(event)


@contextlib.contextmanager
def recording(log: CompileLog):
  """JAX's compilations go to ``log`` while the block runs."""
  if not _LISTENING:
    from jax import monitoring

    monitoring.register_event_duration_secs_listener(_on_duration)
    monitoring.register_event_listener(_on_event)
    _LISTENING.append(True)
  _ACTIVE.append(log)
  try:
    yield log
  finally:
    _ACTIVE.remove(log)
