"""Studies: N studies x M trials per workload, planned (docs/design.md §8).

External tuning: each study draws its own M hyperparameter points from the
submission's search space (scrambled Halton, seeded per study, so different
studies get different points and the same seed gives the same points; a
fixed list of points gives every study the same first M points, as
AlgoPerf). Self-tuning: one trial per study, ``hyperparameters=None`` and a
budget multiplier. Every seed is derived from names with ``seeds`` (never
Python's salted ``hash()``) and recorded in the study plan
(``<name>/.algoperf/study.json``) and each trial's ``flags_<n>.json``.

Rerunning a study skips finished trials and resumes unfinished ones from
their checkpoints (see ``runner`` and ``trial_checkpoint``).
"""

import dataclasses
import pathlib

from algoperf import records
from algoperf import runner
from algoperf import seeds
from algoperf import tuning
from algoperf.errors import AlgoperfError
from algoperf.errors import SearchSpaceError

EXTERNAL = 'external'
SELF = 'self'
SELF_TUNING_BUDGET_MULTIPLIER = 3.0
FINISHED = records.FINISHED


class StudyMismatchError(AlgoperfError):
  """A rerun would give existing trials other seeds or hyperparameters."""


@dataclasses.dataclass(frozen=True)
class StudySpec:
  """What `algoperf study` (and `algoperf run`) was asked to do."""

  submission: str
  workloads: tuple
  experiment_dir: str
  name: str
  ruleset: str = EXTERNAL
  num_studies: int = 1
  num_trials: int = 1
  rng_seed: int = 0
  search_space: str | None = None
  data_dir: str | None = None
  max_steps: int | None = None
  eval_every_steps: int | None = None
  checkpoint_every_sec: float | None = 30.0
  num_cpus_per_trial: float = 1.0
  num_gpus_per_trial: float = 0.0
  # Serve N random examples per split instead of prepared data (tests and
  # smoke runs only; the results say nothing about the workload).
  synthetic_data: int | None = None
  # A submission call still running this long after the budget is spent is
  # stopped (status timeout; algoperf/supervisor.py).
  grace_sec: float = 30.0
  # Compile the trial's first steps off the clock before the timed process
  # (docs/design.md §6); None: unless the trial runs on synthetic data.
  warmup: bool | None = None


@dataclasses.dataclass(frozen=True)
class TrialJob:
  """One trial, self-contained and picklable (for pool and Ray workers)."""

  submission: str
  workload: str
  config: runner.RunConfig
  num_cpus: float = 1.0
  num_gpus: float = 0.0
  synthetic_data: int | None = None
  grace_sec: float = 30.0
  warmup: bool | None = None

  @property
  def warms_up(self) -> bool:
    """Whether a supervised run warms the compilation cache up first. By
    default not on synthetic data: tests and smoke runs measure nothing."""
    if self.warmup is not None:
      return self.warmup
    return not self.synthetic_data

  @property
  def trial_dir(self) -> pathlib.Path:
    c = self.config
    return records.trial_dir(c.experiment_dir, c.experiment_name, c.study,
                             self.workload, c.trial)

  @property
  def label(self) -> str:
    return (f'{self.workload} study {self.config.study} '
            f'trial {self.config.trial}')


def search_space_path(spec: StudySpec, submission) -> pathlib.Path:
  path = pathlib.Path(spec.search_space or submission.path.parent
                      / 'tuning_search_space.json')
  if not path.exists():
    raise SearchSpaceError(
      f'{path}: no search space. External tuning needs one: pass '
      '--search-space JSON, add tuning_search_space.json to the submission, '
      'or use --ruleset self.')
  return path


def search_seed(spec: StudySpec, submission, study: int) -> int:
  return seeds.derive_seed('search', spec.rng_seed, submission.name, study)


def trial_seed(spec: StudySpec, submission, study: int, workload: str,
               trial: int) -> int:
  return seeds.derive_seed(spec.rng_seed, submission.name, study, workload,
                           trial)


def study_points(spec: StudySpec, submission, space, study: int) -> list:
  """The hyperparameters of trials 1..M of ``study`` (None: self-tuning)."""
  if spec.ruleset == SELF:
    return [None]
  return tuning.trial_points(space, spec.num_trials,
                             search_seed(spec, submission, study))


