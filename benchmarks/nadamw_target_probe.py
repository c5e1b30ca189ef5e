"""Probe a CPU workload with a plain optax NAdamW loop to set provisional
targets: prints, per seed, the validation metric over training time and the
steps/seconds at which a candidate target is first met.

Training time excludes evaluation (as the harness's clock does) and includes
compilation. This is a measuring aid (``optax_probe``), not the harness
runner.

  .venv/bin/python benchmarks/nadamw_target_probe.py molecules_gnn \
      --eval-every 100 --seeds 0 1 2 --target 0.75

Defaults are the self-tuning NAdamW baseline's (reference_algorithms/nadamw:
lr 1.75e-3, b1 0.933, b2 0.9955, weight decay 0.081, 2% warmup, cosine over
step_hint, dropout 0.1) at the workload's default batch size.
"""

import argparse
import ast

import jax
import numpy as np
import optax_probe  # Next to this script.

from algoperf import registry


def train_one_seed(workload, args, seed):
  optimizer = optax_probe.nadamw(args.lr, args.schedule_steps, args.warmup,
                                 args.b1, args.b2, args.weight_decay,
                                 args.grad_clip)
  history, reached = [], []  # reached: the first (step, s, cpu s) at target.
  metric = workload.target_metric_name

  def on_eval(progress, params, model_state):
    results = workload.eval_model(
      args.batch_size, params, model_state, None, args.data_dir, None,
      progress.step)
    value = results[f'validation/{metric}']
    history.append((progress.step, round(progress.train_s, 1),
                    round(value, 4), round(results[f'test/{metric}'], 4)))
    if not reached and args.target is not None and workload.facts.meets(
        value, args.target):
      reached.append((progress.step, round(progress.train_s, 1),
                      round(progress.cpu_s, 1)))

  progress, _, _ = optax_probe.train(
    workload, optimizer, args, jax.random.split(jax.random.PRNGKey(seed), 3),
    on_eval, dropout_rate=args.dropout)
  best = (max if workload.metric_direction == 'max' else min)(
    h[2] for h in history)
  reached = reached[0] if reached else None
  print(f'seed {seed}: final loss {progress.loss:.4f} best val {best:.4f} '
        f'reached (step, s, cpu s) {reached} train {progress.train_s:.1f}s '
        f'(cpu {progress.cpu_s:.1f}s) eval {progress.eval_s:.1f}s')
  print('  ', history)
  return reached, best, progress.train_s, progress.eval_s


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('workload')
  # Defaults: the self-tuning NAdamW baseline in reference_algorithms/nadamw.
  optax_probe.add_arguments(parser, steps=None, lr=0.0017486387539278373,
                            weight_decay=0.08121616522670176, warmup=0.02,
                            eval_every=100)
  parser.add_argument('--schedule-steps', type=int, default=None,
                      help='cosine length (default: step_hint)')
  parser.add_argument('--b1', type=float, default=1 - 0.06733926164)
  parser.add_argument('--b2', type=float, default=0.9955159689799007)
  parser.add_argument('--grad-clip', type=float, default=0.0)
  parser.add_argument('--dropout', type=float, default=0.1)
  parser.add_argument('--seeds', type=int, nargs='+', default=[0])
  parser.add_argument('--target', type=float, default=None)
  parser.add_argument(
    '--set', action='append', default=[], metavar='ATTR=LITERAL',
    help='override a workload class attribute, e.g. --set latent_dim=48')
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
  print(f'{args.workload} {overrides}: {num_params} params, '
        f'batch {args.batch_size}, lr {args.lr}, {args.steps} steps, cosine '
        f'over {args.schedule_steps}, dropout {args.dropout}')
  runs = [train_one_seed(workload, args, s) for s in args.seeds]
  reached = [r[0] for r in runs if r[0]]
  train_s = sum(r[2] for r in runs)
  eval_s = sum(r[3] for r in runs)
  print(f'reached {len(reached)}/{len(runs)}; median (step, s, cpu s) '
        f'{np.median(reached, axis=0) if reached else None}; median best '
        f'{np.median([r[1] for r in runs]):.4f}; eval share of wall '
        f'{eval_s / (train_s + eval_s):.1%}')


if __name__ == '__main__':
  main()
