"""`run`: self-tuning studies of each algorithm, one trial at a time.

Trials go where `algoperf study` puts them, with the logs directory
``<experiment_dir>/logs/`` as its experiment directory
(``logs/<algorithm>/study_<k>/<workload>_jax/trial_1/``; the run record and
targets snapshot beside ``logs/``, see ``run_info``), planned and run by the
same code
(``study_driver.run_trials``), so seeds and files are those of `algoperf
study --ruleset self` and finished trials are skipped on a rerun (an
interrupted one resumes from its checkpoint).
Every trial runs in this process, one after the other (the local backend):
times are compared against budgets measured on an idle machine.

Rounds: by default every algorithm's study 0, then every algorithm's study
1, ... (``order='study'``), so a run cut short leaves every algorithm with
the same number of studies. In each round an algorithm runs its base
workloads, then the held-out variant trials that ``held_out.decide`` says
are needed; after the round the run record lists every variant trial now
skipped or waiting, so a sitting stopped at a trial boundary keeps them.
"""

import dataclasses
import pathlib
from collections.abc import Callable

from algoperf import experiment_lock
from algoperf import records
from algoperf import registry
from algoperf import study as study_lib
from algoperf import study_backends
from algoperf import study_driver
from algoperf import submission as submission_lib
from algoperf.reference_leaderboard import held_out
from algoperf.reference_leaderboard import run_info
from algoperf.reference_leaderboard.run_info import LeaderboardError

# Loaded by path, as any submission (the package is installed beside ours).
ALGORITHMS_DIR = pathlib.Path(__file__).resolve().parents[2] / (
  'reference_algorithms')
ORDERS = ('study', 'algorithm')


@dataclasses.dataclass(frozen=True)
class RunOptions:
  experiment_dir: str
  algorithms: tuple[str, ...]
  workloads: tuple[str, ...]  # Base workloads; their variants are added.
  num_studies: int = 3
  order: str = 'study'
  rng_seed: int = 0
  max_steps: int | None = None  # Smoke tests only.
  synthetic_data: int | None = None  # Smoke tests only.
  data_dir: str | None = None
  progress: bool = True
  command: str = ''


@dataclasses.dataclass
class _Algorithm:
  name: str
  spec: study_lib.StudySpec
  jobs: dict  # (workload, study) -> TrialJob


@dataclasses.dataclass
class RunSummary:
  ran: list[str]  # '<algorithm> <trial label>: <status>' per trial run.
  skips: list[dict]  # held-out trials not run, with the reason.
  failed: list[str]  # trials that ended in error or diverged.


@dataclasses.dataclass
class _Run:
  """What every step of one `run` invocation needs."""

  options: RunOptions
  exp: pathlib.Path
  logs: pathlib.Path  # run_info.logs_dir(exp): the algorithms' folders.
  bases: list[str]
  info: dict  # The run record, rewritten after every trial.
  summary: RunSummary
  out: Callable[[str], None]


def check_bases(workloads) -> None:
  """Raises unless every name is a CPU-suite base workload (`--workloads`)."""
  bases = registry.suite().base_workloads
  bad = [w for w in workloads if w not in bases]
  if bad:
    pairs = ', '.join(f'{b}->{held_out.variant(b)}' for b in bases)
    raise LeaderboardError(
      f'--workloads takes CPU-suite base workloads '
      f'({", ".join(bases)}), got {", ".join(bad)}; each base '
      f'brings its held-out variant ({pairs}).')


def check_options(options: RunOptions) -> None:
  available = sorted(p.parent.name for p in
                     ALGORITHMS_DIR.glob('*/submission.py'))
  unknown = [a for a in options.algorithms if a not in available]
  if unknown:
    raise LeaderboardError(
      f'Unknown algorithm(s) {", ".join(unknown)}; reference_algorithms/ '
      f'has: {", ".join(available)}.')
  check_bases(options.workloads)
  if options.order not in ORDERS:
    raise LeaderboardError(f'--order {options.order!r}: use one of '
                           f'{", ".join(ORDERS)}.')
  if options.num_studies < 1:
    raise LeaderboardError(
      f'--studies must be >= 1, got {options.num_studies}.')


