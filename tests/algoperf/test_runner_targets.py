"""AlgoPerf's stopping rule: a target once met stays met.

The workload's evals are scripted (each returns the next of a list of
results) so that the validation target is met at one eval and the test
target at another; the runner under test is the real one.
"""

import dataclasses
import pathlib

import pytest

from algoperf import records
from algoperf import runner
from tests.conftest import load_fixture_submission

MET = 0.99  # Above mnist's targets (accuracy, maximised).
MISSED = 0.5


def _result(validation: float, test: float) -> dict:
  return {'train/accuracy': 0.9, 'train/loss': 0.1,
          'validation/accuracy': validation, 'validation/loss': 0.1,
          'test/accuracy': test, 'test/loss': 0.1}


def _run(workload, experiment_dir, scripted: list, **config):
  """Trains with one eval per step; the evals return ``scripted`` in turn."""
  results = iter(scripted)
  workload.eval_model = lambda *args, **kwargs: next(results)
  workload.override_facts(max_allowed_runtime_sec=10**9)
  states = []
  base = load_fixture_submission()

  def update_params(*args, train_state=None, **kwargs):
    states.append(dict(train_state))
    return base.update_params(*args, **kwargs)

  submission = dataclasses.replace(base, update_params=update_params,
                                   wants_train_state=True)
  result = runner.run_trial(workload, submission, runner.RunConfig(
    experiment_dir=str(experiment_dir), experiment_name='targets',
    progress=False, eval_every_steps=1, checkpoint_every_sec=None, **config))
  return result, states


def test_validation_then_test_at_a_later_eval_is_target_reached(
    mnist_synthetic, experiment_dir):
  result, states = _run(mnist_synthetic, experiment_dir, [
    _result(MISSED, MISSED), _result(MET, MISSED), _result(MISSED, MISSED),
    _result(MISSED, MET), _result(MET, MET)])
  assert result.status == records.TARGET_REACHED
  assert result.num_evals == 4 and result.global_step == 4
  assert 'validation/accuracy 0.9900 met target' in result.message
  assert 'at eval 2 (step 2)' in result.message
  assert 'at eval 4 (step 4)' in result.message
  assert 'both targets met by step 4' in result.message
  status = records.read_json(pathlib.Path(result.trial_dir) / records.STATUS)
  assert status['message'] == result.message
  # What update_params saw: the flags as AlgoPerf's train_state has them.
  flags = [(s['validation_goal_reached'], s['test_goal_reached'])
           for s in states]
  assert flags == [(False, False), (False, False), (True, False),
                   (True, False)]


@pytest.mark.parametrize('scripted, note', [
  ([_result(MET, MISSED)] * 3,
   'validation/accuracy 0.9900 met target {validation} at eval 1 (step 1); '
   'test/accuracy never met target {test}.'),
  ([_result(MISSED, MISSED), _result(MISSED, MET), _result(MISSED, MISSED)],
   'validation/accuracy never met target {validation}; test/accuracy 0.9900 '
   'met target {test} at eval 2 (step 2).'),
])
def test_a_run_that_meets_one_target_says_which_eval_did(
    mnist_synthetic, experiment_dir, scripted, note):
  result, _ = _run(mnist_synthetic, experiment_dir, scripted, max_steps=3)
  assert result.status == records.MAX_STEPS
  note = note.format(validation=mnist_synthetic.validation_target_value,
                     test=mnist_synthetic.test_target_value)
  assert result.message == f'Reached --max-steps 3. {note}'
