"""Steps/s of the timed runner vs a bare jitted loop, in one process.

Both train the workload's model (mnist's MLP, digits_resnet's ResNet with
batch norm) with the same optax NAdamW on the same batches (the workload's
input queue, synthetic data of the real shapes, the workload's default
batch size). The bare loop jits one train step and blocks only at the end;
the runner adds what the clock rules require (the wait for step k-1 while
step k runs, a timestamp every step, the budget check, data_selection
through the API). Evals are pushed out of the timed window. Each figure is
the best of ``--repeats`` runs, interleaved so that all share the machine's
noise, with the process CPU time per wall second beside it (for the
runner: over the whole attempt, as status.json records it).

Then what a supervised trial's process adds per step (the PEP 578
sandbox judging every audit event, the heartbeat written at each submission
call and clock charge, the guarded submission functions), and the fixed
cost of the supervisor per trial: a one-step mnist trial in a supervised
child process, with and without the warm-up process, against the same
trial in this process.

  python benchmarks/runner_overhead.py [--workloads mnist,digits_resnet]
      [--steps N] [--repeats 3] [--no-supervisor]
"""

import argparse
import contextlib
import dataclasses
import os
import pathlib
import statistics
import sys
import tempfile
import time
import types

import jax
import optax

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from algoperf import compilation  # noqa: E402
from algoperf import records  # noqa: E402
from algoperf import registry  # noqa: E402
from algoperf import runner  # noqa: E402
from algoperf import spec  # noqa: E402
from algoperf import submission as submission_lib  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
# Steps per run: about 2 s of training each on the idle 2-core machine.
STEPS = {'mnist': 2000, 'digits_resnet': 100}


@dataclasses.dataclass(frozen=True)
class Rate:
  steps_per_sec: float
  cpu_per_wall: float  # Process CPU seconds (every thread) per wall second.


@contextlib.contextmanager
def cpu_timer(out: list):
  wall, cpu = time.perf_counter(), time.process_time()
  yield
  out[:] = [time.perf_counter() - wall, time.process_time() - cpu]


def make_step(workload, optimizer):
  def step(params, model_state, opt_state, batch):
    def loss_fn(p):
      logits, new_state = workload.model_fn(
        p, batch, model_state, spec.ForwardPassMode.TRAIN, None,
        update_batch_norm=True)
      out = workload.loss_fn(batch['targets'], logits)
      return out['summed'] / out['n_valid_examples'], new_state
    grads, new_state = jax.grad(loss_fn, has_aux=True)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), new_state, opt_state
  return jax.jit(step, donate_argnums=(0, 1, 2))


def bare_loop(workload, steps: int) -> Rate:
  optimizer = optax.nadamw(1e-3)
  params, model_state = workload.init_model_fn(jax.random.PRNGKey(0))
  opt_state = optimizer.init(params)
  step = make_step(workload, optimizer)
  queue = workload._build_input_queue(jax.random.PRNGKey(1), 'train', None,
                                      workload.default_batch_size)
  # Two untimed steps: the first compiles for init's arrays, the second
  # again for the step's own outputs (they differ in weak types).
  state = step(params, model_state, opt_state, next(queue))
  state = step(*state, next(queue))
  jax.block_until_ready(state)
  timed, log = [], compilation.CompileLog()
  with compilation.recording(log), cpu_timer(timed):
    for _ in range(steps):
      state = step(*state, next(queue))
    jax.block_until_ready(state)
  # A compile inside the window would be charged to the bare loop.
  assert not log.phases, f'the bare loop compiled while timed: {log.summary()}'
  wall, cpu = timed
  return Rate(steps / wall, cpu / wall)


def runner_submission(workload) -> submission_lib.Submission:
  optimizer = optax.nadamw(1e-3)
  step = make_step(workload, optimizer)

  def init_optimizer_state(workload, params, model_state, hp, rng):
    return optimizer.init(params)

  def update_params(workload, params, types_, model_state, hp, batch,
                    loss_type, opt_state, eval_results, global_step, rng):
    params, model_state, opt_state = step(params, model_state, opt_state,
                                          batch)
    return opt_state, params, model_state

  def data_selection(workload, queue, *args):
    return next(queue)

  module = types.ModuleType('bench_submission')
  return submission_lib.Submission(
    path=pathlib.Path(__file__), module=module,
    get_batch_size=lambda name: workload.default_batch_size,
    init_optimizer_state=init_optimizer_state, update_params=update_params,
    data_selection=data_selection, prepare_for_eval=None,
    wants_train_state=False, wants_train_data=False)


def runner_loop(workload, steps: int, submission=None) -> tuple[Rate, dict]:
  """The runner's rate over steps 2..N+1, by its own clock (step 1
  compiles); and its clock self-check."""
  workload.override_facts(eval_every_steps=steps,  # Evals: steps 1, N+1.
                          max_allowed_runtime_sec=10**9)
  with tempfile.TemporaryDirectory() as tmp:
    config = runner.RunConfig(experiment_dir=tmp, experiment_name='bench',
                              max_steps=steps + 1, progress=False,
                              checkpoint_every_sec=None)
    result = runner.run_trial(workload, submission
                              or runner_submission(workload), config)
    trial = pathlib.Path(result.trial_dir)
    rows = records.read_rows_csv(trial / 'eval_measurements.csv')
    status = records.read_json(trial / 'status.json')
  elapsed = rows[-1]['accumulated_submission_time'] - rows[0][
    'accumulated_submission_time']
  machine = status['measurements'][-1]['machine']
  return Rate(steps / elapsed, machine['cpu_per_wall']), result.clock_check


