"""Train a workload's protocol winner to its target; score every example.

What ``scripts/target_resolution.py measure`` runs for one workload: the
tuning winner's hyperparameters (docs/targets/runs/tune/, the protocol's
step 2) trained with one seed, evaluated on the workload's step schedule,
until the validation metric first meets the target (as a scored run
stops) or the target-setting horizon ends; then every validation and test
example is scored alone (``per_example_sums``), for the bootstrap in
``resolution``. The loop calls the submission through the harness's
``SubmissionCalls`` (batch size fallback and all), without the timed
runner: nothing here is a timing, and no score depends on it.
"""

import dataclasses
import functools
import time

import jax
import jax.numpy as jnp
import numpy as np

from algoperf import base_workload
from algoperf import spec
from algoperf import submission as submission_lib
from algoperf import submission_calls
from algoperf import tuning


@dataclasses.dataclass
class Trained:
  params: object
  model_state: object
  step: int
  validation: float  # The target metric at ``step``.
  reached: bool
  train_seconds: float  # Wall, compilation included, evals excluded.


def _per_example_step(workload):
  """Jitted: the workload's ``eval_metrics`` sums of each row alone."""

  def step(params, model_state, batch):
    logits, _ = workload.model_fn(
      params, batch, model_state, spec.ForwardPassMode.EVAL,
      jax.random.PRNGKey(0), update_batch_norm=False)

    def one(logits_row, batch_row):
      # A batch of one row, through the workload's own metric code.
      lift = functools.partial(jax.tree.map, lambda x: x[None])
      return workload.eval_metrics(lift(logits_row), lift(batch_row),
                                   jnp.ones((1,), jnp.float32))

    return jax.vmap(one)(logits, batch)

  return jax.jit(step)


def per_example_sums(workload, params, model_state, split: str,
                     data_dir) -> dict:
  """{eval_metrics key: float64 array, one value per example of split}."""
  arrays = workload.split_arrays(split, data_dir)
  size = getattr(workload, f'num_{split}_examples')
  arrays = {k: arrays[k][:size] for k in workload.input_keys}
  step = _per_example_step(workload)
  parts = {}
  for batch, mask in base_workload.padded_batches(arrays,
                                                  workload.eval_batch_size):
    sums = jax.device_get(step(params, model_state, batch))
    valid = np.asarray(mask) > 0
    for key, values in sums.items():
      parts.setdefault(key, []).append(np.asarray(values, np.float64)[valid])
  return {k: np.concatenate(v) for k, v in parts.items()}


@dataclasses.dataclass
class Start:
  """A submission set up on a workload, before its first step."""

  submission: object
  calls: submission_calls.SubmissionCalls
  state: submission_calls.State
  queue: object  # The training input queue (close it when done).
  step_rng: jax.Array  # Folded with the step number for each step.
  batch_size: int


def begin_training(workload, algorithm_dir, point: dict | None, seed: int,
                   data_dir) -> Start:
  """Loads the submission and initialises the model, the optimizer and
  the input queue as the harness does (its batch size fallback included).
  ``point`` None: the submission's self-tuning defaults."""
  submission = submission_lib.load_submission(algorithm_dir)
  calls = submission_calls.SubmissionCalls.create(
    submission, workload, tuning.make_hyperparameters(point), data_dir)
  batch_size, problems = calls.get_batch_size(len(jax.devices()))
  if problems:
    raise ValueError('; '.join(problems))
  data_rng, opt_rng, model_rng, step_rng = jax.random.split(
    jax.random.PRNGKey(seed), 4)
  params, model_state = workload.init_model_fn(model_rng)
  state = submission_calls.State(
    calls.init_optimizer_state(params, model_state, opt_rng), params,
    model_state)
  queue = workload._build_input_queue(data_rng, 'train', data_dir,
                                      batch_size)
  return Start(submission, calls, state, queue, step_rng, batch_size)


def train_to_target(workload, algorithm_dir, point: dict | None, seed: int,
                    data_dir, max_steps: int, log=print) -> Trained:
  """Trains ``point`` (None: self-tuning defaults) until the target.

  Evaluates the validation split every ``eval_every_steps`` (the
  workload's fact) and stops at the first eval that meets the validation
  target, or after ``max_steps``; then the eval whose metric came
  closest to the target (its best) is returned, so that the SE is still
  measured near the target.
  """
  start = begin_training(workload, algorithm_dir, point, seed, data_dir)
  submission, calls, state, queue, step_rng = (
    start.submission, start.calls, start.state, start.queue, start.step_rng)
  metric = workload.target_metric_name
  every = workload.eval_every_steps
  train_seconds, best = 0.0, None
  try:
    for step in range(1, max_steps + 1):
      start = time.perf_counter()
      rng = jax.random.fold_in(step_rng, step)
      batch = calls.data_selection(queue, state, step - 1, rng)
      state = submission_calls.State(*calls.update_params(
        state, batch, [], step - 1, rng, dict))
      jax.block_until_ready(state.params)
      train_seconds += time.perf_counter() - start
      if step % every and step != max_steps:
        continue
      eval_state = state
      if submission.prepare_for_eval is not None:
        eval_state = submission_calls.State(*calls.prepare_for_eval(
          state, [], step, rng))
      value = workload._eval_model_on_split(
        'validation', workload.num_validation_examples,
        workload.eval_batch_size, eval_state.params, eval_state.model_state,
        None, data_dir)[metric]
      log(f'  {workload.name} step {step}: validation {metric} {value:.4f} '
          f'(target {workload.validation_target_value}) '
          f'train {train_seconds:.1f} s')
      reached = workload.facts.meets(value,
                                     workload.validation_target_value)
      closer = best is None or workload.facts.meets(value, best.validation)
      if reached or closer:
        # On the host: the next train step may donate the device buffers.
        best = Trained(jax.device_get(eval_state.params),
                       jax.device_get(eval_state.model_state), step, value,
                       reached, train_seconds)
      if reached:
        return best
  finally:
    close = getattr(queue, 'close', None)
    if close:
      close()
  best.train_seconds = train_seconds
  return best
