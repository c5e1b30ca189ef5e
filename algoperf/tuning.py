"""Search-space JSON -> hyperparameter points for trials.

A search space is AlgoPerf's JSON: either a list of fixed points
(``[{"learning_rate": 1e-3, ...}, ...]``) or a dict of hyperparameters, each
``{"min": a, "max": b, "scaling": "linear"|"log"}`` or
``{"feasible_points": [...]}``. Points of a dict space come from a scrambled
Halton sequence seeded explicitly, so the same seed gives the same points.
"""

import collections
import json
import math
import pathlib

import numpy as np

from algoperf.errors import SearchSpaceError
from algoperf.errors import SubmissionError

_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61,
           67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113)


def load_search_space(path) -> list | dict:
  """Reads and validates a search space; raises SearchSpaceError."""
  path = pathlib.Path(path)
  try:
    space = json.loads(path.read_text())
  except FileNotFoundError as e:
    raise SearchSpaceError(f'{path}: no such search-space file.') from e
  except json.JSONDecodeError as e:
    raise SearchSpaceError(
      f'{path}:{e.lineno}: not valid JSON ({e.msg}).') from e
  validate(space, path)
  return space


def validate(space, path='search space') -> None:
  if isinstance(space, list):
    if not space:
      raise SearchSpaceError(f'{path}: the list of points is empty; give at '
                             'least one {"name": value, ...} point.')
    for i, point in enumerate(space):
      if not isinstance(point, dict):
        raise SearchSpaceError(f'{path}: point {i} is {type(point).__name__}, '
                               'expected an object of name -> value.')
    return
  if not isinstance(space, dict):
    raise SearchSpaceError(f'{path}: expected a JSON object or list, found '
                           f'{type(space).__name__}.')
  if not space:
    raise SearchSpaceError(f'{path}: the search space defines no '
                           'hyperparameters; give at least one, or use the '
                           'self-tuning ruleset.')
  for name, spec in space.items():
    _validate_one(path, name, spec)


def _validate_one(path, name, spec) -> None:
  where = f'{path}: hyperparameter {name!r}'
  if not isinstance(spec, dict):
    raise SearchSpaceError(f'{where}: expected an object with min/max or '
                           f'feasible_points, found {spec!r}.')
  if 'feasible_points' in spec:
    if not isinstance(spec['feasible_points'], list) or not (
        spec['feasible_points']):
      raise SearchSpaceError(f'{where}: feasible_points must be a non-empty '
                             f'list, found {spec["feasible_points"]!r}.')
    return
  if 'min' not in spec or 'max' not in spec:
    raise SearchSpaceError(f'{where}: needs "min" and "max" (and "scaling"), '
                           'or "feasible_points".')
  for bound in ('min', 'max'):
    if isinstance(spec[bound], bool) or not isinstance(
        spec[bound], (int, float)):
      raise SearchSpaceError(f'{where}: "{bound}" must be a number, found '
                             f'{spec[bound]!r}.')
  scaling = spec.get('scaling', 'linear')
  if scaling not in ('linear', 'log'):
    raise SearchSpaceError(f'{where}: unknown scaling {scaling!r}; use '
                           '"linear" or "log".')
  if spec['min'] > spec['max']:
    raise SearchSpaceError(f'{where}: min {spec["min"]} > max {spec["max"]}.')
  if scaling == 'log' and spec['min'] <= 0:
    raise SearchSpaceError(f'{where}: log scaling needs min > 0, found '
                           f'{spec["min"]}.')


def _radical_inverse(index: int, base: int, permutation) -> float:
  """Index in base ``base`` with digits permuted, mirrored after the point."""
  result, scale = 0.0, 1.0 / base
  while index > 0:
    index, digit = divmod(index, base)
    result += permutation[digit] * scale
    scale /= base
  return result


def halton_points(num_points: int, num_dims: int, seed: int) -> np.ndarray:
  """Scrambled Halton points in [0, 1)^d (random digit permutations).

  Digit 0 keeps mapping to 0 so the scrambling stays a bijection on digits.
  """
  if num_dims > len(_PRIMES):
    raise SearchSpaceError(f'At most {len(_PRIMES)} hyperparameters can be '
                           'searched jointly.')
  rng = np.random.default_rng(seed)
  points = np.empty((num_points, num_dims))
  for d in range(num_dims):
    base = _PRIMES[d]
    permutation = np.concatenate([[0], 1 + rng.permutation(base - 1)])
    # Skip index 0 (all zeros) and use a random offset into the sequence.
    offset = int(rng.integers(1, 1000))
    for i in range(num_points):
      points[i, d] = _radical_inverse(i + offset, base, permutation)
  return points


def _scale(spec, u: float):
  if 'feasible_points' in spec:
    choices = spec['feasible_points']
    return choices[min(int(u * len(choices)), len(choices) - 1)]
  low, high = spec['min'], spec['max']
  if spec.get('scaling', 'linear') == 'log':
    return float(math.exp(math.log(low) + u * (math.log(high) - math.log(low))))
  return float(low + u * (high - low))


def trial_points(space, num_trials: int, seed: int) -> list[dict]:
  """The hyperparameter dicts for trials 1..num_trials.

  A list space yields its points in order (AlgoPerf's fixed-point spaces);
  asking for more trials than points is an error.
  """
  validate(space)
  if isinstance(space, list):
    if num_trials > len(space):
      raise SearchSpaceError(
        f'{num_trials} trials requested but the search space lists only '
        f'{len(space)} points; ask for at most {len(space)} trials.')
    return [dict(p) for p in space[:num_trials]]
  names = sorted(space)
  unit = halton_points(num_trials, len(names), seed)
  return [
    {name: _scale(space[name], unit[i, d]) for d, name in enumerate(names)}
    for i in range(num_trials)
  ]


class MissingHyperparameterError(SubmissionError, AttributeError):
  """The submission read a hyperparameter its search space does not define.

  It is also an ``AttributeError`` so ``hasattr(hp, name)`` and
  ``getattr(hp, name, default)`` keep working for optional hyperparameters.
  """


def make_hyperparameters(point: dict | None, source: str = 'search space'):
  """AlgoPerf's hyperparameters namedtuple (None for self-tuning).

  Reading a name the point lacks raises ``MissingHyperparameterError``
  naming it and ``source`` (the search-space file), at first use.
  """
  if point is None:
    return None
  base = collections.namedtuple('Hyperparameters', sorted(point))
  defined = ', '.join(sorted(point)) or 'nothing'

  def __getattr__(self, name):
    if name.startswith('__'):
      raise AttributeError(name)
    raise MissingHyperparameterError(
      f'the submission reads hyperparameter {name!r}, which {source} does '
      f'not define (it defines {defined}); add {name!r} to {source}.')

  cls = type('Hyperparameters', (base,), {
    '__slots__': (), '__getattr__': __getattr__})
  return cls(**point)
