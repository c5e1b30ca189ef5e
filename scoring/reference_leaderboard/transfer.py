"""The transfer check: does AlgoPerf's own configuration reach our targets?

AlgoPerf's published self-tuning NAdamW point
(``reference_algorithms/algoperf_self_tuning_nadamw``, unedited) reaches most
targets of the full benchmark. A CPU suite that predicts the full
benchmark should let it reach most of its base targets too: at least
``BASE_SHARE`` of them (6 of 8) in at least ``STUDY_SHARE`` of the studies
(2 of 3). This reads the leaderboard's logs of that submission (no
training) and shows, per base workload, what each study reached against
the target, the standard error at the target, and the best smoothed
validation metric of each seed rerun of the protocol's tuned winner (the
runs the target came from), so a miss shows whether it is a near miss
inside the noise or a real gap.
"""

import dataclasses
import math
import pathlib

from scoring import default_targets

ALGORITHM = 'algoperf_self_tuning_nadamw'
BASE_SHARE = 6 / 8
STUDY_SHARE = 2 / 3


@dataclasses.dataclass(frozen=True)
class WorkloadTransfer:
  workload: str
  metric: str
  direction: str
  target: float
  standard_error: str  # As `algoperf workloads --details` prints it.
  # study -> best single validation eval (NaN: no finite eval); a study
  # without a trial of this workload has no entry (an interim page).
  best_by_study: dict
  reached_by_study: dict  # study -> bool, for the studies with a trial.
  seed_bests: tuple  # The protocol winner's seeds' best smoothed metrics.


@dataclasses.dataclass(frozen=True)
class Transfer:
  version: str
  studies: tuple
  workloads: tuple  # Of WorkloadTransfer, base workloads in suite order.
  ablation_page: str | None = None  # Repository path, when committed.

  def reached_in(self, study: str) -> int:
    return sum(w.reached_by_study.get(study, False) for w in self.workloads)

  @property
  def studies_passing(self) -> int:
    need = math.ceil(BASE_SHARE * len(self.workloads))
    return sum(self.reached_in(s) >= need for s in self.studies)

  @property
  def passes(self) -> bool:
    return self.studies_passing >= math.ceil(STUDY_SHARE * len(self.studies))


def _best(values, direction: str) -> float:
  finite = [v for v in values if not math.isnan(v)]
  if not finite:
    return math.nan
  return max(finite) if direction == 'max' else min(finite)


def _seed_bests(repo: pathlib.Path, version: str, workload: str,
                direction: str) -> tuple:
  from algoperf.target_setting import protocol
  from algoperf.target_setting import table

  if version not in protocol.VERSIONS:
    return ()
  root = repo / protocol.VERSIONS[version].summaries
  summary = table.read_summary(root, 'seeds', workload)
  if summary is None:
    return ()
  return tuple(protocol.best_validation(run, direction)
               for run in table.runs_of(summary))


def check(result, repo: pathlib.Path) -> Transfer | None:
  """The check over ``result``'s logs of ``ALGORITHM``; None without any."""
  from algoperf.target_setting import resolution

  trials = result.pool.trials.get(ALGORITHM)
  if not trials:
    return None
  version = result.targets.benchmark_version
  suite = default_targets.suite_at(version)
  studies = tuple(sorted({t.study for t in trials}))
  rows = []
  for workload in result.targets.base_workloads:
    target = result.targets.workloads[workload]
    mine = [t for t in trials if t.workload == workload]
    best = {s: _best([v for t in mine if t.study == s for v in t.metric],
                     target.direction)
            for s in studies if any(t.study == s for t in mine)}
    reached = {s: target.reached(b) if not math.isnan(b) else False
               for s, b in best.items()}
    facts = suite.workloads.get(workload) if suite else None
    se = facts.target_standard_error if facts else None
    rows.append(WorkloadTransfer(
      workload, target.metric, target.direction, target.validation_target,
      resolution.format_se(se and se.validation, target.metric),
      best, reached, _seed_bests(repo, version, workload, target.direction)))
  return Transfer(version, studies, tuple(rows),
                  _ablation_page(repo, version))


def _ablation_page(repo: pathlib.Path, version: str) -> str | None:
  """The committed transfer ablation against ``version``'s targets."""
  from algoperf.target_setting import protocol

  known = protocol.VERSIONS.get(version)
  if known is None or not (repo / known.transfer_ablation).exists():
    return None
  return known.transfer_ablation


def _targets_page(version: str) -> str:
  """The protocol page that set ``version``'s targets."""
  from algoperf.target_setting import protocol

  known = protocol.VERSIONS.get(version)
  return known.doc if known else 'docs/targets.md'


def _fmt(value: float) -> str:
  return 'none' if math.isnan(value) else f'{value:.4f}'


def _cell(w: WorkloadTransfer, study: str) -> str:
  if study not in w.best_by_study:
    return 'no logs'
  return (f'{_fmt(w.best_by_study[study])} '
          + ('reached' if w.reached_by_study[study] else 'missed'))


def markdown(transfer: Transfer) -> list[str]:
  """The README section."""
  need = math.ceil(BASE_SHARE * len(transfer.workloads))
  studies_needed = math.ceil(STUDY_SHARE * len(transfer.studies))
  verdict = 'passes' if transfer.passes else 'fails'
  lines = [
    '## Transfer check', '',
    (f'`{ALGORITHM}` is AlgoPerf\'s published self-tuning NAdamW point, '
     'unedited. The suite should let it reach at least '
     f'{need} of {len(transfer.workloads)} base targets in at least '
     f'{studies_needed} of {len(transfer.studies)} studies, as it reaches '
     f'most targets of the full benchmark. Here it **{verdict}**: '
     + ', '.join(f'{transfer.reached_in(s)} of {len(transfer.workloads)} '
                 f'in {s}' for s in transfer.studies) + '.'),
    '',
    '| workload | target | SE at target | '
    + ' | '.join(f'best in {s}' for s in transfer.studies)
    + ' | tuned winner\'s seeds (best smoothed) |',
    '|---|---:|---:|' + '---:|' * len(transfer.studies) + '---|',
  ]
  for w in transfer.workloads:
    cells = [_cell(w, s) for s in transfer.studies]
    seeds = ', '.join(_fmt(v) for v in w.seed_bests) or 'no summary'
    lines.append(f'| {w.workload} | {w.metric} {w.target} '
                 f'({w.direction}) | {w.standard_error} | '
                 + ' | '.join(cells) + f' | {seeds} |')
  lines += ['', ('Best: the best single validation eval of the study\'s '
                 'trial (a scored run reaches the target at its first '
                 'eval at or past it). Seeds: the runs the target is the '
                 f'median of ({_targets_page(transfer.version)}).')]
  if transfer.ablation_page:
    lines += ['', ('Why it misses: the same point with dropout and the '
                   'learning rate moved to the suite\'s self-tuning point, '
                   f'one at a time and together ({transfer.ablation_page}).')]
  return lines
