"""Where a study's trials run: one at a time, a local pool, or Ray.

Every trial runs in a child process under ``supervisor.supervise`` (local:
one after the other; pool: up to N at once; Ray: inside each task), which
trains it with ``execute(job)`` and turns every way the child can end into
a summary. ``inline`` (library callers and tests only) runs ``execute`` in
this process, without a supervisor. Trials write their files into the
(shared) experiment directory; the driver only collects a small summary per
trial. The live progress table reads the trials' status files, so it works
the same for every backend.

This module imports neither JAX nor Ray at the top: pool and Ray workers
import it before anything sets up JAX.
"""

import concurrent.futures
import os
import time
import traceback
from collections.abc import Callable

from algoperf import gpu_assign
from algoperf import records
from algoperf.errors import AlgoperfError

LOCAL = 'local'
POOL = 'pool'
RAY = 'ray'
INLINE = 'inline'  # In this process, unsupervised: library callers, tests.
BACKENDS = (LOCAL, POOL, RAY, INLINE)


def execute(job) -> dict:
  """Trains one trial (in whatever process runs this); returns a summary.

  Contract violations (a broken submission, missing data) are returned as
  status 'error' -- rerunning would fail the same way. Anything else
  propagates, so Ray can retry the task once.
  """
  from algoperf import registry
  from algoperf import runner
  from algoperf import submission as submission_lib

  try:
    submission = submission_lib.load_submission(job.submission)
    workload = registry.make_workload(job.workload)
    if job.synthetic_data:
      workload.use_synthetic_data(job.synthetic_data)
    result = runner.run_trial(workload, submission, job.config)
  except AlgoperfError as e:
    return _summary(job, records.ERROR, str(e))
  return _summary(job, result.status, result.message, result.global_step)


def _summary(job, status: str, message: str, global_step: int = 0) -> dict:
  return {'label': job.label, 'status': status, 'message': message,
          'global_step': global_step, 'trial_dir': str(job.trial_dir)}


def supervised(job, show_output: bool = False,
               env: dict | None = None) -> dict:
  """``execute(job)`` in a supervised child process (supervisor.py), with
  ``env`` added to its environment."""
  from algoperf import supervisor

  return supervisor.supervise(job, job.grace_sec, show_output, env=env)


def _with_gpus(job, slots: gpu_assign.GpuSlots) -> dict:
  """A pool trial on GPUs of its own (none if it asks for none)."""
  devices = slots.acquire()
  try:
    return supervised(job, env=gpu_assign.trial_env(devices, job.num_gpus))
  finally:
    slots.release(devices)


def _shown(job) -> dict:
  """Supervised, its output and progress on this terminal (`run`)."""
  from algoperf import progress
  from algoperf import supervisor

  with progress.trial_watch(job, job.config.progress) as watch:
    return supervisor.supervise(job, job.grace_sec, show_output=True,
                                watch=watch)


def usable_cpus() -> int:
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:  # Not Linux.
    return os.cpu_count() or 1


