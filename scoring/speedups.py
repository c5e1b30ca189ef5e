"""Geometric-mean speedup of each submission over a reference submission.

As AlgoPerf's ``compute_speedups.py``: over the base workloads, the ratio of
per-workload times (median over studies, before the held-out rule and the
4x cut) ``time(submission) / time(reference)``, averaged geometrically.

Misses: an infinite time (target missed) is replaced by the workload's
runtime budget + 1 (seconds; budget x3 for self-tuning under v0.5 rules,
x1.5 under v0.6, as AlgoPerf). When scoring by ``global_step`` a miss is
replaced by the step budget + 1 instead: the step hint (the steps the
external-tuning budget allows), times the same self-tuning factor, since a
self-tuning trial may train that much longer. A workload without logs, or
without a budget in the targets file, is left out of the mean with a
warning. ``runtime_ratio`` < 1 means faster; ``speedup`` = 1 / ratio.
"""

import dataclasses
import math

from scoring.errors import Problems
from scoring.workload_targets import TargetsConfig

SELF_TUNING_FACTOR = {'v0.5': 3.0, 'v0.6': 1.5}


@dataclasses.dataclass(frozen=True)
class Speedup:
  submission: str
  reference: str
  per_workload: dict[str, float]  # runtime ratio per base workload used.
  runtime_ratio: float  # geometric mean; NaN when no workload is usable.

  @property
  def speedup(self) -> float:
    return 1.0 / self.runtime_ratio if self.runtime_ratio else math.inf


def _miss_value(targets: TargetsConfig, workload: str, time_col: str,
                self_tuning: bool, rules: str) -> float | None:
  target = targets.workloads[workload]
  factor = SELF_TUNING_FACTOR.get(rules, 1.0) if self_tuning else 1.0
  budget = (target.step_hint if time_col == 'global_step' else
            target.max_allowed_runtime_sec)
  return budget * factor + 1.0 if budget else None


def compute_speedups(times: dict[str, dict[str, float]],
                     targets: TargetsConfig, reference: str, time_col: str,
                     self_tuning: bool, rules: str,
                     problems: Problems) -> list[Speedup]:
  """One Speedup per submission other than ``reference``."""
  rows = []
  for submission in sorted(times):
    if submission == reference:
      continue
    ratios = {}
    for workload in targets.base_workloads:
      pair = []
      for name in (submission, reference):
        value = times[name].get(workload, math.nan)
        if value == math.inf:
          value = _miss_value(targets, workload, time_col, self_tuning,
                              rules)
        pair.append(value)
      if any(v is None or math.isnan(v) for v in pair):
        problems.add('speedup', f'{submission} vs {reference}',
                     f'{workload} left out of the speedup (no logs, or a '
                     'miss without a budget in the targets file).')
        continue
      ratios[workload] = pair[0] / pair[1]
    mean = (math.exp(sum(math.log(r) for r in ratios.values()) / len(ratios))
            if ratios else math.nan)
    rows.append(Speedup(submission, reference, ratios, mean))
  return rows