def run(options: RunOptions, out=print) -> RunSummary:
  """Runs (or resumes) every needed trial; returns what ran and was skipped.

  Raises:
    LeaderboardError: bad options, or a rerun that does not match the logs.
    AlgoperfError: a broken submission or unprepared data (before training).
  """
  check_options(options)
  exp = pathlib.Path(options.experiment_dir).absolute()
  exp.mkdir(parents=True, exist_ok=True)
  bases = [w for w in registry.suite().base_workloads
           if w in options.workloads]
  # One leaderboard run at a time: a second one would share the cores.
  logs = run_info.logs_dir(exp)
  with experiment_lock.experiment_lock(exp):
    snapshot = run_info.merge_targets(
      logs, run_info.build_targets(bases),
      list(registry.suite().base_workloads))
    records.write_json(run_info.record_path(logs, run_info.TARGETS_FILE),
                       snapshot)
    info = run_info.start_session(logs, _settings(options), options.command)
    _warn_if_busy(info['sessions'][-1]['machine'], out)
    ctx = _Run(options, exp, logs, bases, info, RunSummary([], [], []), out)
    algorithms = [_plan(ctx, name) for name in options.algorithms]
    for algorithm, study in _rounds(options, algorithms):
      _round(ctx, algorithm, study)
      # On record as soon as decided: a sitting stopped at a trial boundary
      # (SIGTERM) never reaches _finish, and its page would list none.
      if ctx.summary.ran:
        _record_not_run(ctx, algorithms)
        run_info.write(ctx.logs, ctx.info)
    _finish(ctx, algorithms)
  _report(ctx)
  return ctx.summary


def _warn_if_busy(machine: dict, out) -> None:
  load = machine.get('load_average_at_start')
  if load is not None and load > 0.5 * machine['usable_cpus']:
    out(f'warning: load average {load} on {machine["usable_cpus"]} usable '
        'cores: something else is running, and trial times will be slower '
        'than on the idle machine the budgets were measured on.')


def _settings(options: RunOptions) -> dict:
  return {'rng_seed': options.rng_seed, 'max_steps': options.max_steps,
          'synthetic_data': options.synthetic_data,
          'num_studies': options.num_studies,
          'algorithms': list(options.algorithms)}


def _plan(ctx: _Run, name: str) -> _Algorithm:
  """The algorithm's whole plan (every study, base and variant workload)."""
  options = ctx.options
  spec = study_lib.StudySpec(
    submission=str(ALGORITHMS_DIR / name),
    workloads=tuple(ctx.bases + [held_out.variant(b) for b in ctx.bases]),
    experiment_dir=str(ctx.logs), name=name, ruleset=run_info.RULESET,
    num_studies=options.num_studies, num_trials=1, rng_seed=options.rng_seed,
    data_dir=options.data_dir, max_steps=options.max_steps,
    synthetic_data=options.synthetic_data)
  submission = submission_lib.load_submission(spec.submission)
  study_driver.check_data(spec)
  jobs = {(j.workload, j.config.study): j
          for j in study_lib.plan_trials(spec, submission)}
  return _Algorithm(name, spec, jobs)


def _rounds(options, algorithms):
  studies = range(options.num_studies)
  if options.order == 'study':
    return [(a, k) for k in studies for a in algorithms]
  return [(a, k) for a in algorithms for k in studies]


def _round(ctx: _Run, algorithm: _Algorithm, study: int) -> None:
  """Base trials of ``study``, then every variant trial now known needed."""
  _run_jobs(ctx, algorithm, [algorithm.jobs[(b, study)] for b in ctx.bases])
  needed = [algorithm.jobs[(held_out.variant(b), k)]
            for k in range(study + 1) for b in ctx.bases
            if _decision(ctx, algorithm, b, k).action == held_out.RUN]
  _run_jobs(ctx, algorithm, needed)


