"""Steps/s of the timed runner vs a bare jitted loop, in one process.

Both train the mnist MLP with the same optax optimizer on the same batches
(the workload's input queue, synthetic data of the real shapes). The bare
loop jits one train step and blocks only at the end; the runner adds what
the clock rules require (a block and a timestamp every step, the budget
check, data_selection through the API). Evals are pushed out of the timed
window. Prints both rates and their ratio.

Then the cost of hardening (docs/reliability.md): the same runner loop
with what a supervised trial's process adds per step (the PEP 578 sandbox
judging every audit event, the heartbeat written at each submission call
and clock charge, the guarded submission functions), and the fixed cost of
the supervisor per trial: a one-step trial in a supervised child process
against the same trial in this process.

  python benchmarks/runner_overhead.py [--steps 2000] [--repeats 3]
"""

import argparse
import dataclasses
import os
import pathlib
import sys
import tempfile
import time
import types

import jax
import optax

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from algoperf import records  # noqa: E402
from algoperf import registry  # noqa: E402
from algoperf import runner  # noqa: E402
from algoperf import spec  # noqa: E402
from algoperf import submission as submission_lib  # noqa: E402

BATCH_SIZE = 64
REPO = pathlib.Path(__file__).resolve().parents[1]


def make_step(workload, optimizer):
  def step(params, opt_state, batch):
    def loss_fn(p):
      logits, _ = workload.model_fn(p, batch, None, spec.ForwardPassMode.TRAIN,
                                    None, update_batch_norm=False)
      out = workload.loss_fn(batch['targets'], logits)
      return out['summed'] / out['n_valid_examples']
    grads = jax.grad(loss_fn)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state
  return jax.jit(step, donate_argnums=(0, 1))


def bare_loop(workload, steps: int) -> float:
  optimizer = optax.nadamw(1e-3)
  params, _ = workload.init_model_fn(jax.random.PRNGKey(0))
  opt_state = optimizer.init(params)
  step = make_step(workload, optimizer)
  queue = workload._build_input_queue(jax.random.PRNGKey(1), 'train', None,
                                      BATCH_SIZE)
  params, opt_state = step(params, opt_state, next(queue))  # Compile.
  jax.block_until_ready(params)
  start = time.perf_counter()
  for _ in range(steps):
    params, opt_state = step(params, opt_state, next(queue))
  jax.block_until_ready(params)
  return steps / (time.perf_counter() - start)


def runner_submission(workload) -> submission_lib.Submission:
  optimizer = optax.nadamw(1e-3)
  step = make_step(workload, optimizer)

  def init_optimizer_state(workload, params, model_state, hp, rng):
    return optimizer.init(params)

  def update_params(workload, params, types_, model_state, hp, batch,
                    loss_type, opt_state, eval_results, global_step, rng):
    params, opt_state = step(params, opt_state, batch)
    return opt_state, params, model_state

  def data_selection(workload, queue, *args):
    return next(queue)

  module = types.ModuleType('bench_submission')
  return submission_lib.Submission(
    path=pathlib.Path(__file__), module=module,
    get_batch_size=lambda name: BATCH_SIZE,
    init_optimizer_state=init_optimizer_state, update_params=update_params,
    data_selection=data_selection, prepare_for_eval=None,
    wants_train_state=False, wants_train_data=False)


def runner_loop(workload, steps: int) -> float:
  # Evals: after step 1 and at the end.
  workload.override_facts(eval_period_time_sec=10**9,
                          max_allowed_runtime_sec=10**9)
  with tempfile.TemporaryDirectory() as tmp:
    config = runner.RunConfig(experiment_dir=tmp, experiment_name='bench',
                              max_steps=steps + 1, progress=False)
    submission = runner_submission_override or runner_submission(workload)
    result = runner.run_trial(workload, submission, config)
    rows = records.read_rows_csv(
      pathlib.Path(result.trial_dir) / 'eval_measurements.csv')
  # Steps 2..N+1, timed by the runner's own clock (compile is in step 1).
  elapsed = rows[-1]['accumulated_submission_time'] - rows[0][
    'accumulated_submission_time']
  return steps / elapsed


def hardened_runner_loop(workload, steps: int) -> float:
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
    global runner_submission_override
    runner_submission_override = dataclasses.replace(base, **guarded)
    try:
      return runner_loop(workload, steps)
    finally:
      runner_submission_override = None
      clock._OBSERVERS.remove(beat.on_charge)
      sandbox.install(None)
      beat.close()


runner_submission_override = None


def supervisor_cost(repeats: int) -> tuple[float, float]:
  """Seconds for a 1-step mnist trial: in this process vs supervised."""
  from algoperf import study
  from algoperf import study_backends

  spec = study.StudySpec(
    submission=str(REPO / 'tests' / 'fixtures' / 'algoperf_style'),
    workloads=('mnist',), experiment_dir='', name='bench', ruleset='self',
    max_steps=1, synthetic_data=64, checkpoint_every_sec=None)
  inline, supervised = [], []
  for _ in range(repeats):
    for runs, run_one in ((inline, study_backends.execute),
                          (supervised, study_backends.supervised)):
      with tempfile.TemporaryDirectory() as tmp:
        [job] = study.plan_trials(
          dataclasses.replace(spec, experiment_dir=tmp),
          submission_lib.load_submission(spec.submission))
        start = time.perf_counter()
        summary = run_one(job)
        runs.append(time.perf_counter() - start)
        assert summary['status'] == 'max_steps', summary
  return min(inline), min(supervised)


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument('--steps', type=int, default=2000)
  parser.add_argument('--repeats', type=int, default=3)
  args = parser.parse_args()
  workload = registry.make_workload('mnist')
  workload.use_synthetic_data(3500)
  bare, timed, hardened = [], [], []
  for _ in range(args.repeats):  # Interleave to share machine noise.
    bare.append(bare_loop(workload, args.steps))
    timed.append(runner_loop(workload, args.steps))
    hardened.append(hardened_runner_loop(workload, args.steps))
  best_bare, best_runner = max(bare), max(timed)
  best_hardened = max(hardened)
  print(f'bare jitted loop : {best_bare:8.1f} steps/s (best of {args.repeats})')
  print(f'timed runner     : {best_runner:8.1f} steps/s (best of '
        f'{args.repeats})')
  print(f'runner / bare    : {best_runner / best_bare:8.3f} '
        f'(slowdown {100 * (1 - best_runner / best_bare):.1f}%)')
  print(f'runner + sandbox, heartbeat, guards: {best_hardened:8.1f} steps/s '
        f'({100 * (1 - best_hardened / best_runner):.1f}% slower than the '
        'runner alone)')
  inline, supervised = supervisor_cost(args.repeats)
  print(f'1-step trial in this process: {inline:6.2f} s; supervised child: '
        f'{supervised:6.2f} s (+{supervised - inline:.2f} s per trial: a '
        'process start, imports and compilation)')
  print(f'load average: {os.getloadavg()[0]:.1f}')


if __name__ == '__main__':
  main()
