"""Planning, running and summarising the target-setting runs.

The runs are study trials, run by ``study_driver.run_trials``, so they are
resumable and leave AlgoPerf-layout logs under ``--runs-dir``; what
gets committed is a compact JSON summary per (stage, workload) that the
table is computed from.

Every run evaluates on a fixed step schedule (``EVALS_PER_RUN`` evals over
the horizon) rather than AlgoPerf's time schedule, so that the metric
curves, and hence the targets, do not depend on how fast the machine is;
each eval still records the submission time it happened at, which is what
the budgets are computed from.
"""

import dataclasses
import json
import math
import pathlib
from collections.abc import Callable
from collections.abc import Sequence

from algoperf import records
from algoperf import registry
from algoperf import study
from algoperf import study_backends
from algoperf import study_driver
from algoperf import submission as submission_lib
from algoperf.errors import AlgoperfError
from algoperf.target_setting import protocol

SPACES_DIR = pathlib.Path(__file__).resolve().parent / 'spaces'
# Loaded by path, as any submission (the package is installed beside ours).
ALGORITHM_DIRS = {name: pathlib.Path(__file__).resolve().parents[2]
                  / 'reference_algorithms' / name
                  for name in protocol.TUNED_ALGORITHMS}
TUNE_SEED = 0  # Seeds the Halton search and the tuning runs.
# Seeds the reruns (never the tuning runs' seed): cpu-0.3's, and the
# default; each protocol version names its own (protocol.Version).
RERUN_SEED = protocol.VERSIONS['cpu-0.3'].rerun_seed
NO_TIME_LIMIT = 1e6  # Budget multiplier: runs stop at their horizon only.
TUNING_EVAL_SPLITS = ('train', 'validation')


class TargetSettingError(AlgoperfError):
  """A stage asked for out of order, or runs that no longer fit the plan."""


def stage_name(stage: str, algorithm: str) -> str:
  """The experiment name of one stage's runs of one algorithm."""
  return f'{stage}_{algorithm}'