def _decision(ctx: _Run, algorithm: _Algorithm, base: str,
              study: int) -> held_out.Decision:
  if study_lib.is_finished(algorithm.jobs[(held_out.variant(base), study)]):
    return held_out.Decision(held_out.DONE, 'finished earlier')
  facts = registry.facts(base)
  reached = {}
  for k in range(ctx.options.num_studies):
    job = algorithm.jobs[(base, k)]
    if study_lib.is_finished(job):
      reached[k] = held_out.trial_reached(job.trial_dir, facts)
  return held_out.decide(reached, study, ctx.options.num_studies)


def _run_jobs(ctx: _Run, algorithm: _Algorithm, jobs: list) -> None:
  """Runs the unfinished ``jobs`` here, one at a time (budgets are times)."""
  if not jobs:
    return

  def on_done(job, result):
    line = (f'{algorithm.name} {job.label}: {result["status"]} at step '
            f'{result.get("global_step", 0)}')
    ctx.summary.ran.append(line)
    if result['status'] in (records.ERROR, records.DIVERGED):
      ctx.summary.failed.append(f'{line} ({result["message"]})')
    ctx.info['sessions'][-1]['last_update'] = run_info.now()
    run_info.write(ctx.logs, ctx.info)
    if not ctx.options.progress:
      ctx.out(line)

  live = ctx.logs / algorithm.name if ctx.options.progress else None
  study_driver.run_trials(
    [study_driver.Plan(algorithm.spec, tuple(jobs))],
    study_driver.Dispatch(study_backends.LOCAL, live=live), on_done)


def _not_run(ctx: _Run, algorithms: list[_Algorithm]) -> list[dict]:
  """Every variant trial now to be skipped or still waiting, and why."""
  not_run = []
  for algorithm in algorithms:
    for study in range(ctx.options.num_studies):
      for base in ctx.bases:
        decision = _decision(ctx, algorithm, base, study)
        if decision.action in (held_out.SKIP, held_out.WAIT):
          not_run.append({
            'algorithm': algorithm.name, 'study': study,
            'workload': held_out.variant(base), 'base': base,
            'action': decision.action, 'reason': decision.reason})
  return not_run


def _record_not_run(ctx: _Run, algorithms: list[_Algorithm]) -> list[dict]:
  """Puts the current decisions into the run record (not yet written)."""
  not_run = _not_run(ctx, algorithms)
  # Records of workloads and algorithms this invocation does not decide.
  kept = [s for s in ctx.info['held_out_skips']
          if s['algorithm'] not in ctx.options.algorithms
          or s['base'] not in ctx.bases]
  ctx.info['held_out_skips'] = kept + not_run
  return not_run


def _finish(ctx: _Run, algorithms: list[_Algorithm]) -> None:
  """Records every variant trial not run, and why; closes the session."""
  ctx.summary.skips.extend(_record_not_run(ctx, algorithms))
  info = ctx.info
  info['sessions'][-1]['last_update'] = run_info.now()
  if not ctx.summary.ran:  # A rerun with nothing left to do: no session.
    info['sessions'].pop()
  run_info.write(ctx.logs, info)


def _report(ctx: _Run) -> None:
  summary = ctx.summary
  for skip in summary.skips:
    ctx.out(f'held-out {skip["algorithm"]} study {skip["study"]} '
            f'{skip["workload"]}: {skip["action"]}, {skip["reason"]}')
  for line in summary.failed:
    ctx.out(f'warning: {line}')
  ctx.out(f'{len(summary.ran)} trial(s) run ({len(summary.failed)} failed), '
          f'{len(summary.skips)} held-out trial(s) not run; logs in '
          f'{ctx.logs}')
