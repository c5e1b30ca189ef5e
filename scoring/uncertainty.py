"""How far a score would move with other studies: bootstrap and per study.

A score is computed from per-workload medians over a few studies (3 on the
CPU suite's leaderboard), so it carries the studies' noise. Two views of it:

* **Bootstrap interval.** Each (submission, workload) draws its studies
  again, with replacement and as many as it has, independently of every
  other pair (a study of one workload is an independent run of that
  workload); the medians, the profile and the scores are recomputed exactly
  as for the score itself (``profiles.compute_profile``: held-out rule and
  4x cut included, so the interval also moves with the other submissions'
  times). The interval is the central ``level`` share of the resampled
  scores. With 3 studies a workload has only 10 distinct resamples, so the
  interval is coarse; it says how much of a ranking the studies decide, not
  a precise probability.
* **Per-study scores.** Study k of every workload alone (the time of that
  study instead of the median), scored against the other submissions'
  study k. A workload without a study k counts as not logged (NaN) in it,
  as it would in the median.

Pure Python, seeded: the same logs give the same intervals.
"""

import dataclasses
import math
import random

from scoring import profiles
from scoring import time_to_target

RESAMPLES = 1000
LEVEL = 0.95
SEED = 0


@dataclasses.dataclass(frozen=True)
class ScoreUncertainty:
  resamples: int
  level: float  # Central share of the resampled scores in the interval.
  seed: int
  interval: dict  # submission -> (low, high)
  studies: tuple  # Study labels, in order (e.g. 'study_0', ...).
  per_study: dict  # submission -> {study label: score}

  def spread(self, submission: str) -> tuple[float, float]:
    """(lowest, highest) of the submission's per-study scores."""
    values = list(self.per_study[submission].values())
    return min(values), max(values)


def _resampled_times(workload_times, rng: random.Random) -> dict:
  times = {}
  for submission, by_workload in sorted(workload_times.items()):
    times[submission] = {}
    for workload, entry in sorted(by_workload.items()):
      studies = [s.time for s in entry.studies]
      drawn = [studies[rng.randrange(len(studies))] for _ in studies]
      times[submission][workload] = time_to_target.median(drawn)
  return times


def _quantile(ordered: list[float], q: float) -> float:
  """Linear interpolation between order statistics (numpy's default)."""
  position = q * (len(ordered) - 1)
  low = math.floor(position)
  high = min(low + 1, len(ordered) - 1)
  return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def bootstrap_intervals(workload_times, targets, use_held_out: bool,
                        max_tau: float, num_points: int,
                        resamples: int = RESAMPLES, level: float = LEVEL,
                        seed: int = SEED) -> dict:
  """submission -> (low, high) of its score over study resamples."""
  rng = random.Random(seed)
  drawn = {s: [] for s in workload_times}
  for _ in range(resamples):
    times = _resampled_times(workload_times, rng)
    scores = profiles.compute_profile(times, targets, use_held_out, max_tau,
                                      num_points).scores
    for submission, score in scores.items():
      drawn[submission].append(score)
  tail = (1 - level) / 2
  return {s: (_quantile(sorted(v), tail), _quantile(sorted(v), 1 - tail))
          for s, v in drawn.items()}


def study_labels(workload_times) -> tuple:
  labels = {s.study for by_workload in workload_times.values()
            for entry in by_workload.values() for s in entry.studies}
  return tuple(sorted(labels, key=_study_order))


def _study_order(label: str):
  digits = label.rpartition('_')[2]
  return (0, int(digits), label) if digits.isdigit() else (1, 0, label)


def per_study_scores(workload_times, targets, use_held_out: bool,
                     max_tau: float, num_points: int) -> dict:
  """submission -> {study label: the score of that study alone}."""
  scores = {s: {} for s in workload_times}
  for label in study_labels(workload_times):
    times = {
      submission: {workload: next((s.time for s in entry.studies
                                   if s.study == label), math.nan)
                   for workload, entry in by_workload.items()}
      for submission, by_workload in workload_times.items()}
    profile = profiles.compute_profile(times, targets, use_held_out, max_tau,
                                       num_points)
    for submission, score in profile.scores.items():
      scores[submission][label] = score
  return scores


def measure(workload_times, targets, use_held_out: bool, max_tau: float,
            num_points: int, resamples: int = RESAMPLES,
            level: float = LEVEL, seed: int = SEED) -> ScoreUncertainty:
  return ScoreUncertainty(
    resamples=resamples, level=level, seed=seed,
    interval=bootstrap_intervals(workload_times, targets, use_held_out,
                                 max_tau, num_points, resamples, level, seed),
    studies=study_labels(workload_times),
    per_study=per_study_scores(workload_times, targets, use_held_out,
                               max_tau, num_points))
