"""Refined learning-rate schedules from a finished run's gradient norms.

Defazio, Cutkosky, Mehta & Mishchenko (2023, "When, Why and How Much?
Adaptive Learning Rate Scheduling by Refinement"), Algorithm 1/2: given the
gradient norms g_1..g_T of a previous run,

  g_hat = median filter of g with a window of 10% of the run
  w_t   = g_hat_t^-2 (SGD-type methods, l2 norm)
          g_hat_t^-1 (Adam-type methods, l1 norm)
  eta_t = w_t * sum_{p > t} w_p, normalized so that max_t eta_t = 1.

With constant norms, eta_t is proportional to T - t: exactly linear decay to
zero. Large early norms give a warm-up; norms rising at the end anneal
faster. A schedule is resampled (linear interpolation on the normalized time
axis [0, 1]) to the length of the run that consumes it. numpy only.
"""

import csv
import json
import pathlib
from collections.abc import Sequence

import numpy as np

NORM_COLUMNS = {'l1': 'grad_norm_l1', 'l2': 'grad_norm_l2'}
# The weight's exponent per norm: SGD-type (l2) w = g^-2, Adam-type w = g^-1.
_WEIGHT_POWER = {'l1': 1.0, 'l2': 2.0}
WINDOW_FRACTION = 0.1
_TINY = 1e-12


def median_filter(values: np.ndarray, window: int) -> np.ndarray:
  """Centered running median; the window shrinks at the ends (no padding)."""
  values = np.asarray(values, np.float64)
  window = max(int(window), 1)
  half_before = (window - 1) // 2
  half_after = window - 1 - half_before
  out = np.empty_like(values)
  for t in range(len(values)):
    lo, hi = max(t - half_before, 0), min(t + half_after + 1, len(values))
    out[t] = np.median(values[lo:hi])
  return out


def refine(
  grad_norms: Sequence[float],
  norm: str = 'l1',
  window_fraction: float = WINDOW_FRACTION,
) -> np.ndarray:
  """The refined schedule (peak 1, one value per step of the run).

  Raises:
    ValueError: an unknown ``norm``, fewer than 2 norms, or non-finite or
      negative norms.
  """
  if norm not in _WEIGHT_POWER:
    raise ValueError(f'norm={norm!r}: use one of {sorted(_WEIGHT_POWER)}.')
  g = np.asarray(grad_norms, np.float64)
  if g.ndim != 1 or len(g) < 2:
    raise ValueError(f'Need at least 2 gradient norms, got {g.shape}.')
  if not np.all(np.isfinite(g)) or np.any(g < 0):
    raise ValueError('Gradient norms must be finite and >= 0.')
  window = max(round(window_fraction * len(g)), 1)
  smoothed = np.maximum(median_filter(g, window), _TINY)
  weights = smoothed ** -_WEIGHT_POWER[norm]
  # sum_{p > t} w_p: the reversed cumulative sum, shifted by one.
  tail = np.cumsum(weights[::-1])[::-1] - weights
  # The last step's tail is empty (eta_T = 0); keep one step of it so that
  # constant norms give 1 - t / T rather than 1 - t / (T - 1).
  tail = tail + weights[-1]
  eta = weights * tail
  return eta / eta.max()


def resample(schedule: Sequence[float], steps: int) -> np.ndarray:
  """``schedule`` stretched or compressed to ``steps`` values.

  Linear interpolation of step t at position t / steps of the run, so that
  a linear decay stays a linear decay of the new length.
  """
  schedule = np.asarray(schedule, np.float64)
  if steps < 1:
    raise ValueError(f'steps must be >= 1, got {steps}.')
  source = np.arange(len(schedule)) / len(schedule)
  target = np.arange(steps) / steps
  return np.interp(target, source, schedule)


def read_grad_norms(path: pathlib.Path, norm: str):
  """(global_steps, norms) from a trial's grad_norms.csv, sorted by step.

  A step logged twice (a resumed trial re-running steps) keeps its last row.

  Raises:
    ValueError: the file lacks the norm's column or holds no rows.
  """
  column = NORM_COLUMNS[norm]
  by_step = {}
  with open(path, newline='') as f:
    reader = csv.DictReader(f)
    if column not in (reader.fieldnames or []):
      raise ValueError(
        f'{path}: no column {column!r} (has {reader.fieldnames}); was the '
        'run made with a submission that logs gradient norms '
        '(reference_algorithms/common/train_step.py)?'
      )
    for row in reader:
      if row[column] not in ('', None):
        by_step[int(float(row['global_step']))] = float(row[column])
  if not by_step:
    raise ValueError(f'{path}: no gradient norms in it.')
  steps = sorted(by_step)
  return np.array(steps), np.array([by_step[s] for s in steps])


def schedule_document(
  values: np.ndarray,
  norm: str,
  source: str,
  source_steps: int,
  window: int,
) -> dict:
  """The JSON the refined submission reads, with provenance."""
  return {
    'format': 'refined_schedule/1',
    'method': 'Defazio et al. 2023, refined schedule (Algorithm 2)',
    'norm': norm,
    'weight': 'g^-1' if norm == 'l1' else 'g^-2',
    'median_filter_window_steps': window,
    'source': source,
    'source_steps': source_steps,
    'steps': len(values),
    'peak_step': int(np.argmax(values)),
    'values': [round(float(v), 8) for v in values],
  }


def load_schedule(path, steps: int | None = None) -> np.ndarray:
  """Values of a schedule JSON, resampled to ``steps`` when given.

  Raises:
    ValueError: the file holds no ``values`` list.
  """
  document = json.loads(pathlib.Path(path).read_text())
  values = document.get('values') if isinstance(document, dict) else None
  if not values:
    raise ValueError(
      f'{path}: no "values" list; write it with `algoperf refine RUN_DIR '
      '-o schedule.json`.'
    )
  values = np.asarray(values, np.float64)
  return values if steps is None else resample(values, steps)
