"""The protocol's stages: a kind of run (``KINDS``) over a group (``GROUPS``).

Resumable: a rerun skips finished runs and runs another machine did (in
the committed summary), then re-summarises.
"""

import dataclasses
import pathlib
import time

from algoperf import registry
from algoperf.target_setting import protocol
from algoperf.target_setting import runs
from algoperf.target_setting import table
from algoperf.target_setting.runs import TargetSettingError

KINDS = ('tune', 'seeds')  # Halton points; the tuning winner's new seeds.
GROUPS = ('base', 'variants')


@dataclasses.dataclass(frozen=True)
class StageOptions:
  repo: pathlib.Path  # Summaries go to its docs/targets/runs/.
  runs_dir: str
  data_dir: str | None = None
  workloads: tuple = ()  # A subset of the group's workloads; () = all.
  workers: int = 1
  summarize_only: bool = False  # Run nothing; re-summarise finished runs.
  version: str = protocol.CURRENT  # The protocol version (its seeds, files).

  @property
  def protocol(self) -> protocol.Version:
    return protocol.version(self.version)

  @property
  def summaries(self) -> pathlib.Path:
    return self.repo / self.protocol.summaries

  def summary(self, kind: str, workload: str) -> pathlib.Path:
    return self.summaries / kind / f'{workload}.json'


def _workloads(group: str, only: tuple, version: protocol.Version) -> list:
  suite = registry.suite()
  bases = version.bases(suite)
  names = (list(bases) if group == 'base' else
           [n for n, facts in suite.workloads.items()
            if facts.base_name in bases])
  if set(only) - set(names):
    raise TargetSettingError(f'--workloads: {sorted(set(only) - set(names))} '
                             f'are not {group} workloads; choose from {names}.')
  return [registry.make_workload(n) for n in names if not only or n in only]


def _tuning_runs(group: str) -> int:
  """How many runs a finished tuning of a base or a variant has."""
  if group == 'base':
    return protocol.BASE_POINTS * len(protocol.TUNED_ALGORITHMS)
  return protocol.VARIANT_POINTS


def _winner(workload: str, options: StageOptions, first: str,
            group: str = 'base'):
  """The best tuning run of ``workload``; ``first`` says what to run if
  none. A tuning summarised before all its runs ended (``--summarize-only``
  part way, to carry finished runs to another machine) has no winner yet.
  """
  path = options.summary('tune', workload)
  summary = table.read_summary(options.summaries, 'tune', workload)
  if summary is None:
    raise TargetSettingError(f'{first} (no {path}).')
  expected = _tuning_runs(group)
  if len(summary['runs']) < expected:
    raise TargetSettingError(
      f'{path} holds {len(summary["runs"])} of the tuning\'s {expected} '
      f'runs: finish it first (`pipeline --stages tune:{group} --workloads '
      f'{workload}`), then this stage.')
  return table.winning_run(summary)


def _tuning_plans(workload, group: str, options: StageOptions) -> dict:
  """Base: every tuned algorithm. Variant: its base's winner, re-tuned."""
  if group == 'base':
    algorithms, points = protocol.TUNED_ALGORITHMS, protocol.BASE_POINTS
  else:
    algorithms = [_winner(workload.base_name, options, 'tune the base '
                          f'workload {workload.base_name} first').algorithm]
    points = protocol.VARIANT_POINTS
  return {a: runs.tuning_plan(workload, a, points, options.runs_dir,
                              options.data_dir) for a in algorithms}


def _seed_plans(workload, group: str, options: StageOptions) -> dict:
  best = _winner(workload.name, options, f'run `tune --stage {group}` first',
                 group)
  return {best.algorithm: runs.rerun_plan(
    workload, best.algorithm, best.hyperparameters, options.protocol.seeds,
    options.runs_dir, options.data_dir, options.protocol.rerun_seed)}


def _plans(kind: str, group: str, options: StageOptions) -> list:
  """[(workload, {algorithm: Plan})] of one stage."""
  make = _tuning_plans if kind == 'tune' else _seed_plans
  return [(w, make(w, group, options))
          for w in _workloads(group, options.workloads, options.protocol)]


def _summarize(stage: list, kind: str, options: StageOptions) -> None:
  for workload, plans in stage:
    path = options.summary(kind, workload.name)
    if runs.write_summary(path, kind, workload, plans, options.workers):
      print(f'wrote {path.relative_to(options.repo)}')


def run_stage(kind: str, group: str, options: StageOptions,
              deadline: float | None = None) -> int:
  """Runs one stage's unfinished runs; returns how many the deadline left."""
  stage = _plans(kind, group, options)
  todo = []
  for workload, plans in stage:
    done = runs.summarized_keys(options.summary(kind, workload.name))
    todo += [dataclasses.replace(plan, jobs=tuple(
      j for j in plan.jobs if (a, j.config.study, j.config.trial) not in done))
             for a, plan in plans.items()]
  left = 0
  if not options.summarize_only:
    print(f'{kind} {group}: {sum(len(p.jobs) for p in todo)} runs over '
          f'{len(stage)} workloads, {options.workers} at a time', flush=True)
    left = runs.execute(todo, options.workers, _print_done, deadline)
  _summarize(stage, kind, options)
  if left:
    print(f'{left} runs not started before the deadline; rerun to finish.')
  return left


def _print_done(job, summary: dict) -> None:
  print(f'  {job.label} [{job.config.experiment_name}]: {summary["status"]} '
        f'at step {summary["global_step"]} {summary["message"][:100]}',
        flush=True)


def run_stages(stages: list, options: StageOptions,
               deadline_s: float | None = None) -> int:
  """``run_stage`` for each (kind, group) of ``KINDS`` x ``GROUPS``.

  All under one deadline: no run starts ``deadline_s`` seconds after the
  call (None: no deadline). Returns how many runs it left.
  """
  for kind, group in stages:
    if kind not in KINDS or group not in GROUPS:
      raise TargetSettingError(
        f'stage {kind}:{group}: expected KIND:STAGE, KIND one of '
        f'{"/".join(KINDS)} and STAGE one of {"/".join(GROUPS)}.')
  problems = protocol.check_frozen(options.protocol, runs.SPACES_DIR)
  if not options.summarize_only:
    problems += runs.undeclared_versions()
  if problems:
    raise TargetSettingError(' '.join(problems))
  deadline = time.monotonic() + deadline_s if deadline_s else None
  return sum(run_stage(kind, group, options, deadline)
             for kind, group in stages)
