"""The CPU suite's target-setting protocol (algoperf/target_setting/).

Stages (each resumable: a rerun skips finished runs and re-summarises):

  # 1. Tune NAdamW and Nesterov on the base workloads (8 Halton points each).
  .venv/bin/python scripts/set_targets.py tune --stage base --workers 2
  # 2. Rerun each base winner with 3 seeds, one run at a time: these runs'
  #    times set the budgets, so nothing else may compete for the cores.
  .venv/bin/python scripts/set_targets.py seeds --stage base --workers 1
  # 3. Variants: the base's winning algorithm, 4 points, then 3 seeds.
  .venv/bin/python scripts/set_targets.py tune --stage variants --workers 2
  .venv/bin/python scripts/set_targets.py seeds --stage variants --workers 2
  # 4. The table, from the committed summaries alone.
  .venv/bin/python scripts/set_targets.py table           # docs/targets.md
  .venv/bin/python scripts/set_targets.py table --apply   # + workload code
  .venv/bin/python scripts/set_targets.py table --check   # code == table?

Runs go to --runs-dir (default experiments/target_setting, not committed);
their summaries to docs/targets/runs/<tune|seeds>/<workload>.json
(committed). ``pipeline`` chains stages under one deadline (for a lent
many-core machine: tuning runs' metrics depend on steps, not speed).
"""

import argparse
import os
import pathlib
import sys
import time

from algoperf.target_setting import protocol
from algoperf.target_setting import table as table_lib

REPO = pathlib.Path(__file__).resolve().parents[1]

SUMMARIES = REPO / 'docs' / 'targets' / 'runs'
DEFAULT_RUNS = REPO / 'experiments' / 'target_setting'


def _workloads(stage: str, only: list[str]) -> list:
  from algoperf import registry

  suite = registry.suite()
  names = (list(suite.base_workloads) if stage == 'base' else
           [n for n in suite.workloads if suite.workloads[n].base_name])
  unknown = set(only) - set(names)
  if unknown:
    raise SystemExit(f'--workloads: {sorted(unknown)} are not {stage} '
                     f'workloads; choose from {names}.')
  return [registry.make_workload(n) for n in names if not only or n in only]


def _tuned_algorithms(stage: str, workload) -> list[str]:
  """Base: every tuned algorithm. Variant: its base's winner."""
  if stage == 'base':
    return list(protocol.TUNED_ALGORITHMS)
  summary = table_lib.read_summary(SUMMARIES, 'tune', workload.base_name)
  if summary is None:
    raise SystemExit(f'{workload.name}: tune the base workload '
                     f'{workload.base_name} first (no summary in '
                     f'{SUMMARIES / "tune"}).')
  return [table_lib.winning_run(summary).algorithm]


def _plan(kind: str, stage: str, args) -> list:
  """[(workload, {algorithm: jobs})] of one kind of run for one stage."""
  from algoperf.target_setting import runs

  plan = []
  for workload in _workloads(stage, args.workloads):
    if kind == 'tune':
      points = (protocol.BASE_POINTS if stage == 'base'
                else protocol.VARIANT_POINTS)
      jobs = {a: runs.tuning_jobs(workload, a, points, args.runs_dir,
                                  args.data_dir)
              for a in _tuned_algorithms(stage, workload)}
    else:
      summary = table_lib.read_summary(SUMMARIES, 'tune', workload.name)
      if summary is None:
        raise SystemExit(f'{workload.name}: run `tune --stage {stage}` '
                         'first.')
      best = table_lib.winning_run(summary)
      jobs = {best.algorithm: runs.rerun_jobs(
        workload, best.algorithm, best.hyperparameters, protocol.SEEDS,
        args.runs_dir, args.data_dir)}
    plan.append((workload, jobs))
  return plan


def summarize(plan, kind: str, workers: int) -> None:
  from algoperf.target_setting import runs

  for workload, jobs in plan:
    path = SUMMARIES / kind / f'{workload.name}.json'
    if runs.write_summary(path, kind, workload, jobs, workers):
      print(f'wrote {path.relative_to(REPO)}')


def run_stage(kind: str, stage: str, args, deadline=None) -> int:
  from algoperf.target_setting import runs

  plan = _plan(kind, stage, args)
  if args.summarize_only:
    summarize(plan, kind, args.workers)
    return 0
  all_jobs = []
  for workload, jobs in plan:
    # Runs another machine already did (their summary is committed).
    done = runs.summarized_keys(SUMMARIES / kind / f'{workload.name}.json')
    all_jobs += [j for a, js in jobs.items() for j in js
                 if (a, j.config.study, j.config.trial) not in done]
  print(f'{kind} {stage}: {len(all_jobs)} runs over {len(plan)} workloads, '
        f'{args.workers} at a time', flush=True)

  def on_done(job, summary):
    print(f'  {job.label} [{job.config.experiment_name}]: '
          f'{summary["status"]} at step {summary["global_step"]} '
          f'{summary["message"][:100]}', flush=True)

  left = runs.execute(all_jobs, args.workers, on_done, deadline)
  summarize(plan, kind, args.workers)
  if left:
    print(f'{left} runs not started before the deadline; rerun to finish.')
  return left


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                   formatter_class=argparse.RawTextHelpFormatter,
                                   epilog='\n'.join(__doc__.splitlines()[1:]))
  sub = parser.add_subparsers(dest='command', required=True)
  for name in ('tune', 'seeds', 'pipeline'):
    p = sub.add_parser(name)
    if name == 'pipeline':
      p.add_argument('--stages', required=True,
                     help='comma-separated KIND:STAGE, e.g. '
                     'tune:base,tune:variants,seeds:variants')
      p.add_argument('--deadline-s', type=float, default=None,
                     help='start no run after this many seconds')
    else:
      p.add_argument('--stage', choices=('base', 'variants'), required=True)
    p.add_argument('--workloads', default='',
                   help='comma-separated subset (default: all of the stage)')
    p.add_argument('--workers', type=int, default=1)
    p.add_argument('--runs-dir', default=str(DEFAULT_RUNS))
    p.add_argument('--data-dir', default=None)
    p.add_argument('--summarize-only', action='store_true',
                   help='run nothing; re-summarise the finished runs')
  p = sub.add_parser('table')
  p.add_argument('--apply', action='store_true',
                 help='also write the targets into the workload code')
  p.add_argument('--check', action='store_true',
                 help='exit 1 if docs/targets.md or the code differ')
  args = parser.parse_args(argv)

  if args.command == 'table':
    return table_lib.main(SUMMARIES, REPO, apply_to_code=args.apply,
                          check=args.check)
  args.workloads = [w for w in args.workloads.split(',') if w]
  if args.command == 'pipeline':
    deadline = (time.monotonic() + args.deadline_s if args.deadline_s
                else None)
    for item in args.stages.split(','):
      kind, stage = item.split(':')
      run_stage(kind, stage, args, deadline)
    return 0
  run_stage(args.command, args.stage, args)
  return 0


if __name__ == '__main__':
  os.environ.setdefault('PYTHONUNBUFFERED', '1')
  sys.exit(main())
