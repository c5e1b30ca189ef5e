"""AlgoPerf's stopping rule: a target once met stays met; and the CPU
suite's rule that an eval reads the test split once the validation target
is met (``runner.eval_plan``).

The workload's evals are scripted (each eval returns the next of a list of
results, cut to the splits it asks for) so that the validation target is
met at one eval and the test target at another; the runner under test is
the real one.
"""

import dataclasses
import json
import pathlib
import time

import pytest

from algoperf import records
from algoperf import registry
from algoperf import runner
from algoperf import spec
from tests.conftest import load_fixture_submission

MET = 0.99  # Above mnist's targets (accuracy, maximised).
MISSED = 0.5


def _result(validation: float, test: float) -> dict:
  return {'train/accuracy': 0.9, 'train/loss': 0.1,
          'validation/accuracy': validation, 'validation/loss': 0.1,
          'test/accuracy': test, 'test/loss': 0.1}


def _scripted_evals(scripted: list, calls: list, test_pass_seconds=0.0):
  """An eval_model whose evals return ``scripted`` in turn: a call that
  reads the validation split starts the next eval, a test-only call
  (``runner._evaluate``) reads the same eval's test metrics, and takes
  ``test_pass_seconds``."""
  results = iter(scripted)
  current = {}

  def eval_model(*args, splits=spec.EVAL_SPLITS, **kwargs):
    calls.append(tuple(splits))
    if tuple(splits) == ('test',):
      time.sleep(test_pass_seconds)
    if 'validation' in splits:
      current['row'] = next(results)
    return {k: v for k, v in current['row'].items()
            if k.split('/')[0] in splits}

  return eval_model


def _run(workload, experiment_dir, scripted: list, calls=None,
         test_pass_seconds=0.0, **config):
  """Trains with one eval per step; the evals return ``scripted`` in turn.

  Every split at every eval (AlgoPerf's rule) unless ``config`` says
  otherwise.
  """
  config.setdefault('eval_splits', spec.EVAL_SPLITS)
  workload.eval_model = _scripted_evals(
    scripted, [] if calls is None else calls, test_pass_seconds)
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


def _eval_rows(result) -> list:
  return records.read_rows_csv(
    pathlib.Path(result.trial_dir) / records.EVAL_MEASUREMENTS)


def test_the_cpu_suite_reads_the_test_split_from_the_validation_target(
    mnist_synthetic, experiment_dir):
  # Eval 1 would meet the test target, but its test split is not read yet;
  # eval 2 meets the validation target and reads test (missed); eval 3
  # reads test again (met) and the trial stops there.
  calls = []
  result, _ = _run(mnist_synthetic, experiment_dir, [
    _result(MISSED, MET), _result(MET, MISSED), _result(MISSED, MET),
    _result(MET, MET)], calls=calls, eval_splits=None)
  assert result.status == records.TARGET_REACHED
  assert result.num_evals == 3
  assert calls == [('train', 'validation'), ('train', 'validation'),
                   ('test',), ('train', 'validation'), ('test',)]
  rows = _eval_rows(result)
  assert rows[0]['test/accuracy'] is None  # An empty cell: not read.
  assert [r['test/accuracy'] for r in rows[1:]] == [MISSED, MET]
  assert 'test/accuracy 0.9900 met target' in result.message
  assert 'at eval 3 (step 3)' in result.message


def test_the_cpu_suite_reads_the_test_split_at_the_final_eval(
    mnist_synthetic, experiment_dir):
  calls = []
  result, _ = _run(mnist_synthetic, experiment_dir,
                   [_result(MISSED, MET)] * 3, calls=calls, eval_splits=None,
                   max_steps=2)
  assert result.status == records.MAX_STEPS
  assert calls == [('train', 'validation'), ('train', 'validation'),
                   ('test',)]
  assert [r['test/accuracy'] for r in _eval_rows(result)] == [None, MET]


def test_a_seed_rerun_reads_test_at_every_eval_timed_apart(
    mnist_synthetic, experiment_dir):
  """Target setting's seed reruns (``separate_test_eval``): test at every
  eval, in a call of its own whose seconds status.json keeps apart (the
  eval share of a scored run, which reads test once, comes from them)."""
  calls = []
  result, _ = _run(mnist_synthetic, experiment_dir,
                   [_result(MET, MET)] * 3, calls=calls,
                   test_pass_seconds=0.2, eval_splits=None,
                   separate_test_eval=True, stop_at_target=False,
                   max_steps=2)
  assert result.status == records.MAX_STEPS
  # Trains on past the targets, reading test at every eval.
  assert calls == [('train', 'validation'), ('test',)] * 2
  status = json.loads(
    (pathlib.Path(result.trial_dir) / records.STATUS).read_text())
  test_seconds = status['test_eval_seconds']
  eval_seconds = status['accumulators']['accumulated_eval_time']
  assert test_seconds >= 2 * 0.2
  # The rest of the eval clock (train and validation, ~0 s) is not in it.
  assert eval_seconds - test_seconds < 0.2


def test_a_run_that_reads_no_test_split_says_so(mnist_synthetic,
                                                 experiment_dir):
  """A tuning run (train and validation only) did not miss the test
  target: its message must not say it did."""
  calls = []
  result, _ = _run(mnist_synthetic, experiment_dir,
                   [_result(MET, MET)] * 2, calls=calls,
                   eval_splits=['train', 'validation'], max_steps=2)
  assert calls == [('train', 'validation')] * 2
  assert result.status == records.MAX_STEPS
  assert result.message.endswith(
    f'met target {mnist_synthetic.validation_target_value} at eval 1 '
    '(step 1); test split not evaluated.')


def _plan(workload_name: str, **config) -> runner.EvalPlan:
  workload = registry.make_workload(workload_name)
  return runner.eval_plan(workload, runner.RunConfig(
    experiment_dir='unused', experiment_name='unused', **config))


def test_eval_plan_follows_the_suite_unless_the_run_says_otherwise():
  assert registry.suite('cpu').test_evals == 'from_validation_target'
  assert _plan('mnist') == runner.EvalPlan(('train', 'validation'), True)
  # Training on past the targets (target setting's seed reruns): all.
  assert _plan('mnist', stop_at_target=False) == runner.EvalPlan()
  assert _plan('mnist', eval_splits=['train', 'validation']) == (
    runner.EvalPlan(('train', 'validation')))
  assert _plan('mnist', stop_at_target=False, separate_test_eval=True) == (
    runner.EvalPlan(('train', 'validation'), separate_test=True))


def test_eval_model_reads_only_the_splits_asked_for(mnist_synthetic):
  import jax

  params, model_state = mnist_synthetic.init_model_fn(jax.random.PRNGKey(0))
  results = mnist_synthetic.eval_model(
    mnist_synthetic.eval_batch_size, params, model_state,
    jax.random.PRNGKey(1), None, None, 0, splits=('validation',))
  assert set(results) == {'validation/accuracy', 'validation/loss',
                          'validation/num_examples'}
