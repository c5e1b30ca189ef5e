"""How finely a split resolves a target: bootstrap standard errors (no JAX).

A workload's metric on a split is a function of per-example sums: the
workload's ``eval_metrics`` sums over examples and ``eval_averages`` turns
the sums into metrics (accuracy = correct / examples; SSIM = summed SSIM /
images; WER = summed word errors / summed reference words, a ratio of sums;
the LM's loss = summed token loss / tokens). The bootstrap resamples
*examples* (images, utterances, windows, molecules, rows) with replacement,
adds up their sums and recomputes the metric through the same
``eval_averages``, so it measures exactly the metric a run is scored by.

Issue 18's resolution goal: a standard error of at most ``ABS_LIMIT``
(absolute) for accuracy, SSIM and WER and at most ``REL_LIMIT`` (relative)
for losses, at the target.
"""

import math
from collections.abc import Callable

import numpy as np

ABS_LIMIT = 0.0025
REL_LIMIT = 0.005
RESAMPLES = 1000
# Metrics whose resolution is judged relative to their value.
RELATIVE_METRICS = ('loss',)


def is_relative(metric: str) -> bool:
  return metric in RELATIVE_METRICS


def limit(metric: str) -> float:
  return REL_LIMIT if is_relative(metric) else ABS_LIMIT


def bootstrap(per_example: dict, averages: Callable[[dict, int], dict],
              metric: str, resamples: int = RESAMPLES,
              seed: int = 0) -> np.ndarray:
  """The metric over ``resamples`` resamples of the examples.

  ``per_example`` maps each summed quantity (``eval_metrics``' keys) to an
  array with one value per example; ``averages(totals, num_examples)`` is
  the workload's ``eval_averages``.
  """
  arrays = {k: np.asarray(v, np.float64) for k, v in per_example.items()}
  num = len(next(iter(arrays.values())))
  if num == 0:
    raise ValueError('no examples to resample')
  rng = np.random.default_rng(seed)
  # Counts per example in each resample: one matrix product per quantity.
  counts = rng.multinomial(num, np.full(num, 1.0 / num), size=resamples)
  totals = {k: counts @ v for k, v in arrays.items()}
  return np.array([averages({k: t[r] for k, t in totals.items()}, num)[metric]
                   for r in range(resamples)])


def standard_error(per_example: dict, averages: Callable[[dict, int], dict],
                   metric: str, resamples: int = RESAMPLES,
                   seed: int = 0) -> tuple:
  """(metric on the whole split, its bootstrap SE as the goal judges it).

  The SE is absolute, or relative to the metric for ``RELATIVE_METRICS``.
  """
  num = len(next(iter(per_example.values())))
  value = averages({k: np.sum(np.asarray(v, np.float64))
                    for k, v in per_example.items()}, num)[metric]
  se = float(np.std(bootstrap(per_example, averages, metric, resamples, seed),
                    ddof=1))
  return float(value), se / abs(value) if is_relative(metric) else se


def resolves(se: float, metric: str) -> bool:
  return se <= limit(metric)


def required_examples(num_examples: int, se: float, metric: str) -> int:
  """Split size at which the SE would meet the goal (SE ~ 1/sqrt(n))."""
  return max(num_examples,
             math.ceil(num_examples * (se / limit(metric)) ** 2))


def format_se(se: float | None, metric: str) -> str:
  """'0.87% abs' / '0.21% rel', with ' !' past the goal; '' when unknown."""
  if se is None:
    return ''
  kind = 'rel' if is_relative(metric) else 'abs'
  flag = '' if resolves(se, metric) else ' !'
  return f'{100 * se:.2f}% {kind}{flag}'
