"""Run N studies x M trials of a submission on workloads (or the CPU suite).

External tuning: every study draws its own M points from the search space
(seeded scrambled Halton; a list space gives each study its first M points).
Self-tuning: one trial per study, hyperparameters=None, 3x budget. Seeds
come from (submission, study, workload, trial) and are recorded. Rerunning
the same command skips finished trials and resumes interrupted ones from
their checkpoints. Every trial runs in its own supervised process.
Backends: local (one trial at a time), pool (as many at once as the cores
allow), ray (tasks on a cluster).
"""

from algoperf.commands.run import add_trial_arguments
from algoperf.commands.run import positive_int as _positive_int


def add_arguments(parser):
  parser.add_argument('--submission', required=True,
                      help='submission directory (holding submission.py)')
  target = parser.add_mutually_exclusive_group(required=True)
  target.add_argument('--workloads', help='comma-separated workload names')
  target.add_argument('--suite', choices=['cpu', 'algoperf'],
                      help='every base workload of the suite (algoperf: '
                      'AlgoPerf\'s eight full-size workloads, for GPUs)')
  parser.add_argument('--ruleset', choices=['external', 'self'],
                      default='external')
  parser.add_argument('--search-space', help='tuning search space JSON '
                      '(default: SUBMISSION/tuning_search_space.json)')
  parser.add_argument('--studies', type=_positive_int, default=1)
  parser.add_argument('--trials', type=_positive_int, default=1,
                      help='trials per study (external tuning)')
  parser.add_argument('--backend', choices=['local', 'pool', 'ray'],
                      help='default: local for one trial, else pool')
  parser.add_argument('--address', help='Ray cluster address HOST:PORT '
                      '(default: RAY_ADDRESS, else a local Ray instance)')
  parser.add_argument('--num-cpus-per-trial', type=float, default=1.0)
  parser.add_argument(
    '--num-gpus-per-trial', type=float, default=0.0,
    help='pool and ray: GPUs of its own for each trial (CUDA_VISIBLE_DEVICES):'
    ' a whole number, or a share of one GPU such as 0.5 (the memory JAX may'
    ' take is then capped at the share); 0 (default): trials see no GPU,'
    ' which the pool refuses on a GPU machine unless JAX_PLATFORMS is set')
  parser.add_argument('--max-workers', type=_positive_int,
                      help='at most this many trials at once (pool)')
  parser.add_argument('--experiment-dir', required=True)
  parser.add_argument('--name', required=True, help='experiment name')
  parser.add_argument('--rng-seed', type=int, default=0)
  add_trial_arguments(parser)
  parser.add_argument('--eval-every-steps', type=_positive_int,
                      help='evaluate every N steps instead of on the '
                      'workload\'s own step schedule (its eval_every_steps '
                      'fact)')
  parser.add_argument('--checkpoint-every-sec', type=float, default=30.0,
                      help='checkpoint at the first eval this long after the '
                      'previous checkpoint (0: every eval)')
  parser.add_argument('--data-dir', default=None)
  parser.add_argument('--no-progress', action='store_true',
                      help='no live table; print the table at the end')
  parser.add_argument(
    '--tuner', choices=['halton', 'pbt'], default='halton',
    help='halton (default): independent trials at Halton points, '
    "AlgoPerf's external tuning; pbt: population-based training, the "
    '--trials of a study exploit and explore each other at the eval ending '
    'each generation (logs under ruleset pbt, never scored with external '
    'tuning)')
  parser.add_argument('--generations', type=_positive_int, default=4,
                      help='pbt: generations (exploit/explore between them)')
  parser.add_argument('--steps-per-generation', type=_positive_int,
                      default=100, help='pbt: steps of each generation (an '
                      'eval ends each)')
  parser.add_argument('--pbt-quantile', type=float, default=0.25,
                      help='pbt: the bottom quantile copies the top one')


def spec_from_args(args):
  from algoperf import study

  if args.suite:
    from algoperf import registry

    names = registry.suite(args.suite).base_workloads
  else:
    names = tuple(n.strip() for n in args.workloads.split(',') if n.strip())
  return study.StudySpec(
    submission=args.submission, workloads=names,
    experiment_dir=args.experiment_dir, name=args.name, ruleset=args.ruleset,
    num_studies=args.studies,
    num_trials=1 if args.ruleset == 'self' else args.trials,
    rng_seed=args.rng_seed, search_space=args.search_space,
    data_dir=args.data_dir, max_steps=args.max_steps,
    eval_every_steps=args.eval_every_steps,
    checkpoint_every_sec=args.checkpoint_every_sec,
    num_cpus_per_trial=args.num_cpus_per_trial,
    num_gpus_per_trial=args.num_gpus_per_trial,
    synthetic_data=args.synthetic_data, grace_sec=args.grace_sec,
    warmup=args.warmup)


def run(args) -> int:
  from algoperf import study_driver

  if args.tuner == 'pbt':
    return _run_pbt(args)

  summaries = study_driver.run_study(
    spec_from_args(args), backend=args.backend, address=args.address,
    max_workers=args.max_workers, progress=not args.no_progress)
  return study_driver.exit_code(summaries.values(), 'study')


def _run_pbt(args) -> int:
  from algoperf import fs
  from algoperf import pbt
  from algoperf import study_backends
  from algoperf import study_driver
  from algoperf import submission as submission_lib

  spec = spec_from_args(args)
  study_driver.check_spec(spec)
  submission = submission_lib.load_submission(spec.submission)
  backend = args.backend or study_backends.LOCAL
  if backend != study_backends.RAY:
    study_driver.check_data(spec)
  fs.check_writable_dir(spec.experiment_dir, '--experiment-dir')
  summaries = []

  def run_jobs(jobs, on_done):
    def done(job, summary):
      summaries.append(summary)
      on_done(job, summary)
    study_backends.run_jobs(jobs, backend, done,
                            max_workers=args.max_workers,
                            address=args.address)

  pbt.run_pbt(pbt.PbtSpec(spec, args.generations, args.steps_per_generation,
                          args.pbt_quantile), submission, run_jobs)
  finals = [s for s in summaries if s['status'] != 'paused']
  return study_driver.exit_code(finals, 'study')
