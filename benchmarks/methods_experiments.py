"""Issue 22's experiments: adaptive batch, ghost BN, PBT vs Halton search.

Trains with the harness's own study orchestration (``study_driver`` /
``algoperf.pbt``) into ``experiments/issue22/<suite-version>/``
(git-ignored; finished trials are skipped on a rerun), writes the small
summaries every table is made from into
``docs/experiments/issue22/<suite-version>/<section>.json`` (committed),
then regenerates the sections of ``docs/experiments.md`` from them
(``methods_experiments_page.py``, which needs no JAX):

  nice -n 19 .venv/bin/python benchmarks/methods_experiments.py run \
      adaptive_batch --suite-version cpu-0.3 [--seeds 5]
  .venv/bin/python benchmarks/methods_experiments_page.py \
      --suite-version cpu-0.3

``run``'s ``--suite-version`` must be the suite this checkout has (the
registry's ``benchmark_version``: cpu-1.0 since commit b0b66f5; the
committed summaries are cpu-0.3's, run before): the experiments are re-run
on a recalibrated suite by checking it out and passing its version;
summaries of each version live side by side.

Sections (seeds = studies; every arm of a seed runs before the next seed,
so slow and fast periods of a shared machine fall on every arm alike):
  adaptive_batch  reference_algorithms/adadagrad on mnist at equal
                  submission time (10x mnist's budget: 20 s): the norm test
                  growing K from 2 to at most 16, against fixed K = 2 and
                  K = 8 (min = max: the test is logged, never acted on).
                  Supervised trials with the warm-up (the clock as
                  `algoperf study` runs it).
  ghost_bn        digits_resnet (BatchNorm) at a batch of 512 (8x its
                  default; the experiment's wrapper submissions under
                  benchmarks/issue22/ set it), NAdamW self-tuning values,
                  plain vs ghost batches of 32, 60 steps each (about 2.5 s
                  a step on the loaded machine), evaluated every 20, in
                  this process (steps are the measure; no time limit).
  pbt             NAdamW on mnist over the Halton space of
                  benchmarks/issue22/nadamw_space.json: PBT (population 4,
                  4 generations of 150 steps) vs Halton search (4 trials
                  of 600 steps): equal total compute of 2,400 steps; both
                  stop a trial at the target, as AlgoPerf does.
"""

import argparse
import dataclasses
import json
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
HERE = ROOT / 'benchmarks' / 'issue22'
ALGORITHMS = ROOT / 'reference_algorithms'
SECTIONS = ('adaptive_batch', 'ghost_bn', 'pbt')
# No time limit where steps are the measure (ghost BN, PBT vs Halton).
STEPS_ONLY = 1000.0


def experiment_dir(version):
  return ROOT / 'experiments' / 'issue22' / version


def summary_path(version, section):
  return ROOT / 'docs' / 'experiments' / 'issue22' / version / (
    section + '.json')


def _check_version(version):
  from algoperf import registry

  have = registry.suite().benchmark_version
  if version != have:
    sys.exit(f'--suite-version {version}: this checkout has the CPU suite '
             f'{have}. Check out the commit that has {version} (its '
             'algoperf/suites/cpu.json), or pass --suite-version '
             f'{have}.')


def _arm_space(version, name, point):
  path = experiment_dir(version) / 'spaces' / f'{name}.json'
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps([point]))
  return str(path)


def _plans(version, arms, workload, seeds, **overrides):
  """One study plan per arm: ``arms`` is [(name, submission, point)]."""
  from algoperf import study
  from algoperf import study_driver
  from algoperf import submission as submission_lib

  plans = []
  budget = overrides.pop('budget_multiplier', None)
  for name, submission_dir, point in arms:
    spec = study.StudySpec(
      submission=str(submission_dir), workloads=(workload,),
      experiment_dir=str(experiment_dir(version)), name=name,
      num_studies=seeds, num_trials=1,
      search_space=_arm_space(version, name, point), **overrides)
    jobs = study.plan_trials(spec, submission_lib.load_submission(
      spec.submission))
    if budget is not None:
      jobs = [dataclasses.replace(j, config=dataclasses.replace(
        j.config, budget_multiplier=budget)) for j in jobs]
    plans.append(study_driver.Plan(spec, tuple(jobs)))
  return plans


def _run_plans(plans, backend):
  from algoperf import study_driver

  names = [p.spec.name for p in plans]
  study_driver.run_trials(plans, study_driver.Dispatch(
    backend, order=lambda job: (job.config.study,
                                names.index(job.config.experiment_name))))


