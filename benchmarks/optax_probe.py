"""One plain optax NAdamW loop that probes how fast a workload's model trains.

Shared by the target probes (digits_baseline.py, nadamw_target_probe.py,
shakespeare_lm_targets.py). They call no submission, so they do not go
through the runner: they train the model through the workload's own input
queue, model_fn and loss_fn with a fixed optimizer, to choose provisional
targets, budgets and step hints. Training time includes compilation and
excludes evaluation, as the harness's clock does.
"""

import dataclasses
import time
from collections.abc import Callable

import jax
import numpy as np
import optax

from algoperf import spec


def add_arguments(parser, *, steps, lr, weight_decay, warmup, eval_every):
  """The flags every probe takes, with that probe's defaults."""
  parser.add_argument('--steps', type=int, default=steps)
  parser.add_argument('--batch-size', '--batch', dest='batch_size', type=int,
                      default=None, help="default: the workload's")
  parser.add_argument('--lr', type=float, default=lr)
  parser.add_argument('--weight-decay', type=float, default=weight_decay)
  parser.add_argument('--warmup', '--warmup-fraction', dest='warmup',
                      type=float, default=warmup,
                      help='linear warmup, a fraction of the cosine length')
  parser.add_argument('--eval-every', type=int, default=eval_every)
  parser.add_argument('--data-dir', default=None)


def nadamw(lr: float, decay_steps: int, warmup: float, b1: float, b2: float,
           weight_decay: float, grad_clip: float = 0.0):
  """NAdamW, linear warmup then cosine decay to 0 over ``decay_steps``."""
  schedule = optax.warmup_cosine_decay_schedule(
    0.0, lr, int(warmup * decay_steps), decay_steps, end_value=0.0)
  return optax.chain(
    optax.clip_by_global_norm(grad_clip) if grad_clip else optax.identity(),
    optax.nadamw(schedule, b1=b1, b2=b2, weight_decay=weight_decay))


@dataclasses.dataclass(frozen=True)
class Progress:
  """A probe at one step; seconds exclude evaluations."""

  step: int
  train_s: float  # Wall seconds, compilation included.
  cpu_s: float  # CPU seconds: steadier than wall time on a busy machine.
  eval_s: float  # Wall seconds of the evaluations so far.
  eval_cpu_s: float
  loss: float  # Training loss of this step.


def _train_step(workload, optimizer, dropout_rate: float):
  def mean_loss(params, model_state, batch, rng):
    logits, model_state = workload.model_fn(
      params, batch, model_state, spec.ForwardPassMode.TRAIN, rng,
      update_batch_norm=True, dropout_rate=dropout_rate)
    out = workload.loss_fn(batch['targets'], logits, batch.get('weights'))
    return out['summed'] / out['n_valid_examples'], model_state

  @jax.jit
  def step(params, model_state, opt_state, batch, rng):
    (loss, model_state), grads = jax.value_and_grad(mean_loss, has_aux=True)(
      params, model_state, batch, rng)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), model_state, opt_state, loss

  return step


def train(workload, optimizer, args, rngs: tuple, on_eval: Callable,
          dropout_rate: float = 0.0) -> tuple:
  """Trains ``args.steps`` steps: (last progress, params, model state).

  ``rngs``: (model init, data, step) keys; step ``k`` uses
  ``fold_in(step_key, k)``. ``on_eval(progress, params, model_state)`` runs
  every ``args.eval_every`` steps and after the last, off the timed window.
  A non-finite training loss ends the run.
  """
  init_rng, data_rng, step_rng = rngs
  params, model_state = workload.init_model_fn(init_rng)
  opt_state = optimizer.init(params)
  step_fn = _train_step(workload, optimizer, dropout_rate)
  queue = workload._build_input_queue(
    data_rng, 'train', args.data_dir,
    args.batch_size or workload.default_batch_size)
  progress = Progress(0, 0.0, 0.0, 0.0, 0.0, float('nan'))
  for k in range(1, args.steps + 1):
    start, cpu_start = time.perf_counter(), time.process_time()
    params, model_state, opt_state, loss = step_fn(
      params, model_state, opt_state, next(queue),
      jax.random.fold_in(step_rng, k))
    loss = float(loss)  # Blocks: the step is really done.
    progress = dataclasses.replace(
      progress, step=k, loss=loss,
      train_s=progress.train_s + time.perf_counter() - start,
      cpu_s=progress.cpu_s + time.process_time() - cpu_start)
    if not np.isfinite(loss):
      print(f'diverged at step {k}', flush=True)
      break
    if k % args.eval_every == 0 or k == args.steps:
      start, cpu_start = time.perf_counter(), time.process_time()
      on_eval(progress, params, model_state)
      progress = dataclasses.replace(
        progress, eval_s=progress.eval_s + time.perf_counter() - start,
        eval_cpu_s=progress.eval_cpu_s + time.process_time() - cpu_start)
  return progress, params, model_state
