"""Every schedule is >= 0, peaks where it should and reaches its end value."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from reference_algorithms import schedules
from reference_algorithms.common import hyperparameters as hparams_lib

PEAK = 0.5
T = 1000
W = 100


def _values(schedule, steps):
  # Optax schedules are elementwise: one call for every step at once.
  values = np.asarray(jax.jit(schedule)(jnp.arange(steps + 1)), np.float64)
  return np.broadcast_to(values, (steps + 1,))


# name -> (schedule, step of the peak, last step, value at the last step)
CASES = {
  'constant': (schedules.constant(PEAK), 0, T, PEAK),
  'linear_warmup': (schedules.linear_warmup(PEAK, W), W, T, PEAK),
  'linear_decay': (schedules.linear_decay(PEAK, T), 0, T, 0.0),
  'cosine_decay': (schedules.cosine_decay(PEAK, T), 0, T, 0.0),
  'cosine_decay_end': (schedules.cosine_decay(PEAK, T, 0.05), 0, T, 0.05),
  'inverse_sqrt': (schedules.inverse_sqrt_decay(PEAK, W), 0, 3 * W, PEAK * 0.5),
  'warmup_cosine': (schedules.warmup_cosine(PEAK, W, T), W, T, 0.0),
  'warmup_linear_decay': (schedules.warmup_linear_decay(PEAK, W, T), W, T, 0.0),
  'wsd_linear': (schedules.warmup_stable_decay(PEAK, W, T, 200), W, T, 0.0),
  'wsd_1-sqrt': (
    schedules.warmup_stable_decay(PEAK, W, T, 200, '1-sqrt'),
    W,
    T,
    0.0,
  ),
  'wsd_cosine': (
    schedules.warmup_stable_decay(PEAK, W, T, 200, 'cosine'),
    W,
    T,
    0.0,
  ),
  'infinite': (
    schedules.with_warmup(schedules.infinite(PEAK, 0.1, 200, 700, 200), W),
    W,
    W + 900,
    0.0,
  ),
  'rewarm': (
    schedules.rewarm(
      schedules.warmup_cosine(PEAK, W, 500),
      400,
      W,
      schedules.linear_decay(PEAK, 500),
    ),
    W,
    1000,
    0.0,
  ),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_non_negative_peak_and_end(name):
  schedule, peak_step, last, end_value = CASES[name]
  values = _values(schedule, last)
  assert values.min() >= 0.0
  assert values.max() == pytest.approx(PEAK, rel=1e-6)
  assert values[peak_step] == pytest.approx(PEAK, rel=1e-6)
  assert values[last] == pytest.approx(end_value, abs=1e-6)


def test_warmup_composes_with_any_decay():
  for decay in (
    schedules.linear_decay(PEAK, T),
    schedules.cosine_decay(PEAK, T),
    schedules.stable_decay(PEAK, T, 100, '1-sqrt'),
  ):
    values = _values(schedules.with_warmup(decay, W), W + T)
    assert values[0] == 0.0
    np.testing.assert_allclose(
      values[: W + 1], np.linspace(0, PEAK, W + 1), rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(values[W:], _values(decay, T), rtol=1e-5)


def test_no_warmup_returns_the_schedule_itself():
  decay = schedules.linear_decay(PEAK, T)
  assert schedules.with_warmup(decay, 0) is decay


def test_linear_decay_is_one_minus_t_over_T():
  values = _values(schedules.linear_decay(PEAK, T), T)
  np.testing.assert_allclose(
    values, PEAK * (1 - np.arange(T + 1) / T), atol=1e-7
  )


def test_wsd_is_constant_until_cooldown_and_1_sqrt_shape():
  values = _values(schedules.stable_decay(PEAK, T, 200, '1-sqrt'), T)
  assert np.all(values[:801] == pytest.approx(PEAK))
  s = (np.arange(800, T + 1) - 800) / 200
  np.testing.assert_allclose(values[800:], PEAK * (1 - np.sqrt(s)), atol=1e-6)


def test_infinite_holds_constant_between_decay_and_anneal():
  values = _values(schedules.infinite(PEAK, 0.1, 200, 700, 200), 900)
  assert values[0] == pytest.approx(PEAK)
  assert np.all(np.isclose(values[200:701], 0.1))
  assert np.all(np.diff(values[700:]) <= 1e-9)


def test_rewarm_restarts_from_where_the_first_run_stopped():
  first = schedules.warmup_cosine(PEAK, W, 500)
  schedule = schedules.rewarm(first, 400, W, schedules.linear_decay(PEAK, 500))
  values = _values(schedule, 1000)
  np.testing.assert_allclose(values[:400], _values(first, 399), rtol=1e-6)
  assert values[400] == pytest.approx(float(first(400)), rel=1e-5)
  assert values[400 + W] == pytest.approx(PEAK)
  assert np.all(np.diff(values[400 : 400 + W + 1]) > 0)


def test_unknown_cooldown_shape_is_rejected():
  with pytest.raises(ValueError, match='cooldown shape'):
    schedules.cooldown(PEAK, 10, 'exp')


@pytest.mark.parametrize('name', hparams_lib.SCHEDULE_NAMES)
def test_named_schedules_from_hyperparameters(name):
  hp = hparams_lib.resolve(
    {'schedule': name}, {'learning_rate': PEAK, 'warmup_factor': 0.1}
  )
  values = _values(hparams_lib.learning_rate_schedule(hp, T), T)
  assert values[0] == 0.0 and values.min() >= 0.0
  assert values[W] == pytest.approx(PEAK, rel=1e-6)
  if name in ('cosine', 'linear', 'wsd_linear', 'wsd_1-sqrt'):
    assert values[T] == pytest.approx(0.0, abs=1e-6)


def test_step_hint_factor_scales_the_schedule():
  hp = hparams_lib.resolve(
    {'step_hint_factor': 0.5}, {'learning_rate': PEAK, 'warmup_factor': 0.0}
  )
  values = _values(hparams_lib.learning_rate_schedule(hp, T), T)
  assert values[T // 2] == pytest.approx(0.0, abs=1e-7)
  assert values[T // 2 - 1] > 0.0


def test_unknown_schedule_name_lists_the_valid_ones():
  hp = hparams_lib.resolve({'schedule': 'cosin'}, {'learning_rate': PEAK})
  with pytest.raises(ValueError, match='cosine'):
    hparams_lib.learning_rate_schedule(hp, T)


def test_resolve_overrides_defaults_and_accepts_namedtuples():
  defaults = {'learning_rate': 1.0, 'beta2': 0.9}
  point = hparams_lib.resolve({'learning_rate': 2.0}, defaults)
  assert point.learning_rate == 2.0 and point.beta2 == 0.9
  again = hparams_lib.resolve(point, {'warmup_factor': 0.1})
  assert again.learning_rate == 2.0 and again.warmup_factor == 0.1
  assert hparams_lib.resolve(None, defaults)._asdict() == defaults