def run_adaptive_batch(version, seeds):
  adadagrad = ALGORITHMS / 'adadagrad'
  base = {'learning_rate': 3.0, 'norm_test_eta': 1.0,
          'initial_accumulator': 0.01}
  arms = [('adaptive_batch_adaptive', adadagrad,
           {**base, 'min_micro_batches': 2, 'max_micro_batches': 16}),
          ('adaptive_batch_fixed_2', adadagrad,
           {**base, 'min_micro_batches': 2, 'max_micro_batches': 2}),
          ('adaptive_batch_fixed_8', adadagrad,
           {**base, 'min_micro_batches': 8, 'max_micro_batches': 8})]
  _run_plans(_plans(version, arms, 'mnist', seeds, budget_multiplier=10.0,
                    checkpoint_every_sec=None), 'local')
  return arms


def _compilation_cache(version):
  """Trials run in this process share a persistent compilation cache, as
  a supervised trial's attempts do (docs/design.md §6): a seed whose
  programs an earlier seed compiled loads them."""
  import jax

  path = experiment_dir(version) / 'compilation_cache'
  jax.config.update('jax_compilation_cache_dir', str(path))
  jax.config.update('jax_persistent_cache_min_compile_time_secs', 0)
  jax.config.update('jax_persistent_cache_min_entry_size_bytes', -1)


def run_ghost_bn(version, seeds):
  _compilation_cache(version)
  arms = [('ghost_bn_plain', HERE / 'nadamw_b512', {}),
          ('ghost_bn_ghost_32', HERE / 'ghost_bn_b512',
           {'ghost_batch_size': 32})]
  _run_plans(_plans(version, arms, 'digits_resnet', seeds, max_steps=60,
                    eval_every_steps=20, budget_multiplier=STEPS_ONLY,
                    checkpoint_every_sec=None),
             'inline')
  return arms


PBT_POPULATION, PBT_GENERATIONS, PBT_STEPS = 4, 4, 150


def run_pbt(version, seeds):
  from algoperf import pbt
  from algoperf import study
  from algoperf import study_backends
  from algoperf import study_driver
  from algoperf import submission as submission_lib

  space = str(HERE / 'nadamw_space.json')
  nadamw = submission_lib.load_submission(ALGORITHMS / 'nadamw')
  total = PBT_GENERATIONS * PBT_STEPS

  def spec(name, seed, **more):
    return study.StudySpec(
      submission=str(ALGORITHMS / 'nadamw'), workloads=('mnist',),
      experiment_dir=str(experiment_dir(version)), name=name,
      num_trials=PBT_POPULATION, rng_seed=seed, search_space=space,
      checkpoint_every_sec=None, **more)

  def no_time_limit(jobs):
    return [dataclasses.replace(j, config=dataclasses.replace(
      j.config, budget_multiplier=STEPS_ONLY)) for j in jobs]

  for seed in range(seeds):
    # The same --rng-seed: the population starts at the Halton points.
    halton = spec(f'pbt_halton_seed{seed}', seed, max_steps=total)
    jobs = no_time_limit(study.plan_trials(halton, nadamw))
    study_driver.run_trials([study_driver.Plan(halton, tuple(jobs))],
                            study_driver.Dispatch('inline'))
    population = spec(f'pbt_population_seed{seed}', seed)
    log = pbt.log_path(population, 0, 'mnist')
    if log.exists():
      continue
    pbt.run_pbt(
      pbt.PbtSpec(population, PBT_GENERATIONS, PBT_STEPS),
      nadamw, lambda jobs, done: study_backends.run_jobs(
        no_time_limit(jobs), 'inline', done))


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  sub = parser.add_subparsers(dest='command', required=True)
  run = sub.add_parser('run', help='train a section, then summarise it')
  run.add_argument('section', choices=SECTIONS)
  run.add_argument('--suite-version', required=True)
  run.add_argument('--seeds', type=int, default=5)
  summarise = sub.add_parser('summarise', help='summaries from the trials')
  summarise.add_argument('section', choices=SECTIONS)
  summarise.add_argument('--suite-version', required=True)
  args = parser.parse_args(argv)
  _check_version(args.suite_version)
  os.environ.setdefault('ALGOPERF_NO_PROGRESS', '1')
  sys.path.insert(0, str(ROOT / 'benchmarks'))
  import methods_experiments_page as page
  import methods_experiments_summary as summary

  if args.command == 'run':
    {'adaptive_batch': run_adaptive_batch, 'ghost_bn': run_ghost_bn,
     'pbt': run_pbt}[args.section](args.suite_version, args.seeds)
  summary.write(args.section, experiment_dir(args.suite_version),
                summary_path(args.suite_version, args.section))
  page.main(['--suite-version', args.suite_version])


if __name__ == '__main__':
  main()
