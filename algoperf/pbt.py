"""`algoperf study --tuner pbt`: population-based training over trials.

Not an AlgoPerf ruleset: the trials of a population interact (Jaderberg et
al. 2017), so their flags files say ruleset ``pbt`` and scoring refuses to
mix them with external- or self-tuning logs (scoring/pipeline.py).

Per study and workload, the population is the study's M trials, started
at the same Halton points (and seeds) an external-tuning study of the same
--rng-seed would use. Training runs in generations of
``steps_per_generation`` steps: each member trains (any backend, each
trial supervised) until the eval at the generation's last step, where the
runner checkpoints it and pauses (``RunConfig.pause_at_step``). Then
``pbt_decisions.decide`` ranks the members by that eval; each member of the
bottom quantile gets a top member's checkpoint copied over its own (the
project's trial checkpoints: weights, optimizer and model state, data
position, eval history and clock) and that member's hyperparameters,
perturbed; its next attempt resumes from the copy. A member that finishes
(target, budget, error) leaves the population.

Recorded in ``<name>/.algoperf/pbt/study_<k>_<workload>.json`` (written
after every generation, atomically): the RNG seed, every decision, per
member and generation the submission time and steps it spent, the
population's total compute (the sum of those: time copied with a
checkpoint is counted once, where it was spent) and the wall clock. A
member's own clock carries its lineage's time, so its eval rows are not
the population's cost; scoring pbt logs reads them as they are.
"""

import dataclasses
import pathlib
import shutil
import time

import numpy as np

from algoperf import clock
from algoperf import experiment_lock
from algoperf import pbt_decisions
from algoperf import records
from algoperf import seeds
from algoperf import study as study_lib
from algoperf import trial_checkpoint
from algoperf.errors import AlgoperfError

RULESET = 'pbt'
# The runner checkpoints only where the tuner pauses it.
_NO_PERIODIC_CHECKPOINTS = 1e12


@dataclasses.dataclass(frozen=True)
class PbtSpec:
  study: study_lib.StudySpec  # num_trials: the population size.
  generations: int
  steps_per_generation: int
  quantile: float = 0.25


def log_path(spec: study_lib.StudySpec, study: int, workload: str):
  experiment = pathlib.Path(spec.experiment_dir) / spec.name
  return (experiment / records.HARNESS_DIR / 'pbt'
          / f'study_{study}_{workload}.json')


def _check(pbt: PbtSpec) -> None:
  spec = pbt.study
  if spec.ruleset != study_lib.EXTERNAL:
    raise AlgoperfError('--tuner pbt tunes hyperparameters: it needs the '
                        'search space of --ruleset external (the default).')
  if spec.num_trials < 2:
    raise AlgoperfError('--tuner pbt needs a population of at least 2 '
                        f'(--trials), got {spec.num_trials}.')
  if pbt.generations < 1 or pbt.steps_per_generation < 1:
    raise AlgoperfError('--generations and --steps-per-generation must be '
                        'at least 1.')
  if not 0 < pbt.quantile <= 0.5:
    raise AlgoperfError(f'--pbt-quantile must be in (0, 0.5], got '
                        f'{pbt.quantile}.')


def _member_job(job: study_lib.TrialJob, hyperparameters: dict,
                generation: int, pbt: PbtSpec) -> study_lib.TrialJob:
  last = generation == pbt.generations
  config = dataclasses.replace(
    job.config, hyperparameters=hyperparameters, ruleset=RULESET,
    eval_every_steps=pbt.steps_per_generation,
    checkpoint_every_sec=_NO_PERIODIC_CHECKPOINTS,
    max_steps=pbt.generations * pbt.steps_per_generation,
    pause_at_step=None if last else generation * pbt.steps_per_generation)
  return dataclasses.replace(job, config=config)


def _progress(job) -> tuple[float, int, float | None]:
  """(submission time, global step, last validation value) of a member,
  from its checkpoint when paused, else from its finished status."""
  meta = trial_checkpoint.load_latest(job.trial_dir)
  if meta is not None:
    rows = meta['eval_rows']
    return (meta['accumulators'].get(clock.SUBMISSION, 0.0),
            meta['global_step'], rows[-1] if rows else {})
  status = records.read_json(job.trial_dir / records.STATUS)
  path = job.trial_dir / records.EVAL_MEASUREMENTS
  rows = records.read_rows_csv(path) if path.exists() else []
  return (status.get('accumulators', {}).get(clock.SUBMISSION, 0.0),
          status.get('global_step', 0), rows[-1] if rows else {})


def _copy_checkpoint(donor: study_lib.TrialJob,
                     member: study_lib.TrialJob) -> None:
  source = donor.trial_dir / trial_checkpoint.CHECKPOINTS
  target = member.trial_dir / trial_checkpoint.CHECKPOINTS
  staging = target.with_name(target.name + '.copying')
  shutil.rmtree(staging, ignore_errors=True)
  shutil.copytree(source, staging)
  shutil.rmtree(target, ignore_errors=True)
  staging.rename(target)


