"""Per-workload time-to-target, by AlgoPerf's rules.

* Per trial: the first eval whose validation metric meets the target
  (``>=`` for maximized metrics, ``<=`` for minimized ones; NaN never does).
* Per study: the trial that meets it at the earliest *eval index* (AlgoPerf
  compares eval indices, not times); its time at that eval is the study's
  time, infinite when no trial meets it.
* Per workload: the median over studies (``numpy.median`` semantics: an even
  count averages the middle two; NaN anywhere gives NaN).

Ties on the eval index: AlgoPerf takes ``idxmin()`` over the tied trials,
that is the first in the order ``os.listdir`` returned them (a submission's
timestamped reruns are merged in the order their parent lists them).
``tie_break`` says which trial is kept: 'listing' (default; that same rule,
so the times are the official ones for the same directory on the same
filesystem; the order depends on the filesystem: ext4 lists by a hash of
the names, not by trial number, and a copy may list otherwise),
'last-trial' (the highest trial number, whatever the filesystem) or
'fastest' (the smallest time among the tied trials).
"""

import collections
import dataclasses
import math

from scoring.errors import Problems
from scoring.errors import ScoringError
from scoring.load import Pool
from scoring.load import TrialLog
from scoring.workload_targets import TargetsConfig
from scoring.workload_targets import WorkloadTarget

TIE_BREAKS = ('listing', 'last-trial', 'fastest')
DEFAULT_TIE_BREAK = 'listing'
INF = math.inf


@dataclasses.dataclass(frozen=True)
class StudyResult:
  study: str
  time: float  # inf when no trial met the target.
  trial: TrialLog | None  # the trial that set the time.
  eval_index: int | None


@dataclasses.dataclass(frozen=True)
class WorkloadTime:
  submission: str
  workload: str
  time: float  # median over studies; inf = miss, NaN = unusable logs.
  studies: tuple[StudyResult, ...]


def first_reaching_index(metric: list[float],
                         target: WorkloadTarget) -> int | None:
  goal = target.validation_target
  if target.direction == 'min':
    return next((i for i, v in enumerate(metric) if v <= goal), None)
  return next((i for i, v in enumerate(metric) if v >= goal), None)


def study_result(study: str, trials: list[TrialLog], target: WorkloadTarget,
                 time_col: str, tie_break: str) -> StudyResult:
  reached = []
  for trial in trials:
    index = first_reaching_index(trial.metric, target)
    if index is not None:
      reached.append((index, trial))
  if not reached:
    return StudyResult(study, INF, None, None)
  earliest = min(index for index, _ in reached)
  tied = [trial for index, trial in reached if index == earliest]
  if tie_break == 'last-trial':
    best = max(tied, key=lambda t: (t.trial_number, t.path))
  elif tie_break == 'fastest':
    best = min(tied, key=lambda t: t.columns[time_col][earliest])
  else:
    best = tied[0]  # Reading order is the directory listing order.
  return StudyResult(study, best.columns[time_col][earliest], best, earliest)


def median(values: list[float]) -> float:
  if any(map(math.isnan, values)):
    return math.nan
  ordered = sorted(values)
  n = len(ordered)
  if n % 2:
    return ordered[n // 2]
  return (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def group_trials(pool: Pool) -> dict[str, dict[str, dict[str, list]]]:
  """submission -> workload -> study -> [TrialLog] (reading order)."""
  grouped = {}
  for submission, trials in pool.trials.items():
    by_workload = collections.defaultdict(
      lambda: collections.defaultdict(list))
    frameworks = collections.defaultdict(set)
    for trial in trials:
      by_workload[trial.workload][trial.study].append(trial)
      frameworks[trial.workload].add(trial.framework)
    for workload, names in frameworks.items():
      if len(names) > 1:
        raise ScoringError(
          f'Submission {submission!r} has logs of {workload!r} from several '
          f'frameworks ({", ".join(sorted(names))}) under {pool.root}; '
          'AlgoPerf scores one framework per workload. Move one set away.'
        )
    grouped[submission] = by_workload
  return grouped


def workload_times(pool: Pool, targets: TargetsConfig, time_col: str,
                   tie_break: str = DEFAULT_TIE_BREAK
                   ) -> dict[str, dict[str, WorkloadTime]]:
  """submission -> workload -> WorkloadTime, for every workload logged."""
  if tie_break not in TIE_BREAKS:
    raise ScoringError(f'Unknown tie break {tie_break!r}; use one of '
                       f'{", ".join(TIE_BREAKS)}.')
  times = {}
  for submission, by_workload in group_trials(pool).items():
    times[submission] = {}
    for workload, by_study in by_workload.items():
      target = targets.workloads[workload]
      studies = tuple(
        study_result(study, trials, target, time_col, tie_break)
        for study, trials in sorted(by_study.items()))
      times[submission][workload] = WorkloadTime(
        submission, workload, median([s.time for s in studies]), studies)
  return times


def check_counts(pool: Pool, workloads: tuple[str, ...], self_tuning: bool,
                 problems: Problems, expected_studies: int | None = None,
                 expected_trials: int | None = None) -> None:
  """Warns (errors under --strict) when counts differ from the expected.

  Expected counts default to the most common count in the pool, so a pool
  that is consistent passes whatever its size; pass them to enforce a rule
  (AlgoPerf v0.5: 5 studies x 5 trials for external tuning).
  """
  grouped = group_trials(pool)
  study_counts = collections.Counter()
  trial_counts = collections.Counter()
  for by_workload in grouped.values():
    for by_study in by_workload.values():
      study_counts[len(by_study)] += 1
      trial_counts.update(len(t) for t in by_study.values())
  n_studies = expected_studies or _mode(study_counts)
  # Self-tuning: AlgoPerf does not check trial counts (one per study).
  n_trials = expected_trials or (None if self_tuning else _mode(trial_counts))
  for submission, by_workload in sorted(grouped.items()):
    where = f'{pool.root}/{submission}'
    missing = [w for w in workloads if w not in by_workload]
    if missing:
      problems.add('workload count', where,
                   f'no logs for {", ".join(missing)} ({len(by_workload)} '
                   f'of {len(workloads)} scored workloads); counted as '
                   'missed.')
    for workload, by_study in sorted(by_workload.items()):
      if len(by_study) != n_studies:
        problems.add('study count', f'{where}/*/{workload}_*',
                     f'{len(by_study)} studies, expected {n_studies}; the '
                     'median is over the studies present.')
      for study, trials in sorted(by_study.items()):
        if n_trials and len(trials) != n_trials:
          problems.add('trial count',
                       f'{where}/{study}/{workload}_{trials[0].framework}',
                       f'{len(trials)} trials, expected {n_trials}.')


def _mode(counter: collections.Counter) -> int:
  return max(counter.items(), key=lambda kv: (kv[1], kv[0]))[0] if counter \
    else 0
