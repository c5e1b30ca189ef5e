"""Why AlgoPerf's self-tuning point misses CPU-suite targets: an ablation.

The transfer check (scoring/reference_leaderboard/transfer.py) runs
AlgoPerf's published self-tuning NAdamW point, unedited, against the
frozen cpu-1.0 targets. Where it misses, this trains the same point with
one or two hyperparameters moved to the values the suite's own
self-tuning point (``reference_algorithms/nadamw``'s
``SELF_TUNING_DEFAULTS``, chosen by the target-setting protocol) has, to
show which of them the miss comes from.
It changes no target: it is evidence for the closing note, not tuning.

Each run trains to the workload's step_hint (where AlgoPerf's schedule
reaches learning rate 0; later steps change nothing) with no time limit
and a fixed eval schedule, so its result depends on the steps, not on how
busy the machine is. Runs are study trials in AlgoPerf's layout under
``runs_dir`` (resumable: rerun to continue); the committed summary holds
each run's validation curve.
"""

import dataclasses
import json
import math
import pathlib

from algoperf import records
from algoperf import registry
from algoperf import study
from algoperf import study_backends
from algoperf import study_driver
from algoperf import submission as submission_lib
from algoperf.reference_leaderboard.run_info import LeaderboardError
from algoperf.target_setting import protocol
from algoperf.target_setting import runs as target_runs

# Loaded by path, as any submission is (algorithms depend on algoperf, not
# the other way round).
REPO = pathlib.Path(__file__).resolve().parents[2]
ALGORITHMS_DIR = REPO / 'reference_algorithms'
NADAMW_DIR = ALGORITHMS_DIR / 'nadamw'
TRANSFER_DIR = ALGORITHMS_DIR / 'algoperf_self_tuning_nadamw'
# Arm name -> the hyperparameters moved to the suite's self-tuning point.
ARMS = {
  'dropout_0': ('dropout_rate',),
  'suite_lr': ('learning_rate',),
  'dropout_0_suite_lr': ('dropout_rate', 'learning_rate'),
}
EVAL_SPLITS = ('train', 'validation')  # The targets are validation ones.
RNG_SEED = 0


def algoperf_point() -> dict:
  """The transfer reference's point as its submission trains it (schedule
  over the whole step_hint, cosine, no clipping): its ``DEFAULTS``, which
  nadamw's code trains identically when given them as hyperparameters."""
  return dict(submission_lib.import_module(TRANSFER_DIR).DEFAULTS)


def point(arm: str) -> dict:
  """AlgoPerf's point with ``arm``'s hyperparameters at the suite's."""
  suite = submission_lib.import_module(NADAMW_DIR).SELF_TUNING_DEFAULTS
  return {**algoperf_point(), **{k: suite[k] for k in ARMS[arm]}}


