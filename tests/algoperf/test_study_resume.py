"""Resumable trials: a preempted or SIGKILLed trial continues exactly.

Evals are scheduled by step (``eval_every_steps``) so the resumed run's
evals land on the same steps as the uninterrupted run's, and every
checkpoint is kept (``checkpoint_every_sec=0``).
"""

import dataclasses
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

import pytest

from algoperf import records
from algoperf import runner
from algoperf import trial_checkpoint
from tests.conftest import REPO
from tests.conftest import load_fixture_submission
from tests.conftest import slowed_submission

TIME_COLUMNS = ('accumulated_submission_time', 'accumulated_eval_time',
                'accumulated_logging_time', 'accumulated_checkpoint_time',
                'total_duration', 'score')


class Preempted(BaseException):
  """Not an Exception: the runner does not catch it, like a kill."""


def _config(experiment_dir, name, **kwargs):
  return runner.RunConfig(
    experiment_dir=str(experiment_dir), experiment_name=name, rng_seed=3,
    max_steps=24, eval_every_steps=5, checkpoint_every_sec=0, progress=False,
    **kwargs)


def _rows(trial_dir):
  return records.read_rows_csv(
    pathlib.Path(trial_dir) / records.EVAL_MEASUREMENTS)


def _assert_same_training(resumed, reference, first_resumed_row=None):
  """Steps and metrics equal; clock continues; preemption marks resumed rows.

  ``first_resumed_row``: index of the first row the resumed attempt wrote
  (rows before came from the checkpoint); None: derive it from the rows.
  """
  assert [r['global_step'] for r in resumed] == [
    r['global_step'] for r in reference]
  for got, want in zip(resumed, reference):
    metrics = {k for k in want if k.split('/')[0] in (
      'train', 'validation', 'test')}
    assert metrics and {k: got[k] for k in metrics} == {
      k: want[k] for k in metrics}, got['global_step']
  for column in TIME_COLUMNS:
    values = [r[column] for r in resumed]
    assert values == sorted(values), column
  counts = [r['preemption_count'] for r in resumed]
  if first_resumed_row is None:
    first_resumed_row = counts.index(1)
  assert counts == [0] * first_resumed_row + [1] * (
    len(counts) - first_resumed_row)


def _interrupt_at(step):
  base = load_fixture_submission()
  raised = []

  def update_params(*args, **kwargs):
    if args[9] == step and not raised:  # args[9] is global_step.
      raised.append(step)
      raise Preempted()
    return base.update_params(*args, **kwargs)

  return dataclasses.replace(base, update_params=update_params)


@pytest.mark.parametrize('interrupt_step, first_resumed_row', [
  (13, 3),  # After the checkpoints at steps 1, 6 and 11.
  (0, 0),  # Before the first checkpoint: restarts cleanly.
])
def test_interrupted_trial_resumes_exactly(experiment_dir, interrupt_step,
                                           first_resumed_row):
  def workload():
    from algoperf import registry

    # No budget: the resumed attempt compiles again, which on a loaded
    # machine can spend mnist's 2 s before step 24 (this tests resuming).
    w = registry.make_workload('mnist', max_allowed_runtime_sec=10**9)
    w.use_synthetic_data(64)
    return w

  reference = runner.run_trial(workload(), load_fixture_submission(),
                               _config(experiment_dir, 'reference'))
  submission = _interrupt_at(interrupt_step)
  with pytest.raises(Preempted):
    runner.run_trial(workload(), submission, _config(experiment_dir, 'cut'))
  trial = records.trial_dir(experiment_dir, 'cut', 0, 'mnist', 1)
  saved = trial_checkpoint.load_latest(trial)
  if first_resumed_row:
    assert saved['global_step'] == 11
  else:
    assert saved is None
  resumed = runner.run_trial(workload(), submission,
                             _config(experiment_dir, 'cut'))
  assert resumed.status == records.MAX_STEPS
  _assert_same_training(_rows(trial), _rows(reference.trial_dir),
                        first_resumed_row)
  status = records.read_json(trial / records.STATUS)
  assert status['attempt'] == 1 and status['resumed'] == bool(saved)
  assert status['accumulators']['accumulated_checkpoint_time'] > 0
  assert {'flags_0.json', 'flags_1.json'} <= {p.name for p in trial.iterdir()}
  assert not (trial / trial_checkpoint.CHECKPOINTS).exists()  # Finished.


# --- The kill test: SIGKILL `run_study` processes at random points. ---

