"""An AlgoPerf-style submission on every registered workload and variant.

AlgoPerf's JAX baselines, and the published submissions written from them,
jit their train step with ``dropout_rate`` and ``label_smoothing`` as traced
arguments, so a workload that branches on either in Python fails on them
(TracerBoolConversionError). The fixture tests/fixtures/algoperf_style is
written that way; it takes 3 steps on every name, called as the runner calls
it (``SubmissionCalls``): compiled and run on the bases, traced by
``jax.eval_shape`` on the variants (which change only model settings),
compiled for those too in the slow suite. Each step's ``model_fn`` and
``loss_fn`` must receive the two rates as tracers.
"""

import jax
import numpy as np
import pytest

from algoperf import registry
from algoperf import submission_calls as calls_lib
from tests.conftest import load_fixture_submission
from tests.contract import twins

# The CPU suite only (the AlgoPerf suite's full-size models would compile
# for minutes here; their families' tests run them at a batch of 2).
NAMES = registry.names('cpu')
STEPS = 3
BATCH = 8
TRACED = ('dropout_rate', 'label_smoothing')


def _record_rates(workload) -> dict:
  """Wraps the workload's model_fn and loss_fn to note what they receive.

  Keeps, per rate, whether each call got a tracer; the workload's own
  functions still do the work.
  """
  seen = {name: [] for name in TRACED}
  model_fn, loss_fn = workload.model_fn, workload.loss_fn

  def recording_model_fn(*args, dropout_rate=0.0, **kwargs):
    seen['dropout_rate'].append(isinstance(dropout_rate, jax.core.Tracer))
    return model_fn(*args, dropout_rate=dropout_rate, **kwargs)

  def recording_loss_fn(*args, label_smoothing=0.0, **kwargs):
    seen['label_smoothing'].append(
      isinstance(label_smoothing, jax.core.Tracer))
    return loss_fn(*args, label_smoothing=label_smoothing, **kwargs)

  workload.model_fn = recording_model_fn
  workload.loss_fn = recording_loss_fn
  return seen


def _setup(name):
  workload = registry.make_workload(name)
  workload.use_synthetic_data(2 * BATCH)
  seen = _record_rates(workload)
  calls = calls_lib.SubmissionCalls.create(load_fixture_submission(),
                                           workload, None, None)
  return workload, calls, seen


def _steps(calls, queue, state, rng):
  for step in range(STEPS):
    key = jax.random.fold_in(rng, step)
    batch = calls.data_selection(queue, state, step, key)
    state = calls_lib.State(*calls.update_params(state, batch, [], step, key,
                                                 dict))
  return state


def _assert_rates_traced(name, seen):
  for rate, traced in seen.items():
    assert traced, f'{name}: the train step never passed {rate}'
    assert all(traced), (
      f'{name}: {rate} reached the workload as a Python value; the fixture '
      'passes it as a traced jit argument')


@pytest.mark.parametrize('name', twins.synthetic_params(NAMES,
                                                      variants_slow=True))
def test_three_compiled_steps_with_traced_rates(name):
  workload, calls, seen = _setup(name)
  rng = jax.random.PRNGKey(0)
  params, model_state = workload.init_model_fn(rng)
  expected = (calls_lib.tree_signature(params),
              calls_lib.tree_signature(model_state))
  initial = jax.device_get(params)
  state = calls_lib.State(
    calls.init_optimizer_state(params, model_state, rng), params,
    model_state)
  queue = workload._build_input_queue(rng, 'train', None, BATCH)
  state = _steps(calls, queue, state, rng)
  queue.close()
  _assert_rates_traced(name, seen)
  assert not calls_lib.check_update_return(name, state, *expected)
  trained = jax.tree.leaves(jax.device_get(state.params))
  assert all(np.isfinite(leaf).all() for leaf in trained), name
  assert any(not np.array_equal(a, b)
             for a, b in zip(jax.tree.leaves(initial), trained)), (
    f'{name}: three steps left every parameter as it was')


@pytest.mark.parametrize('name', twins.synthetic_params(NAMES))
def test_three_traced_steps_with_traced_rates(name):
  """Every name, cheaply: the same steps under jax.eval_shape."""
  workload, calls, seen = _setup(name)
  rng = jax.random.PRNGKey(0)
  params, model_state = jax.eval_shape(workload.init_model_fn, rng)
  optimizer_state = calls.init_optimizer_state(params, model_state, rng)
  queue = workload._build_input_queue(rng, 'train', None, BATCH)

  def three_steps(params, model_state, opt_state):
    state = calls_lib.State((opt_state, optimizer_state[1]), params,
                            model_state)
    state = _steps(calls, queue, state, rng)
    return state.params, state.model_state

  trained = jax.eval_shape(three_steps, params, model_state,
                           optimizer_state[0])
  queue.close()
  _assert_rates_traced(name, seen)
  assert jax.tree.map(lambda x: (x.shape, x.dtype), trained) == jax.tree.map(
    lambda x: (x.shape, x.dtype), (params, model_state))
