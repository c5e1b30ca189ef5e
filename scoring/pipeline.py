"""Scores an experiment directory: the library entry point of both CLIs.

Example::

  from scoring import pipeline
  result = pipeline.score_experiments('experiments', pipeline.ScoreOptions(
      targets='algoperf_v05'))
  print(result.profile.scores)
"""

import dataclasses
import datetime
import os
import pathlib

from scoring import default_targets
from scoring import load
from scoring import profiles
from scoring import speedups as speedups_lib
from scoring import time_to_target
from scoring import uncertainty as uncertainty_lib
from scoring import workload_targets
from scoring.errors import Problems
from scoring.errors import ScoringError

RULESETS = ('external', 'self', 'pbt')
# Population-based training (algoperf study --tuner pbt): its trials
# interact, so it is no AlgoPerf ruleset and is never scored as one, nor
# together with one.
SEPARATE_RULESETS = ('pbt',)
FOLDER_RULESETS = {'external_tuning': 'external', 'self_tuning': 'self'}
RULES = ('v0.5', 'v0.6')
TIME_COLUMNS = load.TIME_COLUMNS


@dataclasses.dataclass(frozen=True)
class ScoreOptions:
  targets: str | None = None  # builtin or path; None: default_targets.
  ruleset: str | None = None  # 'external'/'self'/'pbt'; None: the logs'.
  rules: str | None = None  # 'v0.5' (held-out rule) / 'v0.6'; None: by file.
  time_col: str = 'score'  # or 'global_step' (score by steps).
  strict: bool = False  # count mismatches become errors.
  tie_break: str = time_to_target.DEFAULT_TIE_BREAK
  reference_submission: str | None = None  # for speedups.
  expected_studies: int | None = None
  expected_trials: int | None = None
  max_tau: float = 4.0
  num_points: int = 100


@dataclasses.dataclass
class ScoringResult:
  root: str
  options: ScoreOptions
  targets: workload_targets.TargetsConfig
  rules: str
  ruleset: str  # 'external' or 'self', as given or read from the logs.
  pool: load.Pool
  workload_times: dict  # submission -> workload -> WorkloadTime
  profile: profiles.Profile
  speedups: list
  reference: str | None
  problems: Problems
  created: str  # ISO date-time (UTC) of scoring.
  targets_how: str = ''  # Which targets, and why (default_targets).
  ruleset_how: str = ''  # Where the ruleset came from.
  reference_how: str = ''  # NAMED, BEST_SCORING or TIED_BEST ('' if none).
  # Bootstrap intervals over studies and per-study scores (seeded).
  uncertainty: 'uncertainty_lib.ScoreUncertainty | None' = None

  @property
  def times(self) -> dict[str, dict[str, float]]:
    return {s: {w: t.time for w, t in by_w.items()}
            for s, by_w in self.workload_times.items()}


def _check_options(options: ScoreOptions) -> None:
  if options.ruleset not in RULESETS + (None,):
    raise ScoringError(f'Unknown ruleset {options.ruleset!r}; use one of '
                       f'{", ".join(RULESETS)}.')
  if options.rules not in RULES + (None,):
    raise ScoringError(f'Unknown rules {options.rules!r}; use one of '
                       f'{", ".join(RULES)}.')
  if options.time_col not in TIME_COLUMNS:
    raise ScoringError(f'Unknown time column {options.time_col!r}; use one '
                       f'of {", ".join(TIME_COLUMNS)}.')


