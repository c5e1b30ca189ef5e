"""Contract tests run on every directory of reference_algorithms/.

A new reference algorithm (a directory with submission.py) is covered
automatically: it must load through the harness's loader, ship a valid
search space and a README, know AlgoPerf's batch sizes, and train.
"""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algoperf import spec
from algoperf import submission as submission_lib
from algoperf import tuning
from algoperf import registry

ROOT = pathlib.Path(__file__).resolve().parents[2] / 'reference_algorithms'
ALGORITHMS = sorted(p.parent.name for p in ROOT.glob('*/submission.py'))
MAX_SUBMISSION_LINES = 250
NUM_STEPS = 8


def _load(name):
  return submission_lib.load_submission(ROOT / name)


def _defaults(module) -> dict:
  for attribute in ('DEFAULTS', 'SELF_TUNING_DEFAULTS'):
    if hasattr(module, attribute):
      return getattr(module, attribute)
  return {}


def _short_run_workload(name='mnist', step_hint=40):
  """A workload on 64 synthetic examples whose schedule spans 40 steps."""
  workload = registry.make_workload(name)
  workload.use_synthetic_data(64)
  # Warmup and decay fit in a short test.
  workload.override_facts(step_hint=step_hint)
  return workload


def _eval_loss(workload, params, model_state, batch):
  logits, _ = workload.model_fn(
    params,
    batch,
    model_state,
    spec.ForwardPassMode.EVAL,
    jax.random.PRNGKey(0),
    update_batch_norm=False,
  )
  loss = workload.loss_fn(batch['targets'], logits)
  return float(loss['summed'] / loss['n_valid_examples'])


def _train(submission, workload, hyperparameters, num_steps, fixed_batch):
  """Runs the harness's calls in order.

  Returns (optimizer_state, params, model_state, last batch, loss of the
  initial parameters on that batch when ``fixed_batch``, else None).
  """
  rng = jax.random.PRNGKey(0)
  params, model_state = workload.init_model_fn(rng)
  initial_loss = None
  optimizer_state = submission.init_optimizer_state(
    workload, params, model_state, hyperparameters, rng
  )
  queue = workload._build_input_queue(rng, 'train', None, 16)
  extra = {}
  if submission.wants_train_data:  # RS2-style selection by index.
    extra['train_data'] = workload.train_data_view(None)
  batch = None
  for step in range(num_steps):
    if batch is None or not fixed_batch:
      batch = submission.data_selection(
        workload,
        queue,
        optimizer_state,
        params,
        model_state,
        hyperparameters,
        step,
        rng,
        **extra,
      )
      if fixed_batch:
        initial_loss = _eval_loss(workload, params, model_state, batch)
    optimizer_state, params, model_state = submission.update_params(
      workload,
      params,
      workload.model_params_types,
      model_state,
      hyperparameters,
      batch,
      workload.loss_type,
      optimizer_state,
      [],
      step,
      jax.random.fold_in(rng, step),
    )
  if submission.prepare_for_eval is not None:
    optimizer_state, params, model_state = submission.prepare_for_eval(
      workload,
      params,
      workload.model_params_types,
      model_state,
      hyperparameters,
      workload.loss_type,
      optimizer_state,
      [],
      num_steps,
      rng,
    )
  return optimizer_state, params, model_state, batch, initial_loss


def _assert_same_structure_and_finite(workload, params):
  expected = jax.tree.map(lambda s: s.shape_tuple, workload.param_shapes)
  shapes = jax.tree.map(lambda x: tuple(x.shape), params)
  assert shapes == expected
  assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(params))


@pytest.mark.parametrize('name', ALGORITHMS)
def test_directory_is_a_complete_submission(name):
  directory = ROOT / name
  submission = _load(name)
  assert (directory / 'README.md').read_text().strip()
  space = tuning.load_search_space(directory / 'tuning_search_space.json')
  points = space if isinstance(space, list) else [space]
  known = set(_defaults(submission.module))
  for point in points:
    unknown = set(point) - known
    assert not unknown, f'{name}: search space names unknown {unknown}'
  lines = (directory / 'submission.py').read_text().count('\n')
  assert lines < MAX_SUBMISSION_LINES


@pytest.mark.parametrize('name', ALGORITHMS)
def test_batch_sizes_are_algoperf_s(name):
  submission = _load(name)
  assert submission.get_batch_size('mnist') == 16
  assert submission.get_batch_size('imagenet_resnet') == 1024
  with pytest.raises(ValueError, match='no_such_workload'):
    submission.get_batch_size('no_such_workload')


@pytest.mark.parametrize('name', ALGORITHMS)
def test_self_tuning_training_lowers_the_loss_on_mnist(name):
  submission = _load(name)
  workload = _short_run_workload()
  state, params, model_state, batch, before = _train(
    submission, workload, None, NUM_STEPS, fixed_batch=True
  )
  _assert_same_structure_and_finite(workload, params)
  after = _eval_loss(workload, params, model_state, batch)
  assert after < before, f'{name}: loss {before:.4f} -> {after:.4f}'
  assert isinstance(state, tuple)


@pytest.mark.parametrize('name', ALGORITHMS)
def test_first_search_space_point_trains(name):
  submission = _load(name)
  space = tuning.load_search_space(ROOT / name / 'tuning_search_space.json')
  point = tuning.trial_points(space, 1, seed=0)[0]
  hyperparameters = tuning.make_hyperparameters(point)
  workload = _short_run_workload()
  _, params, _, _, _ = _train(
    submission, workload, hyperparameters, 2, fixed_batch=False
  )
  _assert_same_structure_and_finite(workload, params)


OTHER_CPU_WORKLOADS = [w for w in registry.suite().base_workloads
                       if w != 'mnist']


@pytest.mark.slow
@pytest.mark.parametrize('workload_name', OTHER_CPU_WORKLOADS)
@pytest.mark.parametrize('name', ALGORITHMS)
def test_one_step_on_every_cpu_suite_workload(name, workload_name):
  submission = _load(name)
  workload = _short_run_workload(workload_name)
  _, params, model_state, _, _ = _train(
    submission, workload, None, 1, fixed_batch=False
  )
  _assert_same_structure_and_finite(workload, params)
  for leaf in jax.tree.leaves(model_state):
    assert np.all(np.isfinite(np.asarray(leaf)))