def plan_trials(spec: StudySpec, submission) -> list[TrialJob]:
  """Every trial of the study, in order; validates the search space first.

  Raises:
    SearchSpaceError: malformed search space (before any training).
    WorkloadError: an unknown workload name.
  """
  from algoperf import registry

  if spec.ruleset not in (EXTERNAL, SELF):
    raise AlgoperfError(f'unknown ruleset {spec.ruleset!r}; use '
                        f'{EXTERNAL!r} or {SELF!r}.')
  for count, what in ((spec.num_studies, 'studies'),
                      (spec.num_trials, 'trials')):
    if count < 1:
      raise AlgoperfError(f'--{what} must be at least 1, got {count}.')
  if not spec.workloads:
    raise AlgoperfError('no workloads given; pass --workloads W[,W...] or '
                        '--suite cpu (see `algoperf workloads`).')
  classes = [registry.get_workload_class(n) for n in spec.workloads]
  space, space_path = None, None
  if spec.ruleset == EXTERNAL:
    space_path = search_space_path(spec, submission)
    space = tuning.load_search_space(space_path)
  multiplier = SELF_TUNING_BUDGET_MULTIPLIER if spec.ruleset == SELF else 1.0
  jobs = []
  for study in range(spec.num_studies):
    points = study_points(spec, submission, space, study)
    for workload_cls in classes:
      for trial, point in enumerate(points, start=1):
        config = runner.RunConfig(
          experiment_dir=_absolute(spec.experiment_dir),
          experiment_name=spec.name,
          rng_seed=trial_seed(spec, submission, study, workload_cls.name,
                              trial),
          study=study, trial=trial, hyperparameters=point,
          ruleset=spec.ruleset, budget_multiplier=multiplier,
          data_dir=_absolute(spec.data_dir), max_steps=spec.max_steps,
          progress=False, eval_every_steps=spec.eval_every_steps,
          checkpoint_every_sec=spec.checkpoint_every_sec,
          search_space=_absolute(space_path),
          search_seed=(search_seed(spec, submission, study)
                       if space_path else None))
        jobs.append(TrialJob(str(submission.path), workload_cls.name, config,
                             spec.num_cpus_per_trial, spec.num_gpus_per_trial,
                             spec.synthetic_data, spec.grace_sec,
                             spec.warmup))
  return jobs


def _absolute(path) -> str | None:
  """Workers (pool, Ray) may run elsewhere: never pass relative paths."""
  return None if path is None else str(pathlib.Path(path).absolute())


def trial_state(job: TrialJob) -> str:
  """'pending', 'running' (or interrupted), or the finished status."""
  path = job.trial_dir / records.STATUS
  if not path.exists():
    return 'pending'
  return records.read_json(path).get('status') or records.RUNNING


def is_finished(job: TrialJob) -> bool:
  """Finished for good: a resumable failure (disk full) runs again."""
  path = job.trial_dir / records.STATUS
  return path.exists() and records.is_final(records.read_json(path))


def _plan_record(job: TrialJob) -> dict:
  c = job.config
  return {'workload': job.workload, 'study': c.study, 'trial': c.trial,
          'rng_seed': c.rng_seed, 'search_seed': c.search_seed,
          'hyperparameters': c.hyperparameters,
          'budget_multiplier': c.budget_multiplier}


def record_plan(spec: StudySpec, jobs: list[TrialJob]) -> pathlib.Path:
  """Writes the study plan; refuses a rerun that would change existing trials.

  Trials of an earlier invocation keep their seeds and hyperparameters, so
  a rerun can add studies or trials but not alter those already planned.
  The plan goes to ``<name>/.algoperf/study.json``; one found at the old
  place is merged into it and removed.
  """
  experiment = pathlib.Path(spec.experiment_dir) / spec.name
  path = records.study_plan_path(experiment)
  planned = {(r['workload'], r['study'], r['trial']): r
             for r in map(_plan_record, jobs)}
  old_trials, read_from = records.read_study_plan(experiment)
  for record in old_trials:
    key = (record['workload'], record['study'], record['trial'])
    if key in planned and planned[key] != record:
      raise StudyMismatchError(
        f'{" and ".join(map(str, read_from))}: {key[0]} study {key[1]} '
        f'trial {key[2]} was planned with seed {record["rng_seed"]} and '
        'hyperparameters '
        f'{record["hyperparameters"]}; this invocation would use seed '
        f'{planned[key]["rng_seed"]} and {planned[key]["hyperparameters"]}'
        '. Rerun with the original --rng-seed/--search-space/--ruleset, or '
        'choose another --name.')
    planned.setdefault(key, record)
  spec_fields = dataclasses.asdict(spec)
  spec_fields['workloads'] = list(spec.workloads)
  records.write_json(path, {
    'spec': spec_fields,
    'trials': sorted(planned.values(), key=lambda r: (
      r['study'], r['workload'], r['trial'])),
  })
  records.legacy_study_plan_path(experiment).unlink(missing_ok=True)
  return path
