"""Steps and seconds for NAdamW to reach shakespeare_lm validation losses.

Used to choose the PROVISIONAL targets of the shakespeare_lm family. A plain
optax NAdamW (warmup + cosine, no dropout; ``optax_probe``) trains one
workload; evals run off the clock every ``--eval-every`` steps and report
the train time and step at which the validation loss first falls below each
candidate target.

  python benchmarks/shakespeare_lm_targets.py --workload shakespeare_lm \
    --data-dir /tmp/data --steps 1500
"""

import argparse

import jax
import optax_probe  # Next to this script.

from algoperf import registry


def train(args):
  workload = registry.make_workload(args.workload)
  optimizer = optax_probe.nadamw(args.lr, args.steps, args.warmup, 0.9, 0.98,
                                 args.weight_decay)
  reached = {}  # target -> (step, train s, train cpu s).

  def on_eval(progress, params, model_state):
    result = workload.eval_model(workload.eval_batch_size, params, model_state,
                                 None, args.data_dir, None, progress.step)
    val = result['validation/loss']
    for target in args.targets:
      if val <= target and target not in reached:
        reached[target] = (progress.step, round(progress.train_s, 1),
                           round(progress.cpu_s, 1))
    print(f'step {progress.step} train_s {progress.train_s:.1f} cpu_s '
          f'{progress.cpu_s:.1f} train_loss {progress.loss:.3f} val '
          f'{val:.3f} test {result["test/loss"]:.3f} val_acc '
          f'{result["validation/accuracy"]:.3f}', flush=True)

  # Model and data keys as the provisional targets were measured with; no
  # dropout, so the step keys are unused.
  rngs = (jax.random.PRNGKey(args.seed), jax.random.PRNGKey(args.seed + 1),
          jax.random.PRNGKey(0))
  progress, _, _ = optax_probe.train(workload, optimizer, args, rngs, on_eval)
  print(f'eval_s {progress.eval_s:.1f}; reached (step, train s, train cpu s):',
        reached)


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('--workload', default='shakespeare_lm')
  optax_probe.add_arguments(parser, steps=1500, lr=2e-3, weight_decay=0.08,
                            warmup=0.05, eval_every=100)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--targets', type=float, nargs='*',
                      default=[2.2, 2.0, 1.9, 1.8, 1.75, 1.7, 1.65, 1.6])
  train(parser.parse_args())


if __name__ == '__main__':
  main()