def plan(workload_name: str, arm: str, runs_dir) -> study_driver.Plan:
  """One run of ``arm`` on ``workload_name``, to its step_hint, untimed."""
  runs_dir = pathlib.Path(runs_dir)
  space = runs_dir / 'points' / f'{arm}.json'
  records.write_json(space, [point(arm)])
  steps = registry.facts(workload_name).step_hint
  spec = study.StudySpec(
    submission=str(NADAMW_DIR), workloads=(workload_name,),
    experiment_dir=str(runs_dir), name=f'ablation_{arm}',
    rng_seed=RNG_SEED, search_space=str(space), max_steps=steps,
    eval_every_steps=max(steps // protocol.EVALS_PER_RUN, 1),
    checkpoint_every_sec=None)
  submission = submission_lib.load_submission(NADAMW_DIR)
  return study_driver.Plan(spec, tuple(
    dataclasses.replace(job, config=dataclasses.replace(
      job.config, budget_multiplier=target_runs.NO_TIME_LIMIT,
      stop_at_target=False,
      eval_splits=EVAL_SPLITS))
    for job in study.plan_trials(spec, submission)))


def run(workloads, arms, runs_dir, workers: int = 1, on_done=None) -> list:
  """Trains every unfinished (workload, arm) run, ``workers`` at a time
  (untimed runs: sharing the cores changes their seconds, not their
  metrics)."""
  plans = [plan(w, a, runs_dir) for a in arms for w in workloads]
  dispatch = (study_driver.Dispatch(study_backends.LOCAL) if workers <= 1
              else study_driver.Dispatch(study_backends.POOL,
                                         max_workers=workers))
  study_driver.run_trials(plans, dispatch, on_done)
  return plans


def summarize(plans) -> list:
  """One row per finished run: best validation metric against the target."""
  rows = []
  for p in plans:
    for job in p.jobs:
      if not study.is_finished(job):
        continue
      facts = registry.facts(job.workload)
      direction = facts.metric_direction
      evals = _validation_curve(job.trial_dir, facts.target_metric_name)
      values = [v for _, v in evals if not math.isnan(v)]
      best = (max if direction == 'max' else min)(values, default=math.nan)
      target = facts.validation_target_value
      reached = [s for s, v in evals if facts.meets(v, target)]
      rows.append({
        'workload': job.workload, 'arm': p.spec.name.split('_', 1)[1],
        'metric': facts.target_metric_name, 'direction': direction,
        'target': target, 'best_validation': best,
        'first_step_reaching': reached[0] if reached else None,
        'evals': evals})
  return rows


def _validation_curve(trial_dir: pathlib.Path, metric: str) -> list:
  """[step, validation metric] per eval (NaN: empty or not a number)."""
  path = trial_dir / records.EVAL_MEASUREMENTS
  rows = records.read_rows_csv(path) if path.exists() else []
  column = f'validation/{metric}'
  return [[int(row['global_step']),
           float(row[column]) if isinstance(row.get(column), (int, float))
           else math.nan] for row in rows]


def write_summary(rows: list, path) -> None:
  payload = {'algoperf_point': algoperf_point(),
             'points': {arm: point(arm) for arm in ARMS},
             'rng_seed': RNG_SEED, 'runs': rows}
  records.write_atomic(pathlib.Path(path),
                       json.dumps(payload, indent=1, sort_keys=True) + '\n')


def markdown(rows: list, command: str) -> str:
  """The summary as a table: per workload, each arm's best against target."""
  arms = [a for a in ARMS if any(r['arm'] == a for r in rows)]
  by_key = {(r['workload'], r['arm']): r for r in rows}
  workloads = list(dict.fromkeys(r['workload'] for r in rows))
  lines = [
    '# Transfer ablation: AlgoPerf\'s self-tuning point, hyperparameters '
    'moved',
    '',
    f'Generated by `{command}` from `transfer_ablation.json` beside this '
    'file. Each run trains AlgoPerf\'s published self-tuning NAdamW point '
    f'(`{_point_text(algoperf_point())}`) with the named hyperparameters '
    'set to the suite\'s self-tuning point (`reference_algorithms/nadamw` '
    '`SELF_TUNING_DEFAULTS`), to the workload\'s step_hint (where its '
    'schedule reaches learning rate 0), untimed, one seed '
    f'(rng_seed {RNG_SEED}). A cell is the best validation eval; '
    '**bold** reaches the target (at the step shown). No target was '
    'changed by these runs.',
    '',
    '| workload | metric | target | '
    + ' | '.join(f'{a} ({", ".join(ARMS[a])})' for a in arms) + ' |',
    '|---|---|---|' + '---|' * len(arms),
  ]
  for w in workloads:
    first = next(r for r in rows if r['workload'] == w)
    cells = [_cell(by_key.get((w, a))) for a in arms]
    lines.append(f'| `{w}` | {first["metric"]} | {first["target"]:.4g} | '
                 + ' | '.join(cells) + ' |')
  counts = [sum(by_key[(w, a)]['first_step_reaching'] is not None
                for w in workloads if (w, a) in by_key) for a in arms]
  lines.append('| reached | | | ' + ' | '.join(
    f'{c} of {sum((w, a) in by_key for w in workloads)}'
    for c, a in zip(counts, arms)) + ' |')
  return '\n'.join(lines) + '\n'


def _cell(row: dict | None) -> str:
  if row is None:
    return 'not run'
  value = f'{row["best_validation"]:.4f}'
  step = row['first_step_reaching']
  return f'**{value}** (step {step})' if step is not None else value


def _point_text(hp: dict) -> str:
  return ', '.join(f'{k}={v:.4g}' if isinstance(v, float) else f'{k}={v}'
                   for k, v in hp.items())


def ablate(workloads, arms, runs_dir, command: str, workers: int = 1,
           out_dir=None, out=print) -> pathlib.Path:
  """Checks the request, trains what is unfinished, writes the summary.

  Writes ``transfer_ablation.{json,md}`` into ``out_dir`` (default: beside
  the current protocol version's summaries); returns the .md path.

  Raises:
    LeaderboardError: an unknown arm, or a workload outside the CPU suite.
  """
  unknown = [a for a in arms if a not in ARMS]
  if unknown:
    raise LeaderboardError(f'--arms: unknown {", ".join(unknown)}; use '
                           f'{", ".join(ARMS)}.')
  cpu = registry.names(registry.suite().name)
  bad = [w for w in workloads if w not in cpu]
  if bad:
    raise LeaderboardError(f'--workloads: {", ".join(bad)} not in the CPU '
                           f'suite; `algoperf workloads` lists it.')
  plans = run(workloads, arms, runs_dir, workers=workers,
              on_done=lambda job, result: out(
                f'{job.label}: {result["status"]} at step '
                f'{result.get("global_step", 0)}'))
  rows = summarize(plans)
  page = REPO / protocol.VERSIONS[protocol.CURRENT].transfer_ablation
  if out_dir is not None:
    page = pathlib.Path(out_dir) / page.name
  write_summary(rows, page.with_suffix('.json'))
  records.write_atomic(page, markdown(rows, command))
  return page
