"""Properties of the reference optimizers, through their submissions."""

import pathlib

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from algoperf import spec
from algoperf import submission as submission_lib
from reference_algorithms.common import batch_norm
from reference_algorithms.common import nadamw
from algoperf import registry

ROOT = pathlib.Path(__file__).resolve().parents[2] / 'reference_algorithms'


def _mnist(step_hint=40):
  workload = registry.make_workload('mnist')
  workload.use_synthetic_data(64)
  workload.override_facts(step_hint=step_hint)
  return workload


def _copy(tree):
  return jax.tree.map(lambda x: np.array(x, copy=True), tree)


class _Trainer:
  """Drives one submission through the harness's calls on synthetic mnist."""

  def __init__(self, name, hyperparameters, step_hint=40):
    self.sub = submission_lib.load_submission(ROOT / name)
    self.workload = _mnist(step_hint)
    self.hp = hyperparameters
    self.rng = jax.random.PRNGKey(0)
    self.params, self.model_state = self.workload.init_model_fn(self.rng)
    self.state = self.sub.init_optimizer_state(
      self.workload, self.params, self.model_state, self.hp, self.rng
    )
    self.queue = self.workload._build_input_queue(self.rng, 'train', None, 16)
    self.step = 0

  def train_step(self):
    self.state, self.params, self.model_state = self.sub.update_params(
      self.workload,
      self.params,
      self.workload.model_params_types,
      self.model_state,
      self.hp,
      next(self.queue),
      self.workload.loss_type,
      self.state,
      [],
      self.step,
      jax.random.fold_in(self.rng, self.step),
    )
    self.step += 1

  def prepare_for_eval(self):
    """As the runner does: what comes back replaces params and state."""
    self.state, self.params, self.model_state = self.sub.prepare_for_eval(
      self.workload,
      self.params,
      self.workload.model_params_types,
      self.model_state,
      self.hp,
      self.workload.loss_type,
      self.state,
      [],
      self.step,
      self.rng,
    )
    return self.params


def test_lion_moves_every_coordinate_by_the_learning_rate():
  learning_rate = 1e-3
  trainer = _Trainer(
    'lion',
    {
      'learning_rate': learning_rate,
      'weight_decay': 0.0,
      'schedule': 'constant',
      'warmup_factor': 0.0,
      'dropout_rate': 0.0,
    },
  )
  for _ in range(2):
    before = _copy(trainer.params)
    trainer.train_step()
    for old, new in zip(
      jax.tree.leaves(before), jax.tree.leaves(trainer.params)
    ):
      np.testing.assert_allclose(
        np.abs(np.asarray(new) - old), learning_rate, rtol=1e-3
      )


def _schedule_free_trainer():
  return _Trainer('schedule_free_adamw', {'warmup_factor': 0.1})


def test_schedule_free_eval_params_are_the_x_sequence():
  # x_T is the average of z_1..z_T weighted by max(lr_1..lr_t)^2 (optax's
  # weight_lr_power = 2), computed here from the z's the state goes through.
  trainer = _schedule_free_trainer()
  weighted_sum, total_weight = None, 0.0
  x = _copy(trainer.params)
  for _ in range(6):
    trainer.train_step()
    opt_state = trainer.state[0].opt_state
    weight = float(opt_state.max_lr) ** 2
    z = _copy(opt_state.z)
    term = jax.tree.map(lambda zi, w=weight: w * zi, z)
    weighted_sum = (
      term if weighted_sum is None else jax.tree.map(np.add, weighted_sum, term)
    )
    total_weight += weight
    if total_weight > 0:
      x = jax.tree.map(lambda s, w=total_weight: s / w, weighted_sum)
  y = _copy(trainer.params)
  eval_params = trainer.prepare_for_eval()
  for expected, got in zip(jax.tree.leaves(x), jax.tree.leaves(eval_params)):
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
  assert any(
    not np.allclose(a, b)
    for a, b in zip(jax.tree.leaves(y), jax.tree.leaves(eval_params))
  )


def test_schedule_free_training_resumes_at_y_after_an_eval():
  uninterrupted = _schedule_free_trainer()
  for _ in range(6):
    uninterrupted.train_step()
  expected = _copy(uninterrupted.prepare_for_eval())

  interrupted = _schedule_free_trainer()
  for _ in range(3):
    interrupted.train_step()
  interrupted.prepare_for_eval()
  interrupted.prepare_for_eval()  # Two evals in a row change nothing.
  for _ in range(3):
    interrupted.train_step()
  got = interrupted.prepare_for_eval()
  for a, b in zip(jax.tree.leaves(expected), jax.tree.leaves(got)):
    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)


