"""Each trial in a child process watched by its supervisor (the CLI).

``supervise(job)`` starts ``python -m algoperf.trial_child`` for one
``study.TrialJob`` and waits for it, reading its heartbeat a few times a
second. Every way the child can end is turned into an outcome:

- it reports one (``result.json``): that outcome, as the runner decided;
- it exits without one (``sys.exit``/``os._exit`` in submission code, a
  crash, a signal such as the OOM killer's SIGKILL): status ``failed`` with
  a one-line reason naming the call it was in;
- a submission call has not returned when the trial's submission time
  reaches the budget plus ``GRACE_SEC`` (a hang, counted as the runner
  counts it: the call's time so far included): the child is killed and the
  status is ``timeout``.

The supervisor writes those statuses itself (``status.json`` stays valid
JSON; earlier evals are kept), and its summary carries the exit status of
algoperf/exit_codes.py.

Before the timed child, a warm-up child (``trial_child --warmup``, same
hang rule) compiles the trial's first steps on random data into the trial's
persistent compilation cache, which every process of the trial uses
(``compilation.cache_env``); the timed child loads those programs instead
of compiling them, and so does a resumed attempt. A warm-up that fails is
only noted (status.json ``warmup``): the timed child meets the same
failure and reports it. The child dies with the supervisor (SIGKILL of the
CLI included), so rerunning the same command resumes from the last
checkpoint. Budgets, resume and the clock self-check are the runner's, in
the child, unchanged; the cost is one process start per trial
(docs/reliability.md has the numbers).
"""

import os
import pathlib
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time

from algoperf import compilation
from algoperf import exit_codes
from algoperf import heartbeat as heartbeat_lib
from algoperf import records
from algoperf import trial_child
from algoperf.records import HARNESS_DIR

# Seconds a submission call may run past the budget before it is stopped.
GRACE_SEC = 30.0
POLL_SEC = 0.1
LOG = 'stderr.log'
# Set on Ctrl-C in a pool: every supervisor ends its child and returns.
_STOP = threading.Event()


def stop_all() -> None:
  """Ends every supervised child of this process (the pool's Ctrl-C)."""
  _STOP.set()


def scratch_dir(job) -> pathlib.Path:
  """The trial's own space: job, heartbeats, results, TMPDIR, the
  compilation cache and the log."""
  c = job.config
  return trial_scratch(pathlib.Path(c.experiment_dir) / c.experiment_name,
                       c.study, job.workload, c.trial)


def trial_scratch(experiment: pathlib.Path, study, workload: str,
                  trial) -> pathlib.Path:
  """``scratch_dir`` of a trial of ``experiment`` (<dir>/<name>)."""
  return (pathlib.Path(experiment) / HARNESS_DIR / 'trials'
          / f'study_{study}' / workload / f'trial_{trial}')


def supervise(job, grace_sec: float = GRACE_SEC,
              show_output: bool = False, watch=None,
              env: dict | None = None) -> dict:
  """Runs ``job`` in a child process; returns its summary (never raises
  for the child's failures). ``show_output``: the child's stdout goes to
  this terminal, else to the log with its stderr. ``watch(state)``: called
  with each heartbeat reading (the progress display, trial_watch.py).
  ``env``: set in the children's environment (its GPUs,
  algoperf/gpu_assign.py)."""
  scratch = scratch_dir(job)
  tmp = scratch / trial_child.TMP
  for name in (trial_child.RESULT, trial_child.WARMUP_RESULT):
    (scratch / name).unlink(missing_ok=True)
  compilation.cache_dir(scratch).mkdir(parents=True, exist_ok=True)
  records.write_atomic_bytes(scratch / trial_child.JOB, pickle.dumps(job))
  log_path = scratch / LOG
  with open(log_path, 'a') as log:
    # The GPUs it was given, for whoever reads the log after an OOM.
    shown = ''.join(f' {k}={v!r}' for k, v in sorted((env or {}).items()))
    log.write(f'--- {time.strftime("%Y-%m-%d %H:%M:%S")} {job.label}'
              f'{shown}\n')
    log.flush()
    if job.warms_up:
      _announce_warm_up(watch)
      _warm_up(scratch, tmp, log, grace_sec, env)
    process, timed_out, state = _child(scratch, tmp, log, grace_sec,
                                       show_output, watch=watch, env=env)
  summary = _summary(job, scratch, process.returncode, timed_out, state,
                     log_path, grace_sec)
  if _finished(job):
    shutil.rmtree(compilation.cache_dir(scratch), ignore_errors=True)
  return summary


def _child(scratch, tmp, log, grace_sec: float, show_output: bool = False,
           warmup: bool = False, watch=None, env: dict | None = None):
  """Runs one child to its end: (process, heartbeat if it hung, the last
  heartbeat)."""
  shutil.rmtree(tmp, ignore_errors=True)
  tmp.mkdir(parents=True)
  name = trial_child.WARMUP_HEARTBEAT if warmup else trial_child.HEARTBEAT
  beat = heartbeat_lib.Heartbeat(scratch / name, create=True)
  try:
    process = _start(scratch, tmp, log, show_output, env or {}, warmup)
    timed_out = _wait(process, beat, grace_sec, watch)
    return process, timed_out, beat.read()
  finally:
    beat.close()
    shutil.rmtree(tmp, ignore_errors=True)


