"""Each broken fixture, run by the harness, ends clearly and cleanly.

A good trial 1 is written first; the broken submission then runs as trial
2 of the same experiment. It must end with a SubmissionError naming the
problem or with a status, trial 2's status.json must be valid JSON, and
trial 1's files must be byte-identical afterwards. In-process on synthetic
mnist (run_trial), except the two cases that hang or end the process: those
go through `algoperf run` on real prepared mnist in a subprocess.
"""

import json
import pathlib
import shutil

import pytest

from algoperf import records
from algoperf import runner
from algoperf import submission as submission_lib
from algoperf.errors import SubmissionError
from tests.algoperf.conftest import digest
from tests.algoperf.conftest import run_cli
from tests.conftest import FIXTURES

BROKEN = FIXTURES / 'broken'
SGD = FIXTURES / 'sgd'

# case -> (outcome, fragment): 'load' = load_submission raises,
# 'error' = run_trial raises SubmissionError (status 'error'),
# 'refused' = run_trial raises SubmissionError before trial 2 has a file,
# 'status' = the trial ends with that status (rule breaks the runner
# cannot see; `algoperf validate` flags them).
RUN_OUTCOMES = {
  'syntax_error': ('load', 'syntax error'),
  'missing_function': ('load', 'missing function data_selection'),
  'wrong_signature': ('load', 'takes 4 positional parameters'),
  'extra_required_parameter': ('load', 'extra required parameters'),
  'not_a_function': ('load', 'get_batch_size must be a function'),
  'missing_package': ('load', "No module named 'algoperf_no_such_package'"),
  'raises_at_import': ('load', 'importing the submission raised'),
  'returns_none': ('error', 'expected a tuple'),
  'returns_two_values': ('error', 'expected a tuple'),
  'wrong_pytree': ('error', 'different pytree structure'),
  'wrong_dtype': ('error', 'dtype float16; expected shape (128,) and dtype '
                  'float32'),
  'wrong_shape': ('error', 'with shape (1, 128) and dtype float32; expected '
                  'shape (128,)'),
  'huge_memory': ('error', 'init_optimizer_state raised MemoryError'),
  'raises_in_data_selection': ('error', 'data_selection raised ValueError'),
  'raises_in_init_optimizer_state': ('error',
                                     'init_optimizer_state raised KeyError'),
  'data_selection_returns_none': ('error', 'update_params raised TypeError'),
  'nan_from_step_1': ('status', records.DIVERGED),
  'mutates_batch': ('status', records.MAX_STEPS),
  'wrong_model_state': ('error', 'returned model_state with a different'),
  'data_selection_wrong_dtype': ('status', records.MAX_STEPS),
  'batch_size_not_divisible': ('status', records.MAX_STEPS),  # 1 device.
  'batch_size_not_int': ('refused', "returned 16.0 (float); expected a "
                         'positive int'),
  'branches_on_workload_name': ('status', records.MAX_STEPS),
  'branches_on_workload_class': ('status', records.MAX_STEPS),
  'reads_eval_data': ('status', records.MAX_STEPS),
  'reads_eval_data_hidden': ('status', records.MAX_STEPS),
  'writes_outside': ('status', records.MAX_STEPS),
  'recompiles_every_step': ('status', records.MAX_STEPS),
  'prepare_for_eval_wrong_return': ('error', 'prepare_for_eval'),
  'missing_search_space': ('status', records.MAX_STEPS),  # --ruleset self.
  'bad_search_space': ('status', records.MAX_STEPS),
  'bad_submission_info': ('status', records.MAX_STEPS),
  'bad_requirements': ('status', records.MAX_STEPS),
}
SUBPROCESS_CASES = ('infinite_loop', 'exits_process')
FAST_CASES = ('syntax_error', 'returns_none', 'raises_in_data_selection',
              'nan_from_step_1')


def test_every_fixture_has_an_outcome():
  cases = {p.name for p in BROKEN.iterdir() if (p / 'submission.py').exists()}
  assert cases == set(RUN_OUTCOMES) | set(SUBPROCESS_CASES)


def _config(experiment_dir, trial):
  return runner.RunConfig(experiment_dir=str(experiment_dir),
                          experiment_name='broken', trial=trial,
                          max_steps=3, progress=False)


def _check_case(case, tmp_path, workload):
  copy = tmp_path / 'fixtures' / case
  shutil.copytree(BROKEN / case, copy)  # writes_outside writes next to it.
  experiment_dir = tmp_path / 'experiments'
  good = runner.run_trial(workload, submission_lib.load_submission(SGD),
                          _config(experiment_dir, 1))
  good_dir = pathlib.Path(good.trial_dir)
  before = digest(good_dir)
  outcome, expected = RUN_OUTCOMES[case]
  if outcome == 'load':
    with pytest.raises(SubmissionError, match=None) as raised:
      submission_lib.load_submission(copy)
    assert expected in str(raised.value)
  else:
    submission = submission_lib.load_submission(copy)
    if outcome in ('error', 'refused'):
      with pytest.raises(SubmissionError) as raised:
        runner.run_trial(workload, submission, _config(experiment_dir, 2))
      assert expected in str(raised.value)
    else:
      result = runner.run_trial(workload, submission,
                                _config(experiment_dir, 2))
      assert result.status == expected, result.message
  trial_2 = good_dir.parent / 'trial_2'
  if outcome in ('load', 'refused'):
    assert not trial_2.exists()
  else:
    status = json.loads((trial_2 / records.STATUS).read_text())
    want = records.ERROR if outcome == 'error' else expected
    assert status['status'] == want
  assert digest(good_dir) == before


@pytest.mark.parametrize('case', FAST_CASES)
def test_broken_run_fast(case, tmp_path, mnist_synthetic):
  _check_case(case, tmp_path, mnist_synthetic)


@pytest.mark.slow
@pytest.mark.parametrize('case',
                         sorted(set(RUN_OUTCOMES) - set(FAST_CASES)))
def test_broken_run(case, tmp_path, mnist_synthetic):
  _check_case(case, tmp_path, mnist_synthetic)


@pytest.mark.slow
@pytest.mark.parametrize('case, code, status', [
  ('infinite_loop', 4, records.TIMEOUT),
  ('exits_process', 3, records.FAILED),
])
def test_hanging_or_exiting_run_is_stopped_and_recorded(
    case, code, status, tmp_path, mnist_data_dir):
  """`algoperf run` on real mnist: the supervisor stops a hang at the
  budget plus the grace, and an exit is a failure, never a success."""
  def run(submission, name):
    return run_cli('run', '--workload', 'mnist', '--submission', submission,
                   '--ruleset', 'self', '--max-steps', '3',
                   '--experiment-dir', tmp_path, '--name', name,
                   '--data-dir', mnist_data_dir, '--no-progress',
                   '--grace-sec', '1')

  assert run(SGD, 'good').returncode == 0
  good = records.trial_dir(tmp_path, 'good', 0, 'mnist', 1)
  before = digest(good)
  proc = run(BROKEN / case, 'broken')
  assert proc.returncode == code, proc.stderr
  assert 'Traceback' not in proc.stderr
  broken = records.trial_dir(tmp_path, 'broken', 0, 'mnist', 1)
  recorded = json.loads((broken / records.STATUS).read_text())
  assert recorded['status'] == status
  assert 'update_params' in recorded['message']
  assert digest(good) == before