def test_sophia_estimates_the_hessian_every_k_steps():
  trainer = _Trainer('sophia', {'hessian_update_interval': 3})
  changed_at = []
  for step in range(7):
    before = _copy(trainer.state[0][0].nu)
    trainer.train_step()
    after = trainer.state[0][0].nu
    if any(
      not np.array_equal(a, b)
      for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after))
    ):
      changed_at.append(step)
  assert changed_at == [0, 3, 6]


def test_nadam_direction_matches_the_formula():
  b1, b2, eps = 0.9, 0.99, 1e-8
  grads = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
  tx = nadamw.scale_by_nadam(b1, b2, eps)
  state = tx.init(jnp.zeros(5))
  m = v = np.zeros(5)
  for t, g in enumerate(grads, start=1):
    update, state = tx.update(jnp.asarray(g), state)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    look_ahead = (b1 * m + (1 - b1) * g) / (1 - b1**t)
    expected = look_ahead / (np.sqrt(v / (1 - b2**t)) + eps)
    np.testing.assert_allclose(update, expected, rtol=1e-5)


class _DenseBatchNorm(nn.Module):
  @nn.compact
  def __call__(self, x, train):
    x = nn.Dense(3)(x)
    return nn.BatchNorm(use_running_average=not train, momentum=0.8)(x)


class _BatchNormWorkload:
  """Just enough of a workload for batch_norm.recompute."""

  def __init__(self):
    self.module = _DenseBatchNorm()

  def model_fn(
    self,
    params,
    batch,
    model_state,
    mode,
    rng,
    update_batch_norm,
    dropout_rate=0.0,
  ):
    del rng, dropout_rate
    train = mode == spec.ForwardPassMode.TRAIN
    variables = {'params': params, **model_state}
    if update_batch_norm:
      out, new_state = self.module.apply(
        variables, batch['inputs'], train=train, mutable=['batch_stats']
      )
      return out, new_state
    return self.module.apply(variables, batch['inputs'], train=train), None


def test_batch_norm_statistics_are_recomputed_at_new_params():
  workload = _BatchNormWorkload()
  rng = np.random.default_rng(0)
  variables = workload.module.init(
    jax.random.PRNGKey(0), jnp.zeros((1, 4)), train=False
  )
  params, model_state = (
    variables['params'],
    {'batch_stats': variables['batch_stats']},
  )
  other_params = jax.tree.map(lambda p: p + 0.5, params)
  batches = [
    {'inputs': jnp.asarray(rng.normal(2.0, 3.0, (16, 4)), jnp.float32)}
    for _ in range(3)
  ]
  got = batch_norm.recompute(
    workload, other_params, model_state, batches, jax.random.PRNGKey(1)
  )
  kernel, bias = (
    other_params['Dense_0']['kernel'],
    other_params['Dense_0']['bias'],
  )
  hidden = [b['inputs'] @ kernel + bias for b in batches]
  expected_mean = np.mean([h.mean(0) for h in hidden], axis=0)
  expected_var = np.mean([h.var(0) for h in hidden], axis=0)
  stats = got['batch_stats']['BatchNorm_0']
  np.testing.assert_allclose(stats['mean'], expected_mean, rtol=1e-4)
  np.testing.assert_allclose(stats['var'], expected_var, rtol=1e-4)


def test_batch_norm_recompute_keeps_stateless_models_unchanged():
  assert batch_norm.recompute(None, {}, None, [{}], None) is None
  assert batch_norm.recompute(None, {}, {'a': 1.0}, [], None) == {'a': 1.0}


@pytest.mark.parametrize('grad_clip', [None, 1e-3])
def test_grad_clip_bounds_the_first_sgd_step(grad_clip):
  learning_rate = 0.5
  trainer = _Trainer(
    'momentum',
    {
      'learning_rate': learning_rate,
      'schedule': 'constant',
      'warmup_factor': 0.0,
      'weight_decay': 0.0,
      'grad_clip': grad_clip,
    },
  )
  before = _copy(trainer.params)
  trainer.train_step()
  step_norm = float(
    optax.tree.norm(
      jax.tree.map(
        lambda new, old: np.asarray(new) - old, trainer.params, before
      )
    )
  )
  if grad_clip is None:
    assert step_norm > 10 * learning_rate * 1e-3
  else:
    assert step_norm <= learning_rate * grad_clip * (1 + 1e-4)
