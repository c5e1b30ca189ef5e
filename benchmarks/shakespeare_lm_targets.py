"""Steps and seconds for NAdamW to reach shakespeare_lm validation losses.

Used to choose the PROVISIONAL targets of the shakespeare_lm family. A plain
optax NAdamW (warmup + cosine) trains one workload; evals run off the clock
every ``--eval-every`` steps and report the train time and step at which the
validation loss first falls below each candidate target.

  python benchmarks/shakespeare_lm_targets.py --workload shakespeare_lm \
    --data-dir /tmp/data --steps 1500
"""

import argparse
import time

import jax
import optax

from algoperf import spec
from algoperf import registry


def make_optimizer(args, num_steps):
  schedule = optax.warmup_cosine_decay_schedule(
    0.0, args.lr, int(args.warmup * num_steps), num_steps, 0.0
  )
  return optax.nadamw(schedule, b1=0.9, b2=0.98,
                      weight_decay=args.weight_decay)


def train(args):
  workload = registry.make_workload(args.workload)
  params, model_state = workload.init_model_fn(jax.random.PRNGKey(args.seed))
  optimizer = make_optimizer(args, args.steps)
  opt_state = optimizer.init(params)

  @jax.jit
  def step(params, opt_state, batch, rng):
    def loss_of(p):
      logits, _ = workload.model_fn(p, batch, model_state,
                                    spec.ForwardPassMode.TRAIN, rng, False)
      out = workload.loss_fn(batch['targets'], logits, batch['weights'])
      return out['summed'] / out['n_valid_examples']
    loss, grads = jax.value_and_grad(loss_of)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  queue = workload._build_input_queue(
    jax.random.PRNGKey(args.seed + 1), 'train', args.data_dir, args.batch)
  reached, train_s, eval_s, rng = {}, 0.0, 0.0, jax.random.PRNGKey(0)
  train_cpu_s = 0.0  # CPU seconds: less sensitive to a busy machine.
  for i in range(1, args.steps + 1):
    start, cpu_start = time.perf_counter(), time.process_time()
    rng, step_rng = jax.random.split(rng)
    params, opt_state, loss = step(params, opt_state, next(queue), step_rng)
    loss.block_until_ready()
    train_cpu_s += time.process_time() - cpu_start
    train_s += time.perf_counter() - start
    if i % args.eval_every and i != args.steps:
      continue
    start = time.perf_counter()
    result = workload.eval_model(args.batch, params, model_state, None,
                                 args.data_dir, None, i)
    eval_s += time.perf_counter() - start
    val = result['validation/loss']
    for target in args.targets:
      if val <= target and target not in reached:
        reached[target] = (i, round(train_s, 1), round(train_cpu_s, 1))
    print(f'step {i} train_s {train_s:.1f} cpu_s {train_cpu_s:.1f} '
          f'eval_s {eval_s:.1f} '
          f'train_loss {float(loss):.3f} val {val:.3f} '
          f'test {result["test/loss"]:.3f} '
          f'val_acc {result["validation/accuracy"]:.3f}', flush=True)
  print('reached (step, train s, train cpu s):', reached)


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('--workload', default='shakespeare_lm')
  parser.add_argument('--data-dir', required=True)
  parser.add_argument('--steps', type=int, default=1500)
  parser.add_argument('--batch', type=int, default=32)
  parser.add_argument('--lr', type=float, default=2e-3)
  parser.add_argument('--weight-decay', type=float, default=0.08)
  parser.add_argument('--warmup', type=float, default=0.05)
  parser.add_argument('--eval-every', type=int, default=100)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--targets', type=float, nargs='*',
                      default=[2.2, 2.0, 1.9, 1.8, 1.75, 1.7, 1.65, 1.6])
  train(parser.parse_args())


if __name__ == '__main__':
  main()
