"""Each trial in a supervised child process (issue 16, items 1 and 2):
every way the child ends is a status, a one-line reason and an exit code.

Each case starts a JAX process, so most are slow; three stay in the fast
suite, one per outcome kind."""

import dataclasses
import json
import signal
import threading
import time

import pytest

from algoperf import exit_codes
from algoperf import records
from algoperf import study
from algoperf import submission as submission_lib
from algoperf import supervisor
from algoperf.errors import SubmissionError
from tests.conftest import ALGOPERF_STYLE

SOURCE = ALGOPERF_STYLE.joinpath('submission.py').read_text()
UPDATE = '  optimizer_state, opt_update_fn = optimizer_state\n'
INIT = '  del model_params, model_state, rng\n'
SELECT = '  return next(input_queue)\n'
PREPARE = '  del eval_results, global_step, rng\n'
HANG = '  while True:\n    pass\n'


def _submission(tmp_path, marker, code, top=''):
  assert marker in SOURCE
  directory = tmp_path / 'sub'
  directory.mkdir(exist_ok=True)
  directory.joinpath('submission.py').write_text(
    top + SOURCE.replace(marker, code + marker, 1))
  return directory


def _job(tmp_path, directory, budget_multiplier=3.0, max_steps=4):
  spec = study.StudySpec(
    submission=str(ALGOPERF_STYLE), workloads=('mnist',),
    experiment_dir=str(tmp_path / 'exp'), name='sup', ruleset='self',
    max_steps=max_steps, synthetic_data=16, checkpoint_every_sec=None,
    grace_sec=0.5)
  [job] = study.plan_trials(spec, submission_lib.load_submission(
    ALGOPERF_STYLE))
  return dataclasses.replace(job, submission=str(directory / 'submission.py'),
                             config=dataclasses.replace(
                               job.config,
                               budget_multiplier=budget_multiplier))


def _status(job):
  return json.loads((job.trial_dir / records.STATUS).read_text())


# case -> (marker, code, top of file, status, exit code, message fragment).
CASES = {
  'sys_exit_0_in_update_params': (UPDATE, '  import sys; sys.exit(0)\n', '',
                                  records.ERROR, exit_codes.SUBMISSION,
                                  'called sys.exit(0)'),
  'os__exit_0_in_update_params': (UPDATE, '  import os; os._exit(0)\n', '',
                                  records.FAILED, exit_codes.SUBMISSION,
                                  'exited with code 0'),
  'hang_in_update_params': (UPDATE, HANG, '', records.TIMEOUT,
                            exit_codes.TIMEOUT,
                            'update_params at step 0 did not return'),
  'sys_exit_1_in_data_selection': (SELECT, '  raise SystemExit(1)\n', '',
                                   records.ERROR, exit_codes.SUBMISSION,
                                   'called sys.exit(1)'),
  'hang_in_init_optimizer_state': (INIT, HANG, '', records.TIMEOUT,
                                   exit_codes.TIMEOUT,
                                   'init_optimizer_state did not return'),
  'hang_in_data_selection': (SELECT, HANG, '', records.TIMEOUT,
                             exit_codes.TIMEOUT,
                             'data_selection at step 0 did not return'),
  'hang_in_prepare_for_eval': (PREPARE, HANG, '', records.TIMEOUT,
                               exit_codes.TIMEOUT,
                               'prepare_for_eval at step 1 did not return'),
  'sleep_past_budget_in_update_params': (
    UPDATE, '  __import__("time").sleep(3600)\n', '', records.TIMEOUT,
    exit_codes.TIMEOUT, 'did not return'),
  'keyboard_interrupt_in_update_params': (
    UPDATE, '  raise KeyboardInterrupt\n', '', records.FAILED,
    exit_codes.SUBMISSION, 'before the trial finished'),
  'segfault_in_update_params': (
    UPDATE, '  import ctypes; ctypes.string_at(0)\n', '', records.FAILED,
    exit_codes.SUBMISSION, 'killed by SIGSEGV'),
  'abort_in_update_params': (UPDATE, '  import os; os.abort()\n', '',
                             records.FAILED, exit_codes.SUBMISSION,
                             'killed by SIGABRT'),
  'memory_error_in_update_params': (UPDATE, '  raise MemoryError()\n', '',
                                    records.ERROR, exit_codes.SUBMISSION,
                                    'raised MemoryError'),
  'socket_in_update_params': (
    UPDATE, '  __import__("socket").create_connection(("127.0.0.1", 9))\n',
    '', records.ERROR, exit_codes.SUBMISSION,
    'submissions may not use the network'),
  'subprocess_swallowed_in_init': (
    INIT, '  try:\n    __import__("subprocess").run(["true"])\n'
    '  except PermissionError:\n    pass\n', '', records.ERROR,
    exit_codes.SUBMISSION, 'may not start or signal processes'),
  'kill_self_in_update_params': (
    UPDATE, '  import os, signal; os.kill(os.getpid(), signal.SIGKILL)\n',
    '', records.ERROR, exit_codes.SUBMISSION, 'os.kill'),
  'sys_exit_at_import': ('', '', 'import sys\nsys.exit(0)\n', None,
                         exit_codes.SUBMISSION, 'called sys.exit(0)'),
}
FAST = ('sys_exit_0_in_update_params', 'os__exit_0_in_update_params',
        'hang_in_update_params')


