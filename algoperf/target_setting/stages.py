"""The protocol's stages: which runs each needs, running them, summaries.

A stage is a kind of run (``tune``: Halton points; ``seeds``: the tuning
winner rerun with new seeds) over a group of workloads (``base`` or
``variants``). Every stage is resumable: a rerun skips finished runs, and
runs that another machine did (already in the committed summary), and
re-summarises.
"""

import dataclasses
import pathlib
import time
from typing import Optional

from algoperf import registry
from algoperf.target_setting import protocol
from algoperf.target_setting import runs
from algoperf.target_setting import table
from algoperf.target_setting.runs import TargetSettingError

KINDS = ('tune', 'seeds')
GROUPS = ('base', 'variants')


@dataclasses.dataclass(frozen=True)
class StageOptions:
  repo: pathlib.Path  # Summaries go to its docs/targets/runs/.
  runs_dir: str
  data_dir: Optional[str] = None
  workloads: tuple = ()  # A subset of the stage's workloads; () = all.
  workers: int = 1
  summarize_only: bool = False  # Run nothing; re-summarise finished runs.

  @property
  def summaries(self) -> pathlib.Path:
    return self.repo / table.SUMMARIES


def _workloads(group: str, only: tuple) -> list:
  suite = registry.suite()
  names = (list(suite.base_workloads) if group == 'base' else
           [n for n in suite.workloads if suite.workloads[n].base_name])
  unknown = set(only) - set(names)
  if unknown:
    raise TargetSettingError(f'--workloads: {sorted(unknown)} are not '
                             f'{group} workloads; choose from {names}.')
  return [registry.make_workload(n) for n in names if not only or n in only]


def _tuned_algorithms(group: str, workload, summaries) -> list[str]:
  """Base: every tuned algorithm. Variant: its base's winner."""
  if group == 'base':
    return list(protocol.TUNED_ALGORITHMS)
  summary = table.read_summary(summaries, 'tune', workload.base_name)
  if summary is None:
    raise TargetSettingError(
      f'{workload.name}: tune the base workload {workload.base_name} first '
      f'(no summary in {summaries / "tune"}).')
  return [table.winning_run(summary).algorithm]


def _plans(kind: str, group: str, options: StageOptions) -> list:
  """[(workload, {algorithm: Plan})] of one stage."""
  found = []
  for workload in _workloads(group, options.workloads):
    if kind == 'tune':
      points = (protocol.BASE_POINTS if group == 'base'
                else protocol.VARIANT_POINTS)
      plans = {a: runs.tuning_plan(workload, a, points, options.runs_dir,
                                   options.data_dir)
               for a in _tuned_algorithms(group, workload, options.summaries)}
    else:
      summary = table.read_summary(options.summaries, 'tune', workload.name)
      if summary is None:
        raise TargetSettingError(f'{workload.name}: run `tune --stage '
                                 f'{group}` first.')
      best = table.winning_run(summary)
      plans = {best.algorithm: runs.rerun_plan(
        workload, best.algorithm, best.hyperparameters, protocol.SEEDS,
        options.runs_dir, options.data_dir)}
    found.append((workload, plans))
  return found


def _summarize(stage: list, kind: str, options: StageOptions) -> None:
  for workload, plans in stage:
    path = options.summaries / kind / f'{workload.name}.json'
    if runs.write_summary(path, kind, workload, plans, options.workers):
      print(f'wrote {path.relative_to(options.repo)}')


def _not_summarized(plan, algorithm: str, done: set):
  """``plan`` without the runs another machine did (in the summary)."""
  return dataclasses.replace(plan, jobs=tuple(
    j for j in plan.jobs
    if (algorithm, j.config.study, j.config.trial) not in done))


def run_stage(kind: str, group: str, options: StageOptions,
              deadline: Optional[float] = None) -> int:
  """Runs one stage's unfinished runs; returns how many the deadline left."""
  stage = _plans(kind, group, options)
  if options.summarize_only:
    _summarize(stage, kind, options)
    return 0
  todo = []
  for workload, plans in stage:
    done = runs.summarized_keys(
      options.summaries / kind / f'{workload.name}.json')
    todo += [_not_summarized(plan, algorithm, done)
             for algorithm, plan in plans.items()]
  print(f'{kind} {group}: {sum(len(p.jobs) for p in todo)} runs over '
        f'{len(stage)} workloads, {options.workers} at a time', flush=True)

  def on_done(job, summary):
    print(f'  {job.label} [{job.config.experiment_name}]: '
          f'{summary["status"]} at step {summary["global_step"]} '
          f'{summary["message"][:100]}', flush=True)

  left = runs.execute(todo, options.workers, on_done, deadline)
  _summarize(stage, kind, options)
  if left:
    print(f'{left} runs not started before the deadline; rerun to finish.')
  return left


def run_stages(stages: list, options: StageOptions,
               deadline_s: Optional[float] = None) -> int:
  """``run_stage`` for each (kind, group) of ``KINDS`` x ``GROUPS``.

  All under one deadline: no run starts ``deadline_s`` seconds after the
  call (None: no deadline). Returns how many runs it left.
  """
  deadline = time.monotonic() + deadline_s if deadline_s else None
  return sum(run_stage(kind, group, options, deadline)
             for kind, group in stages)