def run_population(pbt: PbtSpec, jobs: list, workload, space, run_jobs,
                   log_to, announce=print) -> dict:
  """One population (the jobs of one study and workload); returns the log.

  ``run_jobs(jobs, on_done)`` trains the jobs (a backend); ``log_to`` is
  where the log is written after every generation; ``announce(line)``
  tells each exploit as it is made.
  """
  spec, first = pbt.study, jobs[0]
  seed = seeds.derive_seed('pbt', spec.rng_seed, first.config.study,
                           first.workload)
  rng = np.random.default_rng(seed)
  metric = f'validation/{workload.target_metric_name}'
  hps = {job.config.trial: dict(job.config.hyperparameters) for job in jobs}
  by_member = {job.config.trial: job for job in jobs}
  active = sorted(by_member)
  log = {'ruleset': RULESET, 'workload': first.workload,
         'study': first.config.study, 'rng_seed': seed,
         'population': len(jobs), 'generations': pbt.generations,
         'steps_per_generation': pbt.steps_per_generation,
         'quantile': pbt.quantile, 'metric': metric,
         'direction': workload.metric_direction, 'history': [],
         'compute': {'submission_time': 0.0, 'steps': 0}}
  started = time.monotonic()
  spent_from = {m: (0.0, 0) for m in active}  # (time, step) at start.
  for generation in range(1, pbt.generations + 1):
    summaries = {}

    def record_summary(job, summary, into=summaries):
      into[job.config.trial] = summary

    run_jobs([_member_job(by_member[m], hps[m], generation, pbt)
              for m in active], record_summary)
    record = {'generation': generation, 'members': {}, 'scores': {},
              'hyperparameters': {m: hps[m] for m in active}}
    for member in active:
      seconds, step, row = _progress(by_member[member])
      start_seconds, start_step = spent_from[member]
      spent = {'status': summaries[member]['status'],
               'submission_time': seconds - start_seconds,
               'steps': step - start_step, 'global_step': step}
      record['members'][member] = spent
      record['scores'][member] = row.get(metric)
      log['compute']['submission_time'] += spent['submission_time']
      log['compute']['steps'] += spent['steps']
      spent_from[member] = (seconds, step)
    paused = [m for m in active
              if summaries[m]['status'] == records.PAUSED]
    if generation < pbt.generations and len(paused) >= 2:
      decisions = pbt_decisions.decide(
        {m: record['scores'][m] for m in paused}, hps, space, rng,
        workload.metric_direction, pbt.quantile)
      for decision in decisions:
        if decision['action'] == pbt_decisions.EXPLOIT:
          member, donor = decision['member'], decision['donor']
          _copy_checkpoint(by_member[donor], by_member[member])
          hps[member] = decision['hyperparameters_after']
          spent_from[member] = spent_from[donor]
          announce(f'pbt {first.workload} study {first.config.study} '
                   f'generation {generation}: trial {member} '
                   f'({decision["score"]}) exploits trial {donor} '
                   f'({decision["donor_score"]}), explores '
                   f'{decision["explored"]}')
      record['decisions'] = decisions
      # What decide() saw, so that replay() can make it again.
      record['decided_on'] = {'scores': {m: record['scores'][m]
                                         for m in paused},
                              'hyperparameters': record['hyperparameters']}
    log['history'].append(record)
    log['wall_seconds'] = time.monotonic() - started
    records.write_json(log_to, log)
    active = paused
    if not active:
      break
  return log


def run_pbt(pbt: PbtSpec, submission, run_jobs, announce=print) -> list:
  """Every population of the study; returns their logs.

  Raises:
    AlgoperfError: a bad spec, or an experiment that already has PBT logs
      (PBT runs are not resumed: choose another --name).
  """
  _check(pbt)
  spec = pbt.study
  from algoperf import registry
  from algoperf import tuning

  jobs = study_lib.plan_trials(spec, submission)
  space = tuning.load_search_space(study_lib.search_space_path(spec,
                                                               submission))
  experiment = pathlib.Path(spec.experiment_dir) / spec.name
  logs = []
  with experiment_lock.experiment_lock(experiment):
    groups = {}
    for job in jobs:
      groups.setdefault((job.config.study, job.workload), []).append(job)
    for (study, workload), members in groups.items():
      path = log_path(spec, study, workload)
      if path.exists():
        raise AlgoperfError(
          f'{path} exists: this PBT population has run before, and PBT '
          'runs are not resumed. Choose another --name.')
      log = run_population(pbt, members, registry.make_workload(workload),
                           space, run_jobs, path, announce)
      announce(f'pbt {workload} study {study}: population compute '
               f'{log["compute"]["submission_time"]:.1f} s of submission '
               f'time, {log["compute"]["steps"]} steps; wall '
               f'{log["wall_seconds"]:.1f} s; log {path}')
      logs.append(log)
  return logs
