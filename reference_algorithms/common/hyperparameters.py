"""Hyperparameters of the reference submissions: defaults and schedules.

Every reference submission states a ``DEFAULTS`` dict. A search-space point
(a namedtuple, or a dict) overrides those defaults key by key; ``None`` (the
self-tuning ruleset) means the defaults alone. The learning-rate schedule is
chosen by name from the same hyperparameters, so any optimizer can run with
any schedule of ``reference_algorithms.schedules``.

Schedule hyperparameters (all optional):
  learning_rate     peak value eta.
  step_hint_factor  the schedule spans T = step_hint * step_hint_factor steps.
  warmup_factor     linear warmup over W = int(warmup_factor * T) steps.
  schedule          'cosine' (AlgoPerf baseline), 'linear' (to zero),
                    'constant', 'wsd_linear', 'wsd_1-sqrt', 'inverse_sqrt'.
  cooldown_factor   WSD cooldown length as a fraction of T (default 0.2).
"""

import collections
import functools
from collections.abc import Mapping
from typing import Any

import optax

from reference_algorithms import schedules

SCHEDULE_NAMES = (
  'cosine',
  'linear',
  'constant',
  'wsd_linear',
  'wsd_1-sqrt',
  'inverse_sqrt',
)


@functools.cache
def _namedtuple_type(keys: tuple):
  return collections.namedtuple('Hyperparameters', keys)


def as_dict(hyperparameters: Any) -> dict:
  """The point as a plain dict (namedtuple, dict, object or None)."""
  if hyperparameters is None:
    return {}
  if isinstance(hyperparameters, Mapping):
    return dict(hyperparameters)
  if hasattr(hyperparameters, '_asdict'):
    return dict(hyperparameters._asdict())
  return dict(vars(hyperparameters))


def resolve(hyperparameters: Any, defaults: Mapping[str, Any]):
  """``defaults`` overridden by ``hyperparameters``, as a namedtuple.

  Example:
    >>> hp = resolve(None, {'learning_rate': 1e-3})
    >>> hp.learning_rate
    0.001
  """
  merged = dict(defaults)
  merged.update(as_dict(hyperparameters))
  return _namedtuple_type(tuple(merged))(**merged)


def total_steps(hp, step_hint: int) -> int:
  """T = step_hint * step_hint_factor, at least 1."""
  factor = getattr(hp, 'step_hint_factor', 1.0)
  return max(int(step_hint * factor), 1)


def learning_rate_schedule(hp, step_hint: int) -> optax.Schedule:
  """The schedule named by ``hp.schedule`` (default 'cosine'), with warmup.

  Raises:
    ValueError: an unknown schedule name; lists the valid ones.
  """
  name = getattr(hp, 'schedule', 'cosine')
  peak = hp.learning_rate
  steps = total_steps(hp, step_hint)
  warmup = int(getattr(hp, 'warmup_factor', 0.0) * steps)
  rest = max(steps - warmup, 1)
  cooldown = int(getattr(hp, 'cooldown_factor', 0.2) * steps)
  if name == 'cosine':
    decay = schedules.cosine_decay(peak, rest)
  elif name == 'linear':
    decay = schedules.linear_decay(peak, rest)
  elif name == 'constant':
    decay = schedules.constant(peak)
  elif name in ('wsd_linear', 'wsd_1-sqrt'):
    shape = name.removeprefix('wsd_')
    decay = schedules.stable_decay(peak, rest, min(cooldown, rest), shape)
  elif name == 'inverse_sqrt':
    decay = schedules.inverse_sqrt_decay(peak, max(warmup, 1))
  else:
    raise ValueError(
      f'Hyperparameter schedule={name!r} is not known; use one of '
      f'{", ".join(SCHEDULE_NAMES)}.'
    )
  return schedules.with_warmup(decay, warmup)
