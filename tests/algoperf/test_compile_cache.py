"""Compilation off the clock (docs/design.md §6): the warm-up compiles a
supervised trial's programs into its persistent cache, the timed process
loads them, and an attempt resumed after a kill compiles nothing again.

Serial: a few JAX processes one after another (run alone, CI's own step).
"""

import os
import signal
import subprocess
import sys
import time

import pytest

from algoperf import clock
from algoperf import compilation
from algoperf import records
from algoperf import trial_checkpoint
from tests.conftest import REPO
from tests.conftest import slowed_submission

pytestmark = pytest.mark.serial

# One supervised self-tuning mnist trial, warmed up, checkpointed at every
# eval; no budget (this tests compilation, not the budget).
_DRIVER = r'''
import dataclasses, sys
from algoperf import study, study_backends, study_driver
from algoperf import submission as submission_lib
submission, experiment_dir = sys.argv[1:3]
spec = study.StudySpec(
  submission=submission, workloads=('mnist',), experiment_dir=experiment_dir,
  name='cache', ruleset='self', rng_seed=5, max_steps=40, eval_every_steps=4,
  checkpoint_every_sec=0, synthetic_data=64, warmup=True)
jobs = tuple(dataclasses.replace(job, config=dataclasses.replace(
  job.config, budget_multiplier=10**6)) for job in study.plan_trials(
    spec, submission_lib.load_submission(submission)))
study_driver.run_trials([study_driver.Plan(spec, jobs)],
                        study_driver.Dispatch(study_backends.LOCAL))
'''



def _driver(submission, experiment_dir):
  return subprocess.Popen(
    [sys.executable, '-c', _DRIVER, str(submission), str(experiment_dir)],
    cwd=REPO, env={**os.environ, 'JAX_PLATFORMS': 'cpu'},
    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _kill_after_checkpoint(process, trial, step: int, timeout=300) -> None:
  deadline = time.monotonic() + timeout
  while True:
    assert process.poll() is None, process.stderr.read()
    assert time.monotonic() < deadline, 'no checkpoint in time'
    try:
      saved = trial_checkpoint.load_latest(trial)
    except (OSError, ValueError):
      saved = None  # Being replaced right now.
    if saved and saved['global_step'] >= step:
      break
    time.sleep(0.02)
  process.send_signal(signal.SIGKILL)  # The child dies with its parent.
  process.wait()


def _on_clock(measurement: dict) -> dict:
  return measurement['compilation'][clock.SUBMISSION]


def test_a_resumed_trial_compiles_nothing_again(tmp_path):
  experiment_dir = tmp_path / 'exp'
  submission = slowed_submission(tmp_path, 0.03)
  trial = records.trial_dir(experiment_dir, 'cache', 0, 'mnist', 1)
  _kill_after_checkpoint(_driver(submission, experiment_dir), trial, 9)
  killed = records.read_json(trial / records.STATUS)
  assert killed['status'] == records.RUNNING
  # The warm-up compiled the train step; the timed process loaded it.
  assert killed['warmup']['status'] == records.MAX_STEPS
  assert _on_clock(killed['warmup'])['compiled'] >= 1
  [first] = killed['measurements']
  assert _on_clock(first)['compiled'] == 0, first['compilation']
  assert _on_clock(first)['loaded'] >= 1

  resumed = _driver(submission, experiment_dir)
  assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
  status = records.read_json(trial / records.STATUS)
  assert status['status'] == records.MAX_STEPS and status['resumed'] is True
  # The cache outlived the killed attempt: the second warm-up and the
  # resumed timed process both loaded every program, compiling none.
  assert _on_clock(status['warmup'])['compiled'] == 0, status['warmup']
  assert [m['attempt'] for m in status['measurements']] == [0, 1]
  second = status['measurements'][1]
  assert _on_clock(second)['compiled'] == 0, second['compilation']
  assert _on_clock(second)['loaded'] >= 1
  # A finished trial's cache is removed; its log and results stay.
  scratch = (experiment_dir / 'cache' / records.HARNESS_DIR / 'trials'
             / 'study_0' / 'mnist' / 'trial_1')
  assert not compilation.cache_dir(scratch).exists()
  assert (scratch / 'stderr.log').exists()
