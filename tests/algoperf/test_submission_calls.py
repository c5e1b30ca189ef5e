"""SubmissionCalls: AlgoPerf's argument order, our extras, the checks."""

import logging

import flax
import jax
import jax.numpy as jnp
import pytest

from algoperf import registry
from algoperf import submission as submission_lib
from algoperf import submission_calls as calls_lib
from tests.conftest import load_fixture_submission


def _echo_calls(tmp_path, workload, extras: bool):
  """Calls into a real submission whose functions return their arguments."""
  named = {'data_selection': ['train_data'], 'update_params': ['train_state']}
  source = ''.join(
    f'def {name}({", ".join([*params, *(named.get(name, []) * extras)])}):\n'
    '  return dict(locals())\n'
    for name, params in {**submission_lib.REQUIRED,
                         **submission_lib.OPTIONAL}.items())
  (tmp_path / 'submission.py').write_text(source)
  submission = submission_lib.load_submission(tmp_path / 'submission.py')
  return calls_lib.SubmissionCalls.create(submission, workload, 'hparams',
                                          None)


@pytest.mark.parametrize('extras', [False, True])
def test_calls_pass_algoperf_arguments_in_order(tmp_path, mnist_synthetic,
                                                extras):
  w = mnist_synthetic
  w.init_model_fn(jax.random.PRNGKey(0))  # Sets model_params_types.
  calls = _echo_calls(tmp_path, w, extras)
  state = calls_lib.State('opt', 'params', 'model_state')
  asked_for_train_state = []

  def train_state():
    asked_for_train_state.append(True)
    return {'accumulated_submission_time': 1.0}

  assert calls.init_optimizer_state('params', 'model_state', 'rng') == {
    'workload': w, 'model_params': 'params', 'model_state': 'model_state',
    'hyperparameters': 'hparams', 'rng': 'rng'}
  assert (calls.train_data is not None) == extras
  common = {'workload': w, 'optimizer_state': 'opt',
            'current_param_container': 'params', 'model_state': 'model_state',
            'hyperparameters': 'hparams', 'global_step': 3, 'rng': 'rng'}
  selected = calls.data_selection('queue', state, 3, 'rng')
  assert selected == {**common, 'input_queue': 'queue',
                      **({'train_data': calls.train_data} if extras else {})}
  update = {**common, 'current_params_types': w.model_params_types,
            'loss_type': w.loss_type, 'eval_results': ['evals']}
  updated = calls.update_params(state, 'batch', ['evals'], 3, 'rng',
                                train_state)
  assert updated == {**update, 'batch': 'batch', **(
    {'train_state': {'accumulated_submission_time': 1.0}} if extras else {})}
  assert asked_for_train_state == ([True] if extras else [])
  assert calls.prepare_for_eval(state, ['evals'], 3, 'rng') == update


@pytest.mark.parametrize('sizes, expected, asked_for', [
  ({'mnist_relu': 32, 'mnist': 16}, 32, ['mnist_relu']),
  ({'mnist': 16}, 16, ['mnist_relu', 'mnist']),
  ({}, 'default', ['mnist_relu', 'mnist']),
])
def test_batch_size_tries_name_then_base_name_then_default(
    sizes, expected, asked_for, caplog):
  variant, asked = registry.make_workload('mnist_relu'), []

  def get_batch_size(workload_name):
    asked.append(workload_name)
    if workload_name not in sizes:
      raise ValueError(f'Unsupported workload name: {workload_name}.')
    return sizes[workload_name]

  submission = load_fixture_submission(get_batch_size=get_batch_size)
  calls = calls_lib.SubmissionCalls(submission, variant, None)
  with caplog.at_level(logging.WARNING):
    size, problems = calls.get_batch_size(1)
  if expected == 'default':
    expected = variant.default_batch_size
    assert 'using the workload default batch size' in caplog.text
  assert (size, problems, asked) == (expected, [], asked_for)


@pytest.mark.parametrize('value, fragment', [
  (16.0, "get_batch_size('mnist') returned 16.0 (float); expected a "
   'positive int.'),
  (True, "returned True (bool); expected a positive int."),
  (12, "get_batch_size('mnist') returned 12, not a positive multiple of the "
   '8 devices'),
  (0, 'returned 0, not a positive multiple of the 8 devices'),
])
def test_batch_size_problems(value, fragment, mnist_synthetic):
  submission = load_fixture_submission(get_batch_size=lambda name: value)
  calls = calls_lib.SubmissionCalls(submission, mnist_synthetic, None)
  size, problems = calls.get_batch_size(8)
  assert size is None and len(problems) == 1
  assert problems[0].startswith(f'{submission.path}: ')
  assert fragment in problems[0], problems[0]


@pytest.fixture(scope='module')
def mnist_model():
  workload = registry.make_workload('mnist')
  return workload.init_model_fn(jax.random.PRNGKey(0))


def _problems(model, returned) -> list:
  params, model_state = model
  return calls_lib.check_update_return(
    'sub.py: update_params', returned, calls_lib.tree_signature(params),
    calls_lib.tree_signature(model_state))


def test_an_updated_model_of_the_same_shapes_passes(mnist_model):
  params, model_state = mnist_model
  updated = jax.tree.map(lambda p: p - 0.1, params)
  assert _problems(mnist_model, ({'step': 1}, updated, model_state)) == []
  assert _problems(mnist_model, [{}, updated, model_state]) == []


_BROKEN_RETURNS = {
  'none': (lambda p, s: None, 'sub.py: update_params returned NoneType; '
           'expected a tuple (optimizer_state, params, model_state).'),
  'two_values': (lambda p, s: ({}, p), 'returned tuple of length 2; '
                 'expected a tuple'),
  'wrong_shape': (
    lambda p, s: ({}, {**p, 'Dense_0': {**p['Dense_0'], 'bias': jnp.zeros(
      (1, 128))}}, s),
    "returned params['Dense_0']['bias'] with shape (1, 128) and dtype "
    'float32; expected shape (128,) and dtype float32.'),
  'wrong_dtypes': (
    lambda p, s: ({}, jax.tree.map(lambda x: x.astype(jnp.float16), p), s),
    "returned params['Dense_0']['bias'] with shape (128,) and dtype float16;"
    ' expected shape (128,) and dtype float32 (and 5 more leaves).'),
  'missing_leaf': (
    lambda p, s: ({}, {k: v for k, v in p.items() if k != 'Dense_out'}, s),
    'returned params with a different pytree structure: missing '
    '["[\'Dense_out\'][\'bias\']", "[\'Dense_out\'][\'kernel\']"], '
    'unexpected nothing.'),
  'other_containers': (
    lambda p, s: ({}, flax.core.freeze(p), s),
    'returned params with a different pytree structure: the same leaves in '
    'other containers'),
  'model_state': (
    lambda p, s: ({}, p, {'batch_stats': jnp.zeros(3)}),
    'returned model_state with a different pytree structure: missing '
    "nothing, unexpected [\"['batch_stats']\"]."),
}


@pytest.mark.parametrize('case', sorted(_BROKEN_RETURNS))
def test_a_broken_return_is_one_precise_problem(case, mnist_model):
  breaks, message = _BROKEN_RETURNS[case]
  problems = _problems(mnist_model, breaks(*mnist_model))
  assert len(problems) == 1 and message in problems[0], problems
