"""Speedup of each submission over a reference submission.

A speedup compares times to the target, so it is computed only over the
base workloads where **both** submissions reached the target (median over
studies, before the held-out rule and the 4x cut): the geometric mean of
``time(submission) / time(reference)`` there. Where no base workload was
reached by both, there is no speedup ("n/a"), and ``why_not`` says why:
a ratio between two misses says nothing about speed.

AlgoPerf's ``compute_speedups.py`` instead replaces a miss by the
workload's runtime budget + 1 (x3 for self-tuning under v0.5 rules, x1.5
under v0.6; by steps, the step hint + 1, times the same factor), so two
submissions that miss everything come out at 1.0x. That number is kept as
``algoperf_runtime_ratio`` (a column of speedups.csv), for comparison with
AlgoPerf's tools, and is never shown as a speedup. A workload without logs,
or a miss without a budget in the targets file, is left out of it with a
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
  # Runtime ratio per base workload both reached the target on.
  per_workload: dict[str, float]
  runtime_ratio: float  # Geometric mean of per_workload; NaN when empty.
  # Base workloads left out of per_workload, and why ('missed by x').
  left_out: dict[str, str] = dataclasses.field(default_factory=dict)
  # AlgoPerf's compute_speedups: misses replaced by the budget + 1.
  algoperf_runtime_ratio: float = math.nan

  @property
  def speedup(self) -> float:
    if math.isnan(self.runtime_ratio):
      return math.nan
    return 1.0 / self.runtime_ratio if self.runtime_ratio else math.inf

  @property
  def why_not(self) -> str:
    """Why there is no speedup ('' when there is one)."""
    if self.per_workload:
      return ''
    counts = {}
    for reason in self.left_out.values():
      counts[reason] = counts.get(reason, 0) + 1
    listed = ', '.join(f'{reason} on {n}' for reason, n in counts.items())
    return ('no base workload where both reached the target'
            + (f' ({listed})' if listed else ''))


def _miss_value(targets: TargetsConfig, workload: str, time_col: str,
                self_tuning: bool, rules: str) -> float | None:
  target = targets.workloads[workload]
  factor = SELF_TUNING_FACTOR.get(rules, 1.0) if self_tuning else 1.0
  budget = (target.step_hint if time_col == 'global_step' else
            target.max_allowed_runtime_sec)
  return budget * factor + 1.0 if budget else None


def _geomean(ratios) -> float:
  ratios = list(ratios)
  if not ratios:
    return math.nan
  return math.exp(sum(math.log(r) for r in ratios) / len(ratios))


def _left_out_reason(pair: dict[str, float]) -> str | None:
  """None when both reached; else who missed or has no logs."""
  missing = [n for n, v in pair.items() if math.isnan(v)]
  if missing:
    return f'no logs of {" and ".join(missing)}'
  missed = [n for n, v in pair.items() if v == math.inf]
  if len(missed) == 2:
    return 'missed by both'
  if missed:
    return f'missed by {missed[0]}'
  return None


def compute_speedups(times: dict[str, dict[str, float]],
                     targets: TargetsConfig, reference: str, time_col: str,
                     self_tuning: bool, rules: str,
                     problems: Problems) -> list[Speedup]:
  """One Speedup per submission other than ``reference``."""
  rows = []
  for submission in sorted(times):
    if submission == reference:
      continue
    ratios, left_out, algoperf = {}, {}, {}
    for workload in targets.base_workloads:
      pair = {name: times[name].get(workload, math.nan)
              for name in (submission, reference)}
      reason = _left_out_reason(pair)
      if reason is None:
        ratios[workload] = pair[submission] / pair[reference]
      else:
        left_out[workload] = reason
      value = _algoperf_ratio(pair, submission, reference, targets,
                              workload, time_col, self_tuning, rules)
      if value is None:
        problems.add('speedup', f'{submission} vs {reference}',
                     f'{workload} left out of AlgoPerf\'s runtime ratio (no '
                     'logs, or a miss without a budget in the targets '
                     'file).')
      else:
        algoperf[workload] = value
    rows.append(Speedup(submission, reference, ratios,
                        _geomean(ratios.values()), left_out,
                        _geomean(algoperf.values())))
  return rows


def _algoperf_ratio(pair, submission, reference, targets, workload,
                    time_col, self_tuning, rules) -> float | None:
  """AlgoPerf's per-workload ratio, a miss counting as the budget + 1."""
  values = []
  for name in (submission, reference):
    value = pair[name]
    if value == math.inf:
      value = _miss_value(targets, workload, time_col, self_tuning, rules)
    if value is None or math.isnan(value):
      return None
    values.append(value)
  return values[0] / values[1]
