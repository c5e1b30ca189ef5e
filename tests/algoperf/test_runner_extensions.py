"""Our API extensions: train_state, the train_data view, device metrics."""

import dataclasses
import pathlib

import jax.numpy as jnp
import numpy as np

from algoperf import records
from algoperf import runner
from tests.conftest import load_fixture_submission


def _config(experiment_dir, **kwargs):
  return runner.RunConfig(experiment_dir=str(experiment_dir),
                          experiment_name='ext', progress=False, **kwargs)


def test_train_data_view_and_device_metrics(mnist_synthetic, experiment_dir):
  base = load_fixture_submission()
  seen = []

  def data_selection(workload, input_queue, optimizer_state,
                     current_param_container, model_state, hyperparameters,
                     global_step, rng, train_data=None):
    seen.append(train_data.num_examples)
    start = (global_step * 16) % train_data.num_examples
    return train_data.get_batch(np.arange(start, start + 16))

  def update_params(workload, *args, **kwargs):
    out = base.update_params(workload, *args, **kwargs)
    step = args[8]
    workload.metrics_logger.append_device_metrics(
      {'grad_norm_l2': jnp.float32(step), 'grad_norm_l1': jnp.float32(2)},
      step)
    return out

  submission = dataclasses.replace(
    base, data_selection=data_selection, update_params=update_params,
    wants_train_data=True)
  mnist_synthetic.override_facts(eval_every_steps=1)
  result = runner.run_trial(mnist_synthetic, submission,
                            _config(experiment_dir, max_steps=5))
  assert seen == [64] * 5
  norms = records.read_rows_csv(pathlib.Path(result.trial_dir)
                                / records.GRAD_NORMS)
  assert [r['global_step'] for r in norms] == [0, 1, 2, 3, 4]
  assert [r['grad_norm_l2'] for r in norms] == [0, 1, 2, 3, 4]


def test_train_state_is_read_only_and_current(mnist_synthetic,
                                              experiment_dir):
  base = load_fixture_submission()
  states = []

  def update_params(*args, train_state=None, **kwargs):
    states.append(dict(train_state))
    try:
      train_state['accumulated_submission_time'] = 0
      mutated = True
    except TypeError:
      mutated = False
    assert not mutated
    return base.update_params(*args, **kwargs)

  submission = dataclasses.replace(base, update_params=update_params,
                                   wants_train_state=True)
  runner.run_trial(mnist_synthetic, submission,
                   _config(experiment_dir, max_steps=3))
  times = [s['accumulated_submission_time'] for s in states]
  assert times == sorted(times) and times[-1] > 0