def _plan(workload, algorithm: str, name: str, space_path, num_points: int,
          num_seeds: int, rng_seed: int, runs_dir,
          data_dir, eval_splits: tuple | None = None,
          separate_test_eval: bool = False) -> study_driver.Plan:
  submission = submission_lib.load_submission(ALGORITHM_DIRS[algorithm])
  horizon = workload.facts.target_setting_horizon_steps
  spec = study.StudySpec(
    submission=str(ALGORITHM_DIRS[algorithm]), workloads=(workload.name,),
    experiment_dir=str(runs_dir), name=name, num_studies=num_seeds,
    num_trials=num_points, rng_seed=rng_seed, search_space=str(space_path),
    data_dir=data_dir, max_steps=horizon,
    eval_every_steps=max(horizon // protocol.EVALS_PER_RUN, 1),
    checkpoint_every_sec=None)
  return study_driver.Plan(spec, tuple(
    dataclasses.replace(job, config=dataclasses.replace(
      job.config, budget_multiplier=NO_TIME_LIMIT, stop_at_target=False,
      eval_splits=eval_splits, separate_test_eval=separate_test_eval,
      hyperparameters=_over_horizon(job.config.hyperparameters, horizon,
                                    workload.step_hint)))
    for job in study.plan_trials(spec, submission)))


def _over_horizon(point: dict, horizon: int, step_hint: int) -> dict:
  """The point with its schedule spanning ``horizon`` steps.

  Once the protocol has set step_hint = 4/3 x horizon, the runs need
  step_hint_factor = 0.75 (AlgoPerf's target-setting schedules); while the
  step hint still equals the horizon, the point is left as it is.
  """
  if horizon == step_hint:
    return point
  return dict(point, step_hint_factor=horizon / step_hint)


def tuning_plan(workload, algorithm: str, num_points: int, runs_dir,
                data_dir=None) -> study_driver.Plan:
  """``num_points`` Halton points of ``algorithm``'s protocol search space.

  Their evals read no test split: steps 2 and 7 judge a tuning run by its
  validation metric alone (the test target comes from the seed reruns).
  """
  return _plan(workload, algorithm, stage_name('tune', algorithm),
               SPACES_DIR / f'{algorithm}.json', num_points, 1, TUNE_SEED,
               runs_dir, data_dir, eval_splits=TUNING_EVAL_SPLITS)


def rerun_plan(workload, algorithm: str, hyperparameters: dict,
               num_seeds: int, runs_dir, data_dir=None,
               rerun_seed: int = RERUN_SEED) -> study_driver.Plan:
  """The winning point, once per seed (one study per seed).

  Their test passes are timed apart (``separate_test_eval``): a scored run
  reads test only from its validation target on, so the protocol's eval
  share counts their train and validation passes at every eval.
  """
  space = pathlib.Path(runs_dir) / 'winners' / f'{workload.name}.json'
  records.write_json(space, [hyperparameters])
  return _plan(workload, algorithm, stage_name('seeds', algorithm), space, 1,
               num_seeds, rerun_seed, runs_dir, data_dir,
               separate_test_eval=True)


def _check_same_point(job) -> None:
  """A finished run counts only if it trained the point ``job`` asks for.

  The seed runs' directories do not name the winner: if a re-tuning picks
  another winner, the old winner's seed runs would otherwise be reused.
  (``study.record_plan`` refuses the same for runs planned since plans were
  recorded; this also covers runs that have no study plan.)
  """
  path = job.trial_dir / records.HPARAMS
  ran = records.read_json(path) if path.exists() else None
  if ran != job.config.hyperparameters:
    experiment = job.trial_dir.parents[2]
    raise TargetSettingError(
      f'{path}: this finished run trained {ran}, but the plan now asks for '
      f'{job.config.hyperparameters} (the winner or the search space '
      f'changed). {_START_AFRESH.format(experiment)}')


# The fix for runs planned with another winner or search space.
_START_AFRESH = ('Move {} aside (summarise its finished runs first: '
                 '--summarize-only) and rerun the stage.')


def execute(plans: Sequence[study_driver.Plan], workers: int,
            on_done: Callable[[object, dict], None],
            deadline: float | None = None) -> int:
  """Runs the unfinished trials of ``plans``, longest first.

  ``workers`` = 1 runs them in this process, one after the other (for
  timing runs: nothing else competes for the cores); more run in a process
  pool. Trials not started by ``deadline`` (a ``time.monotonic()`` value)
  are left for a rerun. Returns how many were left.
  """
  dispatch = study_driver.Dispatch(
    study_backends.LOCAL if workers <= 1 else study_backends.POOL,
    max_workers=workers, deadline=deadline,
    order=lambda job: -_estimated_seconds(job.workload))
  try:
    return study_driver.run_trials(plans, dispatch, on_done,
                                   check_finished=_check_same_point).left
  except study.StudyMismatchError as e:
    fix = _START_AFRESH.format('the experiment folder holding that plan')
    raise TargetSettingError(f'{e} In target setting: {fix}') from None


def _estimated_seconds(workload_name: str) -> float:
  """A run's expected length: its horizon at the budget's pace per step.

  Only orders the runs (longest first): the budget over the step hint
  estimates the seconds per step of the seed runs that set them.
  """
  facts = registry.facts(workload_name)
  return (facts.target_setting_horizon_steps * facts.max_allowed_runtime_sec
          / facts.step_hint)


# --- Summaries ---------------------------------------------------------------


def summarize_trial(trial_dir: pathlib.Path, workload, algorithm: str) -> dict:
  """One finished trial as the JSON the table is computed from."""
  metric = workload.target_metric_name
  flags = records.read_json(next(trial_dir.glob('flags_*.json')))
  status = records.read_json(trial_dir / records.STATUS)
  evals = []
  path = trial_dir / records.EVAL_MEASUREMENTS
  for row in records.read_rows_csv(path) if path.exists() else []:
    evals.append([int(row['global_step']),
                  round(float(row['accumulated_submission_time']), 3),
                  _number(row.get(f'validation/{metric}')),
                  _number(row.get(f'test/{metric}'))])
  return {
    'workload': workload.name, 'algorithm': algorithm,
    'study': int(trial_dir.parts[-3].split('_')[-1]),
    'trial': int(trial_dir.name.split('_')[-1]),
    'rng_seed': flags.get('rng_seed'),
    'hyperparameters': flags.get('hyperparameters'),
    'status': status.get('status'),
    # Columns of each eval row.
    'eval_columns': ['step', 'submission_time', 'validation', 'test'],
    'evals': evals,
    'clock': clock_seconds(status),
  }


def clock_seconds(status: dict) -> dict:
  """A trial's clock from its status.json: submission and eval seconds
  (every attempt), the test passes' part of the eval seconds (None: not
  timed apart, as before seed runs read test in a call of its own), and
  the compilation inside its submission time."""
  from algoperf import clock

  accumulators = status.get('accumulators', {})
  compiled = sum(
    (m.get('compilation') or {}).get(clock.SUBMISSION, {}).get('seconds', 0.0)
    for m in status.get('measurements', []))
  return {'submission_seconds': accumulators.get(clock.SUBMISSION),
          'eval_seconds': accumulators.get(clock.EVAL),
          'test_eval_seconds': status.get('test_eval_seconds'),
          'compile_seconds': round(compiled, 3)}


# The packages a run's numbers depend on (the tuning, the seeds' times).
NUMERIC_PACKAGES = ('jax', 'jaxlib', 'flax', 'optax', 'numpy')


def undeclared_versions() -> list:
  """Problems: an installed version of ``NUMERIC_PACKAGES`` that the
  project's declared ranges (setup.cfg, as the installed package states
  them) exclude. Targets are set only with versions a user can install."""
  import importlib.metadata as md

  from packaging.requirements import Requirement

  from algoperf import version

  problems = []
  for text in md.requires(version.PACKAGE) or []:
    requirement = Requirement(text)
    if requirement.marker is not None or (
        requirement.name not in NUMERIC_PACKAGES):
      continue  # An extra's requirement, or not a numeric package.
    installed = md.version(requirement.name)
    if not requirement.specifier.contains(installed, prereleases=True):
      problems.append(
        f'{requirement.name} {installed} is installed, outside the declared '
        f'{requirement} (setup.cfg): install a version in that range '
        f'(pip install "{requirement}"), or change the range first.')
  return problems


def _number(value) -> float:
  try:
    value = float(value)
  except (TypeError, ValueError):
    return math.nan
  return value


def hardware(trial_dir: pathlib.Path, workers: int) -> dict:
  """Where the runs ran, from the first trial's meta_data file."""
  meta = records.read_json(sorted(trial_dir.glob('meta_data_*.json'))[0])
  versions = meta.get('software_versions', {})
  return {
    'processor': meta.get('processor'),
    'cpu_count': meta.get('cpu_count'),
    'jax_backend': meta.get('jax_backend'),
    'concurrent_runs': workers,
    'jax': versions.get('jax'), 'flax': versions.get('flax'),
    'optax': versions.get('optax'),
  }


def run_key(run: dict) -> tuple:
  return (run['algorithm'], run['study'], run['trial'])


def summarized_keys(path: pathlib.Path) -> set:
  """(algorithm, study, trial) of the runs an existing summary holds."""
  if not path.exists():
    return set()
  return {run_key(r) for r in records.read_json(path)['runs']}


def write_summary(path: pathlib.Path, stage: str, workload,
                  plan_by_alg: dict, workers: int) -> dict | None:
  """Summarises the finished trials of ``plan_by_alg`` into ``path``.

  Runs already in ``path`` that did not run here (another machine's share
  of the same plan) are kept; each run records the hardware it ran on.
  """
  runs = []
  for algorithm, plan in plan_by_alg.items():
    for job in plan.jobs:
      if study.is_finished(job):
        run = summarize_trial(job.trial_dir, workload, algorithm)
        run['hardware'] = hardware(job.trial_dir, workers)
        runs.append(run)
  if path.exists():
    old = records.read_json(path)
    fresh = {run_key(r) for r in runs}
    for run in old['runs']:
      if run_key(run) not in fresh:
        run.setdefault('hardware', old['hardware'])
        runs.append(run)
  if not runs:
    return None
  runs.sort(key=run_key)
  summary = {
    'stage': stage, 'workload': workload.name,
    'metric': workload.target_metric_name,
    'direction': workload.metric_direction,
    'horizon_steps': workload.facts.target_setting_horizon_steps,
    'hardware': runs[0]['hardware'],
    'runs': runs,
  }
  records.write_atomic(path, json.dumps(summary, indent=1, sort_keys=True)
                       + '\n')
  return summary
