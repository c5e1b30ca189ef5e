"""One compile of an AlgoPerf-style train step per trial.

AlgoPerf's baselines build their optimizer state on one device and jit the
train step with replicated shardings; the step's outputs live on the mesh,
so unless the harness places the initial state there too, the second step
sees new input shardings and compiles again (on the submission's clock).
The compile log (``jax.log_compiles``) counts the step's compilations.
"""

import logging

import jax

from algoperf import runner
from algoperf import submission_calls as calls_lib
from tests.conftest import load_fixture_submission

_COMPILE_LOGGER = 'jax._src.interpreters.pxla'
_TRAIN_STEP = 'Compiling jit(train_step)'


def _count_train_step_compiles(caplog, train) -> int:
  caplog.set_level(logging.WARNING, logger=_COMPILE_LOGGER)
  caplog.clear()
  with jax.log_compiles():
    train()
  return sum(r.getMessage().startswith(_TRAIN_STEP) for r in caplog.records
             if r.name == _COMPILE_LOGGER)


def test_a_trial_compiles_the_train_step_once(mnist_synthetic,
                                              experiment_dir, caplog):
  config = runner.RunConfig(
    experiment_dir=str(experiment_dir), experiment_name='compiles',
    progress=False, max_steps=5, eval_every_steps=100,
    checkpoint_every_sec=None)
  mnist_synthetic.override_facts(max_allowed_runtime_sec=10**9)

  def train():
    result = runner.run_trial(mnist_synthetic, load_fixture_submission(),
                              config)
    assert result.global_step == 5

  compiles = _count_train_step_compiles(caplog, train)
  assert compiles == 1, (
    f'{compiles} compilations of the train step in 5 steps; the harness '
    'must hand update_params an optimizer state placed like its outputs')


def test_the_unplaced_state_of_an_algoperf_submission_compiles_twice(
    mnist_synthetic, caplog):
  """Why the harness places the state: the same calls without it."""
  submission = load_fixture_submission()
  workload = mnist_synthetic
  rng = jax.random.PRNGKey(0)
  params, model_state = workload.init_model_fn(rng)
  calls = calls_lib.SubmissionCalls(submission, workload, None)
  queue = workload._build_input_queue(rng, 'train', None, 16)

  def train():
    state = calls_lib.State(
      submission.init_optimizer_state(workload, params, model_state, None,
                                      rng), params, model_state)
    for step in range(3):
      state = calls_lib.State(*calls.update_params(
        state, next(queue), [], step, rng, dict))

  assert _count_train_step_compiles(caplog, train) == 2
