"""AdAdaGrad: the norm test against a hand computation, the batch growing
when the test fails, and no compilation when it grows."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algoperf import registry
from algoperf import submission as submission_lib
from reference_algorithms.common import norm_test
from tests.conftest import REPO

ROOT = REPO / 'reference_algorithms' / 'adadagrad'


def _micro_gradients(seed, count):
  rng = np.random.default_rng(seed)
  return [{'w': rng.normal(size=(3, 2)).astype(np.float32) + 0.5,
           'b': rng.normal(size=(2,)).astype(np.float32)}
          for _ in range(count)]


def _hand_statistic(grads):
  """Sample variance of the flattened micro-batch gradients over K, divided
  by K ||mean||^2, written out term by term."""
  flat = [np.concatenate([g['w'].ravel(), g['b'].ravel()]).astype(np.float64)
          for g in grads]
  count = len(flat)
  mean = sum(flat) / count
  variance = sum(float(np.sum((g - mean) ** 2)) for g in flat) / (count - 1)
  return variance / (count * float(np.sum(mean**2))), mean


@pytest.mark.parametrize('count', [2, 3, 7])
def test_the_statistic_is_the_sample_variance_over_k_times_the_norm(count):
  grads = _micro_gradients(count, count)
  accumulator = norm_test.zero_accumulator(grads[0])
  for g in grads:
    accumulator = norm_test.add_micro_batch(accumulator, g, 0.0)
  mean, statistic, _ = norm_test.statistic(accumulator[0], accumulator[1],
                                           count)
  expected, expected_mean = _hand_statistic(grads)
  assert float(statistic) == pytest.approx(expected, rel=1e-4)
  got_mean = np.concatenate([np.ravel(mean['w']), np.ravel(mean['b'])])
  np.testing.assert_allclose(got_mean, expected_mean, rtol=1e-5)


def test_the_next_count_is_the_smallest_that_passes():
  # T = 0.3 at K = 4 fails eta = 0.5 (0.3 > 0.25): K' = ceil(4 * 0.3 / 0.25).
  assert int(norm_test.next_count(0.3, 4, 0.5, 2, 64)) == math.ceil(4.8)
  assert int(norm_test.next_count(0.2, 4, 0.5, 2, 64)) == 4  # Passes: keep.
  assert int(norm_test.next_count(30.0, 4, 0.5, 2, 64)) == 64  # The cap.
  # At the new K, the same variance passes: s^2 / (K' ||g||^2) <= eta^2.
  count = int(norm_test.next_count(0.3, 4, 0.5, 2, 64))
  assert 4 * 0.3 / count <= 0.25


def test_adagrad_norm_divides_by_the_root_of_the_summed_squared_norms():
  tx = norm_test.adagrad_norm(learning_rate=0.5, initial_accumulator=0.1)
  params = {'w': jnp.zeros(3)}
  state = tx.init(params)
  total = 0.1**2
  for g in ([3.0, 0.0, 4.0], [1.0, 2.0, 2.0]):
    updates, state = tx.update({'w': jnp.asarray(g)}, state, params)
    total += sum(x * x for x in g)
    np.testing.assert_allclose(updates['w'], -0.5 * np.asarray(g)
                               / math.sqrt(total), rtol=1e-6)


def _run(num_steps, hyperparameters, num_examples):
  """Trains through the submission's own functions; per step, the number of
  micro-batches drawn and the programs compiled."""
  workload = registry.make_workload('mnist')
  workload.use_synthetic_data(num_examples)
  submission = submission_lib.load_submission(ROOT)
  rng = jax.random.PRNGKey(0)
  params, model_state = workload.init_model_fn(rng)
  state = submission.init_optimizer_state(workload, params, model_state,
                                          hyperparameters, rng)
  queue = workload._build_input_queue(rng, 'train', None, 16)
  compiled = []
  jax.monitoring.register_event_duration_secs_listener(
    lambda event, _secs, **_: compiled.append(event)
    if event == '/jax/core/compile/backend_compile_duration' else None)
  drawn, compiles = [], []
  for step in range(num_steps):
    before = len(compiled)
    batch = submission.data_selection(workload, queue, state, params,
                                      model_state, hyperparameters, step, rng)
    drawn.append(1 + len(batch['micro_batches']))
    state, params, model_state = submission.update_params(
      workload, params, None, model_state, hyperparameters, batch, None,
      state, [], step, jax.random.fold_in(rng, step))
    jax.block_until_ready(params)
    compiles.append(len(compiled) - before)
  return drawn, compiles, state


@pytest.mark.slow  # ~10 s idle, 40 s on the loaded 2-core machine.
def test_the_batch_grows_when_the_test_fails_without_compiling():
  # Random labels on 512 examples: gradients of micro-batches disagree, so
  # a strict test (eta 0.1) fails and K grows.
  hp = {'norm_test_eta': 0.1, 'min_micro_batches': 2,
        'max_micro_batches': 12, 'learning_rate': 0.1}
  drawn, compiles, _ = _run(10, hp, 512)
  assert drawn[:2] == [2, 2]  # Decisions reach data_selection two steps on.
  assert max(drawn) > 2, drawn
  # Never shrinks, though K in force lags the decisions by a step.
  assert drawn == sorted(drawn) and max(drawn) <= 12, drawn
  grown = [i for i in range(1, 10) if drawn[i] != drawn[i - 1]]
  assert all(compiles[i] == 0 for i in grown), (drawn, compiles)
  assert sum(compiles[2:]) == 0, compiles


@pytest.mark.slow
def test_the_batch_stays_when_the_test_passes():
  # One batch of 16 examples served again and again: every micro-batch
  # gradient is the same, the variance is 0 and the test always passes.
  hp = {'norm_test_eta': 0.1, 'min_micro_batches': 3}
  drawn, _, _ = _run(4, hp, 16)
  assert drawn == [3, 3, 3, 3]


def test_bad_micro_batch_bounds_are_named():
  workload = registry.make_workload('mnist')
  submission = submission_lib.load_submission(ROOT)
  with pytest.raises(ValueError, match='min_micro_batches'):
    submission.init_optimizer_state(workload, {}, {},
                                    {'min_micro_batches': 1}, None)


def test_a_passing_test_at_the_lagged_k_never_lowers_the_pending_decision():
  # K in force (2) lags the pending decision (5); a test that passes at
  # K = 2 must keep 5, not shrink the batch back to 2.
  module = submission_lib.load_submission(ROOT).module
  tx = norm_test.adagrad_norm(1.0)
  params = {'w': jnp.ones(3)}
  grad = {'w': jnp.asarray([1.0, 2.0, 3.0])}
  accumulator = norm_test.zero_accumulator(params)
  for _ in range(2):  # Two equal micro-batch gradients: variance 0.
    accumulator = norm_test.add_micro_batch(accumulator, grad, 0.0)
  counts = {'ready': jnp.asarray(2), 'pending': jnp.asarray(5)}
  _, _, new_counts, metrics = module._apply(
    tx.update, params, tx.init(params), counts, accumulator, 2, 0.5, 2, 16)
  assert float(metrics['norm_test_statistic']) == 0.0
  assert int(new_counts['ready']) == 5
  assert int(new_counts['pending']) == 5
