"""Steps and seconds a plain NAdamW baseline needs on a CPU-suite workload.

Used to choose the PROVISIONAL targets, budgets and step hints of the
digits_resnet / digits_vit families (and usable for any ArrayWorkload):
trains with optax NAdamW (linear warmup + cosine decay) through the
workload's own input queue, model_fn and loss_fn, evaluates the validation
split every ``--eval-every`` steps off the clock, and prints when each
accuracy threshold was first reached and the time one full eval takes.

  .venv/bin/python benchmarks/digits_baseline.py digits_resnet --steps 600

Defaults are a plain NAdamW (betas (0.9, 0.999), no dropout); for the
self-tuning NAdamW baseline's exact hyperparameters (dropout 0.1 included)
use benchmarks/nadamw_target_probe.py.
"""

import argparse
import time

import jax
import numpy as np
import optax

from algoperf import spec
from algoperf import registry


def make_optimizer(args):
  schedule = optax.warmup_cosine_decay_schedule(
    0.0, args.lr, int(args.warmup * args.steps), args.steps
  )
  return optax.nadamw(
    schedule, b1=0.9, b2=0.999, eps=1e-8, weight_decay=args.weight_decay
  )


def make_train_step(workload, optimizer):
  def loss_of(params, state, batch, rng):
    logits, new_state = workload.model_fn(
      params,
      batch,
      state,
      spec.ForwardPassMode.TRAIN,
      rng,
      update_batch_norm=True,
    )
    loss = workload.loss_fn(batch['targets'], logits)
    return loss['summed'] / loss['n_valid_examples'], new_state

  @jax.jit
  def train_step(params, state, opt_state, batch, rng):
    (loss, state), grads = jax.value_and_grad(loss_of, has_aux=True)(
      params, state, batch, rng
    )
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), state, opt_state, loss

  return train_step


def evaluate(workload, params, state, split, num_examples):
  return workload._eval_model_on_split(
    split, num_examples, 0, params, state, None, None
  )['accuracy']


def run(args):
  workload = registry.make_workload(args.workload)
  rng = jax.random.PRNGKey(args.seed)
  init_rng, data_rng, step_rng = jax.random.split(rng, 3)
  params, state = workload.init_model_fn(init_rng)
  num_params = sum(x.size for x in jax.tree.leaves(params))
  batch_size = args.batch_size or workload.default_batch_size
  queue = workload._build_input_queue(data_rng, 'train', None, batch_size)
  optimizer = make_optimizer(args)
  opt_state = optimizer.init(params)
  train_step = make_train_step(workload, optimizer)
  train_sec, curve = 0.0, []
  cpu_start = time.process_time()
  for step in range(1, args.steps + 1):
    start = time.perf_counter()
    batch = next(queue)
    params, state, opt_state, loss = train_step(
      params, state, opt_state, batch, jax.random.fold_in(step_rng, step)
    )
    loss = float(loss)  # Blocks: the step is really done.
    train_sec += time.perf_counter() - start
    if not np.isfinite(loss):
      print(f'diverged at step {step}')
      break
    if step % args.eval_every == 0 or step == args.steps:
      acc = evaluate(
        workload, params, state, 'validation', workload.num_validation_examples
      )
      curve.append((step, train_sec, acc, loss))
      print(
        f'step {step:5d}  train {train_sec:6.1f}s  loss {loss:.4f}  '
        f'val acc {acc:.4f}',
        flush=True,
      )
  cpu_sec = time.process_time() - cpu_start  # Evals included.
  start = time.perf_counter()
  results = workload.eval_model(0, params, state, None, None, None, step)
  eval_sec = time.perf_counter() - start
  print(
    f'{args.workload}: {num_params} params, batch {batch_size}, '
    f'lr {args.lr}, {train_sec:.1f}s train ({cpu_sec:.1f} CPU-s with '
    f'evals); final val '
    f'{results["validation/accuracy"]:.4f} test '
    f'{results["test/accuracy"]:.4f}; one full eval {eval_sec:.2f}s'
  )
  for threshold in args.thresholds:
    hit = next((c for c in curve if c[2] >= threshold), None)
    where = f'step {hit[0]}, {hit[1]:.1f}s' if hit else 'not reached'
    print(f'  val acc >= {threshold}: {where}')


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('workload')
  parser.add_argument('--steps', type=int, default=600)
  parser.add_argument('--batch-size', type=int, default=0)
  parser.add_argument('--lr', type=float, default=2e-3)
  parser.add_argument('--weight-decay', type=float, default=0.08)
  parser.add_argument('--warmup', type=float, default=0.05)
  parser.add_argument('--eval-every', type=int, default=50)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument(
    '--thresholds',
    type=float,
    nargs='*',
    default=[0.95, 0.96, 0.97, 0.975, 0.98, 0.985],
  )
  run(parser.parse_args())


if __name__ == '__main__':
  main()
