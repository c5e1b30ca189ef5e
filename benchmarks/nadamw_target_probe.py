"""Probe a CPU workload with a plain optax NAdamW loop to set provisional
targets: prints, per seed, the validation metric over training time and the
steps/seconds at which a candidate target is first met.

Training time excludes evaluation (as the harness's clock does) and includes
compilation. This is a measuring aid, not the harness runner.

  .venv/bin/python benchmarks/nadamw_target_probe.py molecules_gnn \
      --eval-every 100 --seeds 0 1 2 --target 0.75

Defaults are the self-tuning NAdamW baseline's (reference_algorithms/nadamw:
lr 1.75e-3, b1 0.933, b2 0.9955, weight decay 0.081, 2% warmup, cosine over
step_hint, dropout 0.1) at the workload's default batch size.
"""

import argparse
import ast
import time

import jax
import numpy as np
import optax

from algoperf import spec
from algoperf import registry


def make_optimizer(args):
  warmup = int(args.warmup_fraction * args.schedule_steps)
  schedule = optax.warmup_cosine_decay_schedule(
    0.0, args.lr, warmup, args.schedule_steps, end_value=0.0
  )
  return optax.chain(
    optax.clip_by_global_norm(args.grad_clip)
    if args.grad_clip
    else optax.identity(),
    optax.nadamw(
      schedule, b1=args.b1, b2=args.b2, weight_decay=args.weight_decay
    ),
  )


def train_one_seed(workload, args, seed):
  rng = jax.random.PRNGKey(seed)
  init_rng, data_rng, drop_rng = jax.random.split(rng, 3)
  params, model_state = workload.init_model_fn(init_rng)
  optimizer = make_optimizer(args)
  opt_state = optimizer.init(params)

  def loss_of(p, state, batch, r):
    logits, new_state = workload.model_fn(
      p,
      batch,
      state,
      spec.ForwardPassMode.TRAIN,
      r,
      update_batch_norm=True,
      dropout_rate=args.dropout,
    )
    out = workload.loss_fn(batch['targets'], logits)
    return out['summed'] / out['n_valid_examples'], new_state

  @jax.jit
  def step(p, state, o, batch, r):
    (loss, state), grads = jax.value_and_grad(loss_of, has_aux=True)(
      p, state, batch, r
    )
    updates, o = optimizer.update(grads, o, p)
    return optax.apply_updates(p, updates), state, o, loss

  queue = workload._build_input_queue(
    data_rng, 'train', args.data_dir, args.batch_size
  )
  train_s, eval_s, cpu_s, reached = 0.0, 0.0, 0.0, None
  history = []
  for k in range(1, args.steps + 1):
    start, cpu_start = time.perf_counter(), time.process_time()
    batch = next(queue)
    params, model_state, opt_state, loss = step(
      params, model_state, opt_state, batch, jax.random.fold_in(drop_rng, k)
    )
    jax.block_until_ready(loss)
    train_s += time.perf_counter() - start
    cpu_s += time.process_time() - cpu_start
    if k % args.eval_every and k != args.steps:
      continue
    start = time.perf_counter()
    results = workload.eval_model(
      args.batch_size, params, model_state, rng, args.data_dir, None, k
    )
    eval_s += time.perf_counter() - start
    value = results[f'validation/{workload.target_metric_name}']
    test_value = results[f'test/{workload.target_metric_name}']
    history.append(
      (k, round(train_s, 1), round(value, 4), round(test_value, 4))
    )
    if (
      reached is None
      and args.target is not None
      and workload._meets(value, args.target)
    ):
      reached = (k, round(train_s, 1), round(cpu_s, 1))
  best = (max if workload.metric_direction == 'max' else min)(
    h[2] for h in history
  )
  print(
    f'seed {seed}: final loss {float(loss):.4f} best val {best:.4f} '
    f'reached (step, s, cpu s) {reached} train {train_s:.1f}s '
    f'(cpu {cpu_s:.1f}s) eval {eval_s:.1f}s'
  )
  print('  ', history)
  return reached, best, train_s, eval_s


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('workload')
  parser.add_argument('--data-dir', default=None)
  # Defaults: the self-tuning NAdamW baseline in reference_algorithms/nadamw.
  parser.add_argument(
    '--steps', type=int, default=None, help='steps to run (default: step_hint)'
  )
  parser.add_argument(
    '--schedule-steps',
    type=int,
    default=None,
    help='cosine length (default: step_hint)',
  )
  parser.add_argument('--eval-every', type=int, default=100)
  parser.add_argument('--batch-size', type=int, default=None)
  parser.add_argument('--lr', type=float, default=0.0017486387539278373)
  parser.add_argument('--b1', type=float, default=1 - 0.06733926164)
  parser.add_argument('--b2', type=float, default=0.9955159689799007)
  parser.add_argument('--weight-decay', type=float, default=0.08121616522670176)
  parser.add_argument('--warmup-fraction', type=float, default=0.02)
  parser.add_argument('--grad-clip', type=float, default=0.0)
  parser.add_argument('--dropout', type=float, default=0.1)
  parser.add_argument('--seeds', type=int, nargs='+', default=[0])
  parser.add_argument('--target', type=float, default=None)
  parser.add_argument(
    '--set',
    action='append',
    default=[],
    metavar='ATTR=LITERAL',
    help='override a workload class attribute, e.g. --set latent_dim=48',
  )
  args = parser.parse_args()
  workload_cls = registry.get_workload_class(args.workload)
  overrides = dict(item.split('=', 1) for item in args.set)
  overrides = {k: ast.literal_eval(v) for k, v in overrides.items()}
  workload = type(workload_cls.__name__, (workload_cls,), overrides)()
  args.batch_size = args.batch_size or workload.default_batch_size
  args.steps = args.steps or workload.step_hint
  args.schedule_steps = args.schedule_steps or workload.step_hint
  params, _ = workload.init_model_fn(jax.random.PRNGKey(0))
  num_params = sum(x.size for x in jax.tree.leaves(params))
  print(
    f'{args.workload} {overrides}: {num_params} params, '
    f'batch {args.batch_size}, lr {args.lr}, {args.steps} steps, cosine '
    f'over {args.schedule_steps}, dropout {args.dropout}'
  )
  runs = [train_one_seed(workload, args, s) for s in args.seeds]
  reached = [r[0] for r in runs if r[0]]
  train_s = sum(r[2] for r in runs)
  eval_s = sum(r[3] for r in runs)
  print(
    f'reached {len(reached)}/{len(runs)}; median (step, s, cpu s) '
    f'{np.median(reached, axis=0) if reached else None}; median best '
    f'{np.median([r[1] for r in runs]):.4f}; eval share of wall '
    f'{eval_s / (train_s + eval_s):.1%}'
  )


if __name__ == '__main__':
  main()
