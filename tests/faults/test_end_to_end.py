"""Whole commands under faults: kills, a full disk, a read-only mount,
corrupted data, the umask (issue 16, items 4, 8, 9, 10; acceptance)."""

import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest

from algoperf import exit_codes
from algoperf import records
from tests.algoperf.conftest import run_cli
from tests.conftest import ALGOPERF_STYLE
from tests.conftest import REPO
from tests.conftest import slowed_submission

KILL_SEED = 20261201
NUM_KILLS = 20
MAX_STEPS = 400
EVERY = 10

_DRIVER = r'''
import dataclasses, sys
from algoperf import study, study_backends, study_driver
from algoperf import submission as submission_lib
name, submission, experiment_dir = sys.argv[1:4]
spec = study.StudySpec(
  submission=submission, workloads=('mnist',), experiment_dir=experiment_dir,
  name=name, ruleset='self', rng_seed=5, max_steps=%d, eval_every_steps=%d,
  checkpoint_every_sec=0, synthetic_data=64)
jobs = [dataclasses.replace(job, config=dataclasses.replace(
  job.config, budget_multiplier=10**6))  # No budget: resumes recompile.
  for job in study.plan_trials(spec, submission_lib.load_submission(
    submission))]
outcome = study_driver.run_trials([study_driver.Plan(spec, tuple(jobs))],
                                  study_driver.Dispatch(study_backends.LOCAL))
sys.exit(study_driver.exit_code(outcome.summaries))
'''.replace('%d', str(MAX_STEPS), 1).replace('%d', str(EVERY), 1)



def _start(name, submission, experiments):
  return subprocess.Popen(
    [sys.executable, '-c', _DRIVER, name, str(submission), str(experiments)],
    cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    env={**os.environ, 'JAX_PLATFORMS': 'cpu'})


def _rows(trial):
  try:
    return len(records.read_rows_csv(trial / records.EVAL_MEASUREMENTS))
  except (OSError, ValueError):
    return 0


def _checkpoint_writes(trial) -> set:
  """Orbax's temporary directories: a checkpoint being written."""
  try:
    return {p.name for p in (trial / 'checkpoints').iterdir()
            if 'tmp' in p.name}
  except OSError:
    return set()


def _fired(moment, trial, started, rows_at_start, writes_at_start) -> bool:
  kind, value = moment
  if kind == 'compile':
    return time.monotonic() - started >= value
  if kind == 'eval':
    return _rows(trial) > rows_at_start
  if kind == 'checkpoint':  # A new write, not one a kill left behind.
    return bool(_checkpoint_writes(trial) - writes_at_start)
  return _rows(trial) > rows_at_start and (
    time.monotonic() - started >= value)  # 'step': mid-training.


def _takes_over(submission, experiments) -> bool:
  """The lock a killed command left: the next writer says it took it."""
  from algoperf import experiment_lock

  notes = []
  with experiment_lock.experiment_lock(experiments / 'killed',
                                       notes.append):
    pass
  return any('recovered the lock' in n for n in notes)


def _child_pid(trial):
  try:
    return records.read_json(trial / records.STATUS)['pid']
  except (OSError, ValueError, KeyError):
    return None


def _wait_gone(pid):
  while pid is not None:
    try:
      os.kill(pid, 0)
    except ProcessLookupError:
      return
    time.sleep(0.01)


@pytest.mark.slow
def test_kill_loop_resumes_to_the_unkilled_records(tmp_path):
  """The same command, SIGKILLed at 20 seeded moments and rerun each time,
  ends with the eval records of an unkilled run."""
  print(f'kill loop seed {KILL_SEED}')
  submission = slowed_submission(tmp_path, 0.02)
  experiments = tmp_path / 'exp'
  reference = _start('reference', submission, experiments)
  chooser = random.Random(KILL_SEED)
  kinds = ['compile', 'step', 'eval', 'checkpoint']
  moments = [(kinds[i % 4], chooser.uniform(0.2, 4.0))
             for i in range(NUM_KILLS)]
  chooser.shuffle(moments)
  trial = records.trial_dir(experiments, 'killed', 0, 'mnist', 1)
  kills, recovered = [], 0
  for moment in moments:
    started, rows_at_start = time.monotonic(), _rows(trial)
    writes_at_start = _checkpoint_writes(trial)
    if kills:
      recovered += _takes_over(submission, experiments)
    process = _start('killed', submission, experiments)
    while process.poll() is None and not _fired(
        moment, trial, started, rows_at_start, writes_at_start):
      assert time.monotonic() - started < 300
      time.sleep(0.005)
    pid = _child_pid(trial)
    if process.poll() is not None:
      break  # Finished before this moment: nothing left to kill.
    process.send_signal(signal.SIGKILL)
    process.wait()
    _wait_gone(pid)  # The trial's process dies with its supervisor.
    kills.append((moment[0], _rows(trial)))
  final = _start('killed', submission, experiments)
  assert final.wait(timeout=600) == 0, final.stderr.read()
  assert reference.wait(timeout=600) == 0, reference.stderr.read()
  print(f'kills (moment, eval rows then): {kills}')
  assert len(kills) >= NUM_KILLS // 2, kills
  assert {kind for kind, _ in kills} == set(kinds), kills
  want = records.read_rows_csv(records.trial_dir(
    experiments, 'reference', 0, 'mnist', 1) / records.EVAL_MEASUREMENTS)
  got = records.read_rows_csv(trial / records.EVAL_MEASUREMENTS)
  assert [r['global_step'] for r in want][-1] == MAX_STEPS
  _assert_same_records(got, want)
  assert records.read_json(trial / records.STATUS)['status'] == (
    records.MAX_STEPS)
  assert recovered >= 1  # Reruns said they took over the dead lock.