# No budget: on a loaded machine mnist's 6 s could end a trial before its
# kill point (each attempt also compiles again).
_DRIVER = r'''
import dataclasses, sys
from algoperf import study, study_backends, study_driver
from algoperf import submission as submission_lib
name, submission, experiment_dir = sys.argv[1:4]
spec = study.StudySpec(
  submission=submission, workloads=('mnist',), experiment_dir=experiment_dir,
  name=name, ruleset='self', rng_seed=5, max_steps=40, eval_every_steps=4,
  checkpoint_every_sec=0, synthetic_data=64)
jobs = tuple(dataclasses.replace(job, config=dataclasses.replace(
  job.config, budget_multiplier=10**6)) for job in study.plan_trials(
    spec, submission_lib.load_submission(submission)))
study_driver.run_trials([study_driver.Plan(spec, jobs)],
                        study_driver.Dispatch(study_backends.LOCAL))
'''
NUM_KILL_POINTS = 5
EVAL_STEPS = list(range(1, 40, 4))  # 1, 5, ..., 37; then the final 40.



def _start(name, submission, experiment_dir):
  env = {**os.environ, 'JAX_PLATFORMS': 'cpu'}
  return subprocess.Popen(
    [sys.executable, '-c', _DRIVER, name, str(submission),
     str(experiment_dir)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
    stderr=subprocess.PIPE, text=True)


def _checkpointed_step(trial):
  try:
    saved = trial_checkpoint.load_latest(trial)
  except (OSError, ValueError):
    return -1  # Being replaced right now.
  return saved['global_step'] if saved else -1


def _reached(process, trial, step) -> bool:
  """The kill point: the trial started (step None) or checkpointed ``step``."""
  if process.poll() is not None:
    return True  # Finished too early: reported by the caller.
  if step is None:
    return (trial / records.STATUS).exists()
  return _checkpointed_step(trial) >= step


def _kill_all_at(runs, timeout=240):
  """SIGKILLs each run ``delay`` s after its kill point, watching all."""
  deadline = time.monotonic() + timeout
  due = {}
  while len(due) < len(runs) or any(p.poll() is None for p, *_ in runs):
    assert time.monotonic() < deadline, 'timed out waiting for kill points'
    now = time.monotonic()
    for i, (process, trial, step, delay) in enumerate(runs):
      if i not in due and _reached(process, trial, step):
        due[i] = now + delay
      if i in due and now >= due[i] and process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL
    time.sleep(0.01)
  for process, *_ in runs:
    assert process.returncode == -signal.SIGKILL, (
      f'a run finished before its kill point: {process.stderr.read()}')


@pytest.mark.slow  # ~13 JAX processes: over a minute on 2 busy cores.
def test_sigkilled_trials_resume_to_the_uninterrupted_result(tmp_path):
  submission = slowed_submission(tmp_path, 0.03)
  experiments = tmp_path / 'exp'
  chooser = random.Random(20261127)
  points = [(chooser.choice(EVAL_STEPS[1:-2]), chooser.uniform(0, 0.1))
            for _ in range(NUM_KILL_POINTS)] + [(None, 0.0)]
  names = [f'kill_{i}' for i in range(len(points))]
  reference = _start('reference', submission, experiments)
  trials = [records.trial_dir(experiments, name, 0, 'mnist', 1)
            for name in names]
  _kill_all_at([(_start(name, submission, experiments), trial, step, delay)
                for name, trial, (step, delay) in zip(names, trials, points)])
  for trial in trials:
    assert records.read_json(trial / records.STATUS)['status'] == 'running'
  # The killed drivers' locks were released by the kernel: rerunning the
  # same command takes them over, says so, and resumes.
  resumed = [_start(name, submission, experiments) for name in names]
  for process in [reference, *resumed]:
    assert process.wait(timeout=300) == 0, process.stderr.read()
  for process in resumed:
    assert 'recovered the lock' in process.stderr.read()
  want = _rows(records.trial_dir(experiments, 'reference', 0, 'mnist', 1))
  assert [r['global_step'] for r in want] == EVAL_STEPS + [40]
  for trial, (step, _) in zip(trials, points):
    got = _rows(trial)
    first_resumed = 0 if step is None else None
    _assert_same_training(got, want, first_resumed)
    if step is not None:  # Resumed from a checkpoint at or after `step`.
      assert got[[r['preemption_count'] for r in got].index(1) - 1][
        'global_step'] >= step
    assert records.read_json(trial / records.STATUS)['status'] == (
      records.MAX_STEPS)