def hardened_runner_loop(workload, steps: int) -> tuple[Rate, dict]:
  """runner_loop with the child's per-step guards on (trial_child.py)."""
  from algoperf import clock
  from algoperf import heartbeat
  from algoperf import sandbox
  from algoperf import trial_child

  with tempfile.TemporaryDirectory() as tmp:
    beat = heartbeat.Heartbeat(pathlib.Path(tmp) / 'beat', create=True)
    sandbox.install(sandbox.Policy.create([tmp + '/submission'], [tmp]))
    clock.observe(beat.on_charge)
    base = runner_submission(workload)
    guarded = {name: trial_child._guarded(name, getattr(base, name), beat,
                                          sandbox)
               for name in trial_child._CALLS
               if getattr(base, name) is not None}
    try:
      return runner_loop(workload, steps,
                         dataclasses.replace(base, **guarded))
    finally:
      clock._OBSERVERS.remove(beat.on_charge)
      sandbox.install(None)
      beat.close()


def supervisor_cost(repeats: int) -> dict:
  """Wall seconds for a 1-step mnist trial (best of ``repeats``): in this
  process, supervised, supervised with the warm-up first."""
  from algoperf import study
  from algoperf import study_backends

  spec_ = study.StudySpec(
    submission=str(REPO / 'tests' / 'fixtures' / 'algoperf_style'),
    workloads=('mnist',), experiment_dir='', name='bench', ruleset='self',
    max_steps=1, synthetic_data=64, checkpoint_every_sec=None)
  ways = {'in this process': (study_backends.execute, False),
          'supervised child': (study_backends.supervised, False),
          'supervised, warm-up first': (study_backends.supervised, True)}
  seconds = {name: [] for name in ways}
  for _ in range(repeats):
    for name, (run_one, warmup) in ways.items():
      with tempfile.TemporaryDirectory() as tmp:
        [job] = study.plan_trials(
          dataclasses.replace(spec_, experiment_dir=tmp, warmup=warmup),
          submission_lib.load_submission(spec_.submission))
        start = time.perf_counter()
        summary = run_one(job)
        seconds[name].append(time.perf_counter() - start)
        assert summary['status'] == 'max_steps', summary
  return {name: min(values) for name, values in seconds.items()}


def measure(name: str, steps: int, repeats: int) -> None:
  workload = registry.make_workload(name)
  workload.use_synthetic_data(3500)
  runs = {'bare jitted loop': [], 'timed runner': [],
          'runner + sandbox, heartbeat, guards': []}
  checks = []
  for _ in range(repeats):  # Interleaved: each repeat shares the noise.
    runs['bare jitted loop'].append(bare_loop(workload, steps))
    rate, check = runner_loop(workload, steps)
    runs['timed runner'].append(rate)
    checks.append(check)
    rate, check = hardened_runner_loop(workload, steps)
    runs['runner + sandbox, heartbeat, guards'].append(rate)
    checks.append(check)
  best = {k: max(v, key=lambda r: r.steps_per_sec) for k, v in runs.items()}
  bare = best['bare jitted loop'].steps_per_sec
  print(f'\n{name}: {steps} steps per run, batch '
        f'{workload.default_batch_size}, best of {repeats} '
        f'(load average {os.getloadavg()[0]:.1f})')
  for label, rate in best.items():
    median = statistics.median(r.steps_per_sec for r in runs[label])
    print(f'  {label:36s} {rate.steps_per_sec:8.1f} steps/s '
          f'(ratio {rate.steps_per_sec / bare:.3f}; median '
          f'{median:8.1f}); CPU/wall {rate.cpu_per_wall:.2f}')
  worst = max(c['relative_difference'] for c in checks)
  print(f'  clock self-check: the accumulators sum to the loop\'s wall time '
        f'within {100 * worst:.3f}% (worst of {len(checks)} runs)')


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument('--workloads', default='mnist,digits_resnet')
  parser.add_argument('--steps', type=int, default=None,
                      help='steps per run (default: per workload)')
  parser.add_argument('--repeats', type=int, default=3)
  parser.add_argument('--no-supervisor', action='store_true',
                      help='skip the per-trial supervisor cost')
  args = parser.parse_args()
  print(f'load average at start: {os.getloadavg()[0]:.1f}; '
        f'{len(os.sched_getaffinity(0))} usable cores')
  wall_cpu = []
  with cpu_timer(wall_cpu):
    for name in args.workloads.split(','):
      measure(name, args.steps or STEPS.get(name, 200), args.repeats)
  if not args.no_supervisor:
    cost = supervisor_cost(args.repeats)
    inline = cost['in this process']
    print('\n1-step mnist trial, wall seconds (best of '
          f'{args.repeats}): ' + ', '.join(
            f'{k} {v:.2f} s (+{v - inline:.2f})' for k, v in cost.items()))
  print(f'\nthis benchmark: {wall_cpu[0]:.0f} s wall, {wall_cpu[1]:.0f} s '
        f'CPU (this process); load average at end: '
        f'{os.getloadavg()[0]:.1f}')


if __name__ == '__main__':
  main()
