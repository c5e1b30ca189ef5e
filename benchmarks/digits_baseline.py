"""Steps and seconds a plain NAdamW baseline needs on a CPU-suite workload.

Used to choose the PROVISIONAL targets, budgets and step hints of the
digits_resnet / digits_vit families (and usable for any ArrayWorkload):
trains with optax NAdamW (linear warmup + cosine decay) through the
workload's own input queue, model_fn and loss_fn (``optax_probe``),
evaluates the validation split every ``--eval-every`` steps off the clock,
and prints when each accuracy threshold was first reached and the time one
full eval takes.

  .venv/bin/python benchmarks/digits_baseline.py digits_resnet --steps 600

Defaults are a plain NAdamW (betas (0.9, 0.999), no dropout); for the
self-tuning NAdamW baseline's exact hyperparameters (dropout 0.1 included)
use benchmarks/nadamw_target_probe.py.
"""

import argparse
import time

import jax
import optax_probe  # Next to this script.

from algoperf import registry


def run(args):
  workload = registry.make_workload(args.workload)
  optimizer = optax_probe.nadamw(args.lr, args.steps, args.warmup, 0.9, 0.999,
                                 args.weight_decay)
  curve = []  # (step, train seconds, validation accuracy).

  def on_eval(progress, params, model_state):
    accuracy = workload._eval_model_on_split(
      'validation', workload.num_validation_examples, 0, params, model_state,
      None, None)['accuracy']
    curve.append((progress.step, progress.train_s, accuracy))
    print(f'step {progress.step:5d}  train {progress.train_s:6.1f}s  loss '
          f'{progress.loss:.4f}  val acc {accuracy:.4f}', flush=True)

  progress, params, model_state = optax_probe.train(
    workload, optimizer, args, jax.random.split(jax.random.PRNGKey(args.seed),
                                                3), on_eval)
  cpu_sec = progress.cpu_s + progress.eval_cpu_s
  start = time.perf_counter()
  results = workload.eval_model(workload.eval_batch_size, params, model_state,
                                None, args.data_dir, None, progress.step)
  eval_sec = time.perf_counter() - start
  num_params = sum(x.size for x in jax.tree.leaves(params))
  print(
    f'{args.workload}: {num_params} params, batch '
    f'{args.batch_size or workload.default_batch_size}, lr {args.lr}, '
    f'{progress.train_s:.1f}s train ({cpu_sec:.1f} CPU-s with evals); final '
    f'val {results["validation/accuracy"]:.4f} test '
    f'{results["test/accuracy"]:.4f}; one full eval {eval_sec:.2f}s')
  for threshold in args.thresholds:
    hit = next((c for c in curve if c[2] >= threshold), None)
    where = f'step {hit[0]}, {hit[1]:.1f}s' if hit else 'not reached'
    print(f'  val acc >= {threshold}: {where}')


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('workload')
  optax_probe.add_arguments(parser, steps=600, lr=2e-3, weight_decay=0.08,
                            warmup=0.05, eval_every=50)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--thresholds', type=float, nargs='*',
                      default=[0.95, 0.96, 0.97, 0.975, 0.98, 0.985])
  run(parser.parse_args())


if __name__ == '__main__':
  main()