def pool_size(num_jobs: int, cpus_per_trial: float,
              max_workers: int | None = None,
              gpu_capacity: int | None = None) -> int:
  """Concurrent trials: never more than the cores (nor the GPUs) allow,
  nor than asked."""
  by_cores = max(int(usable_cpus() // max(cpus_per_trial, 1e-9)), 1)
  size = min(num_jobs, by_cores)
  if gpu_capacity:
    size = min(size, gpu_capacity)
  if max_workers:
    size = min(size, max_workers)
  return max(size, 1)


def run_local(jobs, on_done: Callable, on_tick: Callable = None,
              deadline: float | None = None, run_one: Callable = None,
              ) -> int:
  """One trial after the other (nothing competes for cores), each in a
  supervised child unless ``run_one`` says otherwise.

  Jobs not started by ``deadline`` (a ``time.monotonic()`` value) are left
  for a rerun; returns how many were.
  """
  del on_tick  # The progress display refreshes itself from a thread.
  for position, job in enumerate(jobs):
    if deadline is not None and time.monotonic() > deadline:
      return len(jobs) - position
    on_done(job, (run_one or supervised)(job))
  return 0


def run_pool(jobs, on_done: Callable, on_tick: Callable = None,
             max_workers: int | None = None,
             deadline: float | None = None) -> int:
  """Up to N supervised trials at once, each its own fresh process with
  GPUs of its own (``--num-gpus-per-trial``; algoperf/gpu_assign.py).

  Jobs not started by ``deadline`` (a ``time.monotonic()`` value) are
  cancelled and left for a rerun; returns how many were.
  """
  if not jobs:
    return 0
  slots = gpu_assign.GpuSlots(gpu_assign.host_gpus(), jobs[0].num_gpus)
  size = pool_size(len(jobs), jobs[0].num_cpus, max_workers, slots.capacity)
  cancelled = 0
  with concurrent.futures.ThreadPoolExecutor(size) as pool:
    futures = {pool.submit(_with_gpus, job, slots): job for job in jobs}
    pending = set(futures)
    try:
      cancelled = _collect(futures, pending, on_done, on_tick, deadline)
    except BaseException:  # Ctrl-C: stop every running trial, then go.
      for future in pending:
        future.cancel()
      from algoperf import supervisor

      supervisor.stop_all()
      raise
  return cancelled


def _collect(futures, pending, on_done, on_tick, deadline) -> int:
  """Reports trials as they finish; cancels the unstarted at ``deadline``."""
  cancelled = 0
  while pending:
    done, pending = concurrent.futures.wait(
      pending, timeout=1.0, return_when=concurrent.futures.FIRST_COMPLETED)
    for future in done:
      if future.cancelled():
        continue
      job = futures[future]
      try:
        summary = future.result()
      except Exception as e:  # The supervisor itself failed.
        summary = _summary(job, records.ERROR, _describe_failure(e))
      on_done(job, summary)
    if on_tick is not None:
      on_tick()
    if deadline is not None and time.monotonic() > deadline:
      cancelled += sum(f.cancel() for f in pending)
      pending = {f for f in pending if not f.cancelled()}
      deadline = None
  return cancelled


def _describe_failure(error: BaseException) -> str:
  lines = traceback.format_exception_only(type(error), error)
  return ''.join(lines).strip()


def _ray_execute(job) -> dict:
  """The task's process supervises the trial's, which sees only the GPUs
  Ray gave the task (and no more than its share of one)."""
  import ray

  env = gpu_assign.trial_env(ray.get_gpu_ids(), job.num_gpus)
  return supervised(job, env=env)


def run_ray(jobs, on_done: Callable, on_tick: Callable = None,
            address: str | None = None) -> None:
  """Each trial a Ray task with its CPU/GPU request, retried once on failure.

  Results go to the shared experiment directory; the driver waits on the
  tasks and reports a task that failed twice as an error.
  """
  try:
    import ray
  except ImportError as e:
    raise AlgoperfError(
      "--backend ray needs Ray: pip install -e '.[ray]' (or "
      "'ray[default]').") from e
  if not ray.is_initialized():
    ray.init(address=address, log_to_driver=False,
             include_dashboard=False, configure_logging=False)
  remote = ray.remote(max_retries=1, retry_exceptions=True, max_calls=1)(
    _ray_execute)
  refs = {remote.options(num_cpus=job.num_cpus, num_gpus=job.num_gpus,
                         name=job.label).remote(job): job for job in jobs}
  pending = list(refs)
  while pending:
    done, pending = ray.wait(pending, num_returns=1, timeout=1.0)
    for ref in done:
      job = refs[ref]
      try:
        summary = ray.get(ref)
      except Exception as e:  # Failed, retried once, failed again.
        summary = _summary(job, records.ERROR,
                           'failed twice on Ray: ' + _describe_failure(e))
      on_done(job, summary)
    if on_tick is not None:
      on_tick()


def run_jobs(jobs, backend: str, on_done: Callable, on_tick: Callable = None,
             max_workers: int | None = None,
             address: str | None = None,
             deadline: float | None = None,
             show_output: bool = False) -> int:
  """Runs ``jobs`` on ``backend``; returns how many the deadline left.

  ``show_output``: local trials print to this terminal (`algoperf run`'s
  progress line).
  """
  if backend in (LOCAL, INLINE):
    run_one = execute if backend == INLINE else (
      _shown if show_output else None)
    return run_local(jobs, on_done, on_tick, deadline, run_one)
  if jobs:
    gpu_assign.check_request(jobs[0].num_gpus)
  if backend == POOL:
    return run_pool(jobs, on_done, on_tick, max_workers, deadline)
  if backend != RAY:
    raise AlgoperfError(f'unknown backend {backend!r}; use one of '
                        f'{", ".join(BACKENDS)}.')
  if deadline is not None:
    raise AlgoperfError('a deadline needs the local or pool backend; Ray '
                        'starts every trial at once.')
  run_ray(jobs, on_done, on_tick, address)
  return 0
