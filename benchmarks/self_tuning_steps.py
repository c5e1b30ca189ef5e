"""reference_algorithms/nadamw's own ``init_optimizer_state`` /
``update_params`` driven through a workload's input queue, without the
runner: the training loop of the family probes (espeak_conformer_probe,
movielens_dlrm_probe), which evaluate in their own ways in between.

Train seconds (wall and process CPU) include compilation and exclude what
the caller does between steps, as the harness's clock does.
"""

import dataclasses
import time

import jax

from algoperf import submission as submission_lib

NADAMW = 'reference_algorithms/nadamw'


@dataclasses.dataclass
class Progress:
  step: int  # Steps done.
  params: object
  model_state: object
  train_s: float
  train_cpu_s: float
  first_step_s: float  # Wall seconds of step 1 (it compiles).
  first_step_cpu_s: float


def train(workload, steps: int, seed: int, data_dir=None,
          hyperparameters=None):
  """Yields a ``Progress`` after every step; None hyperparameters: the
  self-tuning defaults."""
  submission = submission_lib.load_submission(NADAMW)
  data_rng, opt_rng, model_rng, step_rng = jax.random.split(
    jax.random.PRNGKey(seed), 4)
  params, model_state = workload.init_model_fn(model_rng)
  optimizer_state = submission.init_optimizer_state(
    workload, params, model_state, hyperparameters, opt_rng)
  queue = workload._build_input_queue(data_rng, 'train', data_dir,
                                      workload.default_batch_size)
  types = workload.model_params_types
  progress = Progress(0, params, model_state, 0.0, 0.0, 0.0, 0.0)
  try:
    for step in range(steps):
      start, cpu_start = time.perf_counter(), time.process_time()
      optimizer_state, params, model_state = submission.update_params(
        workload, params, types, model_state, hyperparameters, next(queue),
        workload.loss_type, optimizer_state, [], step,
        jax.random.fold_in(step_rng, step))
      jax.block_until_ready(params)
      progress.step, progress.params = step + 1, params
      progress.model_state = model_state
      progress.train_s += time.perf_counter() - start
      progress.train_cpu_s += time.process_time() - cpu_start
      if step == 0:
        progress.first_step_s = progress.train_s
        progress.first_step_cpu_s = progress.train_cpu_s
      yield progress
  finally:
    queue.close()