def score_experiments(root: str, options: ScoreOptions) -> ScoringResult:
  """Reads ``root`` and scores its submissions against each other.

  Raises:
    ScoringError: bad options, unreadable targets, no logs, mixed benchmark
      versions, or (with ``strict``) count mismatches.
  """
  _check_options(options)
  root = os.path.normpath(root)
  choice = default_targets.choose(root, options.targets)
  targets = choice.config
  rules = options.rules or ('v0.5' if targets.held_out_workloads else 'v0.6')
  use_held_out = rules == 'v0.5'
  scored = targets.scored_workloads(use_held_out)
  problems = Problems()
  pool = load.load_pool(root, targets, scored, problems)
  _check_versions(pool, targets, problems)
  ruleset, ruleset_how = _ruleset(pool, options.ruleset, problems)
  self_tuning = ruleset == 'self'
  time_to_target.check_counts(pool, scored, self_tuning, problems,
                              options.expected_studies,
                              options.expected_trials)
  problems.raise_if_strict(options.strict)
  times = time_to_target.workload_times(pool, targets, options.time_col,
                                        options.tie_break)
  plain = {s: {w: t.time for w, t in by_w.items()} for s, by_w in
           times.items()}
  profile = profiles.compute_profile(plain, targets, use_held_out,
                                     options.max_tau, options.num_points)
  reference, reference_how = _reference(options.reference_submission,
                                        profile.scores)
  rows = (speedups_lib.compute_speedups(plain, targets, reference,
                                        options.time_col, self_tuning, rules,
                                        problems) if reference else [])
  spread = uncertainty_lib.measure(times, targets, use_held_out,
                                   options.max_tau, options.num_points)
  created = datetime.datetime.now(datetime.UTC).isoformat(
    timespec='seconds')
  return ScoringResult(root, options, targets, rules, ruleset, pool, times,
                       profile, rows, reference, problems, created,
                       choice.how, ruleset_how, reference_how, spread)


def _check_versions(pool, targets, problems) -> None:
  if len(pool.versions) > 1:
    listed = '; '.join(f'{v} (e.g. {p})' for v, p in pool.versions.items())
    raise ScoringError(
      f'Logs under {pool.root} come from several benchmark versions: '
      f'{listed}. Scores across versions are meaningless; score each '
      'version separately.'
    )
  for version, path in pool.versions.items():
    if version.lstrip('v') != targets.benchmark_version.lstrip('v'):
      problems.add('version mismatch', path,
                   f'logs are benchmark version {version} but the targets '
                   f'file {targets.source} is version '
                   f'{targets.benchmark_version}.')


def _ruleset(pool, requested: str | None, problems) -> tuple[str, str]:
  """The ruleset asked for, else the one the logs' flags name, else the one
  a ``self_tuning``/``external_tuning`` folder name says; and whence."""
  if len(pool.rulesets) > 1:
    listed = '; '.join(f'{r} (e.g. {p})' for r, p in pool.rulesets.items())
    raise ScoringError(
      f'Logs under {pool.root} mix tuning rulesets: {listed}. Score each '
      'ruleset separately.')
  logged = next(iter(pool.rulesets), None)
  if requested:
    if logged and requested != logged and (
        {requested, logged} & set(SEPARATE_RULESETS)):
      raise ScoringError(
        f'Logs under {pool.root} were run under the {logged!r} ruleset '
        f'(e.g. {pool.rulesets[logged]}); they cannot be scored as '
        f'{requested!r}: population-based training (pbt) is scored only on '
        'its own, never with external or self tuning. Drop --ruleset or '
        f'pass --ruleset {logged}.')
    if logged and requested != logged:
      problems.add('ruleset mismatch', pool.rulesets[logged],
                   f'logs were run under the {logged!r} ruleset, scored as '
                   f'{requested!r}.')
    return requested, '--ruleset'
  if logged:
    return logged, "the trials' flags files"
  folder = ruleset_of_folder(pool.root)
  if folder:
    return folder, f'the folder name {folder}_tuning'
  return 'external', 'the default: no flags files or *_tuning folder name'


def ruleset_of_folder(root: str) -> str | None:
  """'self' or 'external' when ``root`` or a folder above it is named
  ``self_tuning`` or ``external_tuning`` (AlgoPerf's published logs)."""
  for part in reversed(pathlib.Path(os.path.abspath(root)).parts):
    if part in FOLDER_RULESETS:
      return FOLDER_RULESETS[part]
  return None


# How the speedups' reference submission was chosen.
NAMED = 'named'
BEST_SCORING = 'best-scoring'
TIED_BEST = 'best-scoring, tied'


def _reference(requested: str | None,
               scores: dict[str, float]) -> tuple[str | None, str]:
  """The submission named, else the best-scoring one (ties: first by name);
  and how it was chosen. None with fewer than two submissions."""
  if requested:
    if requested not in scores:
      raise ScoringError(
        f'--reference-submission {requested!r} is not among the scored '
        f'submissions: {", ".join(sorted(scores))}.'
      )
    return requested, NAMED
  if len(scores) < 2:
    return None, ''
  best = max(scores.values())
  tied = sorted(s for s, v in scores.items() if v == best)
  return tied[0], TIED_BEST if len(tied) > 1 else BEST_SCORING