def _check(case, tmp_path):
  marker, code, top, status, exit_code, fragment = CASES[case]
  directory = _submission(tmp_path, marker or UPDATE, code, top)
  # Hangs: a 4 s budget; the rest: no budget to run out on a busy machine.
  hangs = status == records.TIMEOUT
  job = _job(tmp_path, directory, budget_multiplier=2.0 if hangs else 10**6)
  summary = supervisor.supervise(job, grace_sec=0.5)
  assert summary['exit_code'] == exit_code, summary
  assert fragment in summary['message'], summary
  if status is None:
    assert not job.trial_dir.exists()  # Refused before anything was written.
    return
  assert summary['status'] == status
  recorded = _status(job)  # Valid JSON, the same verdict.
  assert recorded['status'] == status and fragment in recorded['message']
  assert not (job.trial_dir / 'checkpoints').exists()


@pytest.mark.parametrize('case', FAST)
def test_item_1_2_child_ending_is_a_status(case, tmp_path):
  _check(case, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize('case', sorted(set(CASES) - set(FAST)))
def test_child_ending_is_a_status(case, tmp_path):
  _check(case, tmp_path)


def test_os__exit_at_import_cannot_end_the_cli(tmp_path):
  """The CLI imports the submission to check its API: os._exit there
  would end the CLI with the submission's status."""
  directory = _submission(tmp_path, UPDATE, '', 'import os\nos._exit(0)\n')
  with pytest.raises(SubmissionError, match='may not end the process'):
    submission_lib.load_submission(directory)


@pytest.mark.slow
def test_item_1_oom_kill_of_the_child_is_a_failure(tmp_path):
  """SIGKILL from outside (what the OOM killer sends): failed, said so."""
  directory = _submission(tmp_path, UPDATE,
                          '  __import__("time").sleep(0.05)\n')
  job = _job(tmp_path, directory, budget_multiplier=10**6, max_steps=10**6)
  results = []
  thread = threading.Thread(
    target=lambda: results.append(supervisor.supervise(job)))
  thread.start()
  deadline = time.monotonic() + 300
  while time.monotonic() < deadline:
    try:
      pid = _status(job)['pid']
      break
    except (OSError, ValueError, KeyError):
      time.sleep(0.1)
  import os

  os.kill(pid, signal.SIGKILL)
  thread.join(timeout=60)
  [summary] = results
  assert summary['status'] == records.FAILED
  assert 'killed by SIGKILL' in summary['message']
  assert 'out-of-memory' in summary['message']
  assert _status(job)['status'] == records.FAILED


def test_a_call_that_raises_leaves_the_heartbeat_call(tmp_path):
  # get_batch_size raising ValueError (AlgoPerf's "use the base workload's
  # size") is caught by the harness; the set-up that follows must not read
  # as that call still running (its time would count toward the budget).
  from algoperf import heartbeat
  from algoperf import sandbox
  from algoperf import trial_child

  beat = heartbeat.Heartbeat(tmp_path / 'beat', create=True)

  def get_batch_size(workload_name):
    raise ValueError(f'unknown workload {workload_name}')

  guarded = trial_child._guarded('get_batch_size', get_batch_size, beat,
                                 sandbox)
  with pytest.raises(ValueError):
    guarded('digits_resnet')
  state = beat.read()
  assert (state['phase'], state['call']) == (heartbeat.IDLE,
                                             'get_batch_size')
  beat.close()
