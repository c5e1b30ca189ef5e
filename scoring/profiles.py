"""Performance profiles and benchmark scores, by AlgoPerf's rules.

From the per-workload times (median over studies) of every submission:

1. v0.5 rules only: a held-out variant counts as missed (infinite) for a
   submission whose base workload time is infinite or NaN.
2. Every entry more than 4x the best (smallest) entry of its workload,
   over all submissions, becomes infinite (held-out variants included, so
   a variant must be within 4x of the best among submissions that trained
   the base).
3. v0.5 rules only: a base workload becomes infinite for a submission whose
   held-out variant is infinite or NaN.
4. Only base workloads are kept; each entry is divided by the best entry of
   its workload (the performance ratio r).
5. rho(tau) = (number of base workloads with r <= tau) / (number of base
   workloads in the targets file), on ``num_points`` linearly spaced tau in
   [1, max_tau]; the score is the trapezoid area under rho divided by
   (max_tau - 1).

Misses are infinite, workloads without logs NaN; neither ever counts.

Under v0.6 rules only base workloads are read. (AlgoPerf's v0.6 code keeps
every logged workload column when the targets file has no held-out list and
then applies the held-out rule to any extra variant a submission happened to
log, which would disqualify the base workload of every *other* submission;
we do not reproduce that accident.)
Pure Python (no numpy), numerically identical to AlgoPerf's pandas code up
to the last bits of the trapezoid sum.
"""

import dataclasses
import math

from scoring.workload_targets import TargetsConfig

INF = math.inf
CUT_FACTOR = 4.0

# Why an entry is not a plain time (for tables and the leaderboard).
OK, MISSED, NO_LOGS, OVER_CUT, HELD_OUT, BASE_MISSED = (
  'ok', 'missed target', 'no logs', 'over 4x best', 'held-out variant missed',
  'base workload missed')


@dataclasses.dataclass
class Profile:
  submissions: list[str]
  base_workloads: list[str]
  times: dict[str, dict[str, float]]  # raw medians, base + held-out.
  final: dict[str, dict[str, float]]  # base, after held-out rule and cut.
  status: dict[str, dict[str, str]]  # base + held-out: OK or why not.
  ratios: dict[str, dict[str, float]]
  taus: list[float]
  rho: dict[str, list[float]]
  scores: dict[str, float]
  held_out: list[str] = dataclasses.field(default_factory=list)


def tau_grid(min_tau: float, max_tau: float, num_points: int) -> list[float]:
  """``numpy.linspace(min_tau, max_tau, num_points)``, value for value."""
  step = (max_tau - min_tau) / (num_points - 1)
  points = [i * step + min_tau for i in range(num_points)]
  points[-1] = max_tau
  return points


def trapezoid(y: list[float], x: list[float]) -> float:
  return math.fsum((x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2.0
                   for i in range(len(x) - 1))


def _best(values) -> float:
  finite = [v for v in values if not math.isnan(v)]  # as pandas min.
  return min(finite) if finite else math.nan


def _bad(value: float) -> bool:
  return value == INF or math.isnan(value)


def compute_profile(times: dict[str, dict[str, float]],
                    targets: TargetsConfig, use_held_out: bool,
                    max_tau: float = 4.0, num_points: int = 100) -> Profile:
  """Scores submissions against each other.

  Args:
    times: submission -> workload -> median time (absent = no logs).
    targets: base workloads, held-out variants and their bases.
    use_held_out: apply the v0.5 held-out rule (False for v0.6 rules).
  """
  submissions = sorted(times)
  bases = list(targets.base_workloads)
  held_out = list(targets.held_out_workloads) if use_held_out else []
  table = {s: {w: times[s].get(w, math.nan) for w in bases + held_out}
           for s in submissions}
  status = {s: {w: _initial_status(v) for w, v in row.items()}
            for s, row in table.items()}
  _apply_rules(table, status, targets, bases, held_out)
  final = {s: {b: table[s][b] for b in bases} for s in submissions}
  ratios = {s: {} for s in submissions}
  for b in bases:
    best = _best(final[s][b] for s in submissions)
    for s in submissions:
      ratios[s][b] = _ratio(final[s][b], best)
  taus = tau_grid(1.0, max_tau, num_points)
  n_base = len(bases)
  rho = {s: [sum(r <= tau for r in ratios[s].values()) / n_base
             for tau in taus] for s in submissions}
  span = taus[-1] - taus[0]
  scores = {s: trapezoid(rho[s], taus) / span for s in submissions}
  return Profile(submissions, bases, {s: dict(times[s]) for s in submissions},
                 final, status, ratios, taus, rho, scores, held_out)


def _initial_status(value: float) -> str:
  if value < INF:
    return OK
  return MISSED if value == INF else NO_LOGS


def _apply_rules(table, status, targets, bases, held_out) -> None:
  """Steps 1-3 of the module docstring, in place; notes why in status."""
  rows = list(table.items())
  for variant in held_out:
    _miss_where(rows, status, variant, BASE_MISSED,
                lambda row, v=variant: _bad(row[targets.base_of(v)]))
  for workload in bases + held_out:
    limit = CUT_FACTOR * _best(row[workload] for _, row in rows)
    _miss_where(rows, status, workload, OVER_CUT,
                lambda row, w=workload, cut=limit: row[w] > cut)
  for variant in held_out:
    _miss_where(rows, status, targets.base_of(variant), HELD_OUT,
                lambda row, v=variant: _bad(row[v]))


def _miss_where(rows, status, workload: str, reason: str, condition) -> None:
  """Makes ``workload`` infinite in every row meeting ``condition``.

  The first rule to do so for a submission is recorded as the reason.
  """
  for s, row in rows:
    if condition(row):
      row[workload] = INF
      if status[s][workload] == OK:
        status[s][workload] = reason


def _ratio(value: float, best: float) -> float:
  # pandas: value / best, where a NaN quotient keeps the original value.
  if math.isnan(best):
    return value
  if best == 0:
    return value if value == 0 or math.isnan(value) else INF
  quotient = value / best
  return value if math.isnan(quotient) else quotient