def _assert_same_records(got, want):
  """Same steps and metrics; clock columns only grow; preemptions counted."""
  assert [r['global_step'] for r in got] == [r['global_step'] for r in want]
  for mine, theirs in zip(got, want):
    metrics = {k for k in theirs if k.split('/')[0] in (
      'train', 'validation', 'test')}
    assert metrics and {k: mine[k] for k in metrics} == {
      k: theirs[k] for k in metrics}, mine['global_step']
  for column in ('accumulated_submission_time', 'total_duration', 'score'):
    values = [r[column] for r in got]
    assert values == sorted(values), column
  counts = [r['preemption_count'] for r in got]
  assert counts == sorted(counts) and counts[-1] >= 1


def _namespace(script: str, *args):
  """Runs ``script`` as root of a fresh user+mount namespace (tmpfs mounts
  without privileges); skips where the kernel does not allow it."""
  if shutil.which('unshare') is None or subprocess.run(
      ['unshare', '-rm', 'true'], check=False).returncode:
    pytest.skip('unshare -rm is not available here')
  return subprocess.run(['unshare', '-rm', 'sh', '-c', script, 'sh', *args],
                        capture_output=True, text=True, cwd=REPO,
                        timeout=900, check=False)


def _cli():
  return f'{sys.executable} -m algoperf.cli'


@pytest.mark.slow
def test_item_9_disk_full_during_a_trial(tmp_path):
  mount = tmp_path / 'small'
  mount.mkdir()
  script = (f'mount -t tmpfs -o size=2m tmpfs "$1" && {_cli()} study '
            f'--workloads mnist --submission {ALGOPERF_STYLE} --ruleset self '
            '--experiment-dir "$1" --name full --synthetic-data 64 '
            '--max-steps 60 --eval-every-steps 2 --checkpoint-every-sec 0 '
            '--no-progress; echo "exit=$?"; '
            'cat "$1"/full/study_0/mnist_jax/trial_1/status.json')
  proc = _namespace(script, str(mount))
  assert f'exit={exit_codes.INFRASTRUCTURE}' in proc.stdout, (
    proc.stdout + proc.stderr)
  assert 'no space left' in proc.stderr and 'Traceback' not in proc.stderr
  status = json.loads(proc.stdout.split('exit=5', 1)[1])
  assert status['status'] == records.FAILED
  assert status['reason'] == 'no_space'


@pytest.mark.slow
def test_item_9_read_only_experiment_dir(tmp_path):
  mount = tmp_path / 'ro'
  mount.mkdir()
  script = (f'mount -t tmpfs tmpfs "$1" && mount -o remount,ro "$1" && '
            f'{_cli()} run --workload mnist --submission {ALGOPERF_STYLE} '
            '--ruleset self --experiment-dir "$1" --name ro '
            '--synthetic-data 8 --max-steps 1 --no-progress; echo "exit=$?"')
  proc = _namespace(script, str(mount))
  assert f'exit={exit_codes.INFRASTRUCTURE}' in proc.stdout, proc.stderr
  assert 'read-only file system' in proc.stderr
  assert 'Traceback' not in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize('damage', ['truncated', 'zeroed'])
def test_item_8_corrupted_data_fails_the_trial_not_running(
    damage, mnist_copy, tmp_path):
  """A size mismatch is refused before anything is written; same-size
  damage surfaces at the first eval: status failed (reason data)."""
  split = next(mnist_copy.glob('mnist_digits/*/*-validation.array_record*'))
  raw = bytearray(split.read_bytes())
  if damage == 'truncated':
    raw = raw[:1000]
  else:
    raw[200:len(raw) - 200] = bytes(len(raw) - 400)
  split.write_bytes(bytes(raw))
  proc = run_cli('run', '--workload', 'mnist', '--submission',
                 ALGOPERF_STYLE, '--ruleset', 'self', '--max-steps', '3',
                 '--experiment-dir', tmp_path / 'exp', '--name', 'c',
                 '--data-dir', mnist_copy, '--no-progress')
  assert proc.returncode == exit_codes.INPUT, proc.stderr
  assert 'algoperf data prepare mnist --force' in proc.stderr
  assert 'Traceback' not in proc.stderr
  status_path = records.trial_dir(tmp_path / 'exp', 'c', 0, 'mnist',
                                  1) / records.STATUS
  if damage == 'truncated':
    assert not status_path.exists()
  else:
    status = records.read_json(status_path)
    assert (status['status'], status['reason']) == (records.FAILED, 'data')


def test_item_10_trial_records_respect_the_umask(tmp_path):
  old = os.umask(0o027)
  try:
    records.write_json(tmp_path / 'status.json', {'status': 'running'})
    records.write_rows_csv(tmp_path / 'eval_measurements.csv', [{'a': 1}])
  finally:
    os.umask(old)
  for name in ('status.json', 'eval_measurements.csv'):
    assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o640