def _warm_up(scratch, tmp, log, grace_sec: float, env: dict | None) -> None:
  """The warm-up child; warmup.json says how it went, whatever happened."""
  started = time.monotonic()
  process, timed_out, state = _child(scratch, tmp, log, grace_sec,
                                     warmup=True, env=env)
  path = scratch / trial_child.WARMUP_RESULT
  try:
    outcome = records.read_json(path)
  except (OSError, ValueError):
    ended = (f'hung in {heartbeat_lib.where(state)}' if timed_out else
             _ended(process.returncode))
    outcome = {'status': records.FAILED, 'message': f'the warm-up process '
               f'{ended} (details: {scratch / LOG})'}
  outcome['process_seconds'] = time.monotonic() - started
  records.write_json(path, outcome)


def _finished(job) -> bool:
  try:
    return records.is_final(records.read_json(job.trial_dir / records.STATUS))
  except (OSError, ValueError):
    return False


def _start(scratch, tmp, log, show_output: bool, extra_env: dict,
           warmup: bool = False) -> subprocess.Popen:
  env = dict(os.environ, **extra_env, TMPDIR=str(tmp),
             **compilation.cache_env(compilation.cache_dir(scratch)),
             **{trial_child.SUPERVISOR_PID: str(os.getpid())})
  args = [sys.executable, '-m', 'algoperf.trial_child', str(scratch)]
  return subprocess.Popen(
    args + [trial_child.WARMUP] * warmup,
    env=env, stdin=subprocess.DEVNULL,
    stdout=None if show_output else log, stderr=log,
    start_new_session=True)  # Its own group: killed as one, no tty SIGINT.


def _wait(process, beat, grace_sec: float, watch=None) -> dict | None:
  """Waits for the child; kills it on a hang. The heartbeat if it hung.

  A hang is a call over the budget plus grace at two readings in a row:
  one reading can catch the child halfway through writing the record.
  """
  overdue = False
  try:
    while process.poll() is None:
      if _STOP.is_set():
        raise KeyboardInterrupt
      state = beat.read()
      watch = _shown(watch, state)
      used = heartbeat_lib.submission_time_now(state, time.monotonic())
      was_overdue = overdue
      overdue = used is not None and used > state['budget'] + grace_sec
      if overdue and was_overdue:
        _kill(process)
        return dict(state, used=used)
      time.sleep(POLL_SEC)
  except BaseException:  # Ctrl-C, SIGTERM: end the child, then go.
    _kill(process, signal.SIGTERM)
    raise
  return None


def _announce_warm_up(watch) -> None:
  """Tells the display (trial_watch.TrialWatch) the warm-up has begun."""
  try:
    getattr(watch, 'warming_up', lambda: None)()
  except Exception:  # noqa: BLE001 -- display only; supervision goes on.
    pass


def _shown(watch, state: dict):
  """Hands ``state`` to the display; a display that fails is dropped
  (its error in the log is no reason to stop supervising the trial)."""
  if watch is None:
    return None
  try:
    watch(state)
  except Exception:  # noqa: BLE001 -- display only; supervision goes on.
    return None
  return watch


def _kill(process, sig=signal.SIGKILL) -> None:
  try:
    os.killpg(process.pid, sig)
  except ProcessLookupError:
    pass
  try:
    process.wait(timeout=10)
  except subprocess.TimeoutExpired:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _summary(job, scratch, returncode, timed_out, state, log_path,
             grace_sec) -> dict:
  base = {'label': job.label, 'trial_dir': str(job.trial_dir),
          'workload': job.workload, 'log': str(log_path)}
  result_path = scratch / trial_child.RESULT
  if timed_out is None and result_path.exists():
    return {**base, 'global_step': 0, **records.read_json(result_path)}
  if timed_out is not None:
    status, reason, code = (records.TIMEOUT, 'timeout', exit_codes.TIMEOUT)
    message = (f'{heartbeat_lib.where(timed_out)} did not return: '
               f'{timed_out["used"]:.0f} s of submission time, over the '
               f'budget of {timed_out["budget"]:.0f} s plus the grace of '
               f'{grace_sec:.0f} s; the trial was stopped.')
  elif returncode == trial_child.RESULT_UNWRITABLE:
    status, reason, code = (records.FAILED, 'no_space',
                            exit_codes.INFRASTRUCTURE)
    message = ('no space left on device for the trial\'s result; free '
               'space and rerun the same command to resume.')
  else:
    status, reason, code = (records.FAILED, _reason(returncode),
                            exit_codes.SUBMISSION)
    message = (f'the trial\'s process {_ended(returncode)} during '
               f'{heartbeat_lib.where(state)}, before the trial finished '
               f'(details: {log_path}).')
  _record(job, status, reason, message)
  return {**base, 'status': status, 'reason': reason, 'message': message,
          'global_step': max(state['step'], 0), 'exit_code': code}


def _reason(returncode: int) -> str:
  return 'signal' if returncode < 0 else 'exit'


def _ended(returncode: int) -> str:
  if returncode < 0:
    name = signal.Signals(-returncode).name
    hint = (' (the kernel\'s out-of-memory killer sends SIGKILL)'
            if -returncode == signal.SIGKILL else '')
    return f'was killed by {name}{hint}'
  return (f'exited with code {returncode} (the submission called sys.exit '
          'or os._exit?)')


def _record(job, status: str, reason: str, message: str) -> None:
  """The supervisor's verdict in status.json, if the trial has one."""
  path = job.trial_dir / records.STATUS
  try:
    recorded = records.read_json(path)
  except (OSError, ValueError):
    return  # Never started: nothing was written, nothing to correct.
  recorded.update({'status': status, 'reason': reason, 'message': message,
                   'updated': time.time()})
  try:
    records.write_json(path, recorded)
  except OSError:
    return  # Disk full: the trial stays 'running' and resumes.
  if records.is_final(recorded):
    shutil.rmtree(job.trial_dir / 'checkpoints', ignore_errors=True)
