"""The espeak_conformer family under the self-tuning NAdamW reference:
WER per step, and the bootstrap standard error of the WER.

Used to choose the family's PROVISIONAL targets, budget, step hint and
split sizes. It drives reference_algorithms/nadamw's own
``init_optimizer_state`` / ``update_params`` (self-tuning: hyperparameters
None, or ``--algoperf-defaults`` for AlgoPerf's published point) through the
workload's input queue, without the runner, so that at every eval it can
score each utterance: the bootstrap resamples utterances with replacement
and recomputes WER = sum(word errors) / sum(reference words), the issue's
resolution measure. Train seconds (wall and CPU) include compilation and
exclude evals, as the harness's clock does; time a real trial with
`algoperf run`.

  python benchmarks/espeak_conformer_probe.py --workload espeak_conformer \
    --steps 900 --eval-every 100 --seed 0
"""

import argparse
import functools
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from algoperf import base_workload
from algoperf import registry
from algoperf import spec
from algoperf import submission as submission_lib
from algoperf import tuning
from workloads.espeak_conformer import ctc

NADAMW = 'reference_algorithms/nadamw'


@functools.cache
def _scorer(workload):
  """Jitted (word errors, reference words) per row of a batch."""

  @jax.jit
  def score(params, model_state, batch):
    (logits, paddings), _ = workload.model_fn(
      params, batch, model_state, spec.ForwardPassMode.EVAL, None, False)
    return (ctc.word_errors(logits, paddings, batch['targets']),
            jnp.sum(batch['targets'] != ctc.BLANK_ID, axis=1))

  return score


def utterance_scores(workload, params, model_state, split, data_dir):
  """(word errors [N], reference words [N]) of greedy decoding on a split."""
  arrays = workload.split_arrays(split, data_dir)
  size = getattr(workload, f'num_{split}_examples')
  arrays = {k: arrays[k][:size] for k in workload.input_keys}
  errors, words = [], []
  for batch, mask in base_workload.padded_batches(arrays,
                                                  workload.eval_batch_size):
    e, w = jax.device_get(_scorer(workload)(params, model_state, batch))
    valid = np.asarray(mask) > 0
    errors.append(e[valid])
    words.append(w[valid])
  return np.concatenate(errors), np.concatenate(words)


def bootstrap_se(errors, words, resamples: int = 2000, seed: int = 0):
  """Standard deviation of the WER over utterance resamples."""
  rng = np.random.default_rng(seed)
  picks = rng.integers(0, len(errors), (resamples, len(errors)))
  return float(np.std(errors[picks].sum(1) / words[picks].sum(1)))


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('--workload', default='espeak_conformer')
  parser.add_argument('--steps', type=int, default=900)
  parser.add_argument('--eval-every', type=int, default=100)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--data-dir', default=None)
  parser.add_argument('--splits', default='validation,test',
                      help='comma-separated splits scored at each eval '
                      '(validation alone halves the cost of a probe)')
  parser.add_argument('--algoperf-defaults', action='store_true',
                      help="AlgoPerf's published self-tuning point")
  args = parser.parse_args()

  workload = registry.make_workload(args.workload)
  submission = submission_lib.load_submission(NADAMW)
  hyperparameters = None
  if args.algoperf_defaults:
    hyperparameters = tuning.make_hyperparameters(
      submission.module.ALGOPERF_SELF_TUNING_DEFAULTS)
  rng = jax.random.PRNGKey(args.seed)
  data_rng, opt_rng, model_rng, step_rng = jax.random.split(rng, 4)
  params, model_state = workload.init_model_fn(model_rng)
  optimizer_state = submission.init_optimizer_state(
    workload, params, model_state, hyperparameters, opt_rng)
  queue = workload._build_input_queue(data_rng, 'train', args.data_dir,
                                      workload.default_batch_size)
  types = workload.model_params_types
  train_s = train_cpu_s = eval_s = 0.0
  print(f'{args.workload} seed {args.seed} step_hint {workload.step_hint} '
        f'params {sum(x.size for x in jax.tree.leaves(params))}', flush=True)
  for step in range(args.steps):
    start, cpu_start = time.perf_counter(), time.process_time()
    optimizer_state, params, model_state = submission.update_params(
      workload, params, types, model_state, hyperparameters, next(queue),
      workload.loss_type, optimizer_state, [], step,
      jax.random.fold_in(step_rng, step))
    jax.block_until_ready(params)
    train_s += time.perf_counter() - start
    train_cpu_s += time.process_time() - cpu_start
    if step == 0:
      print(f'first step (compiles) {train_s:.1f} s', flush=True)
    if (step + 1) % args.eval_every and step + 1 != args.steps:
      continue
    start = time.perf_counter()
    line = [f'step {step + 1} train_s {train_s:.1f} cpu_s {train_cpu_s:.1f}'
            f' load {os.getloadavg()[0]:.1f}']
    for split in args.splits.split(','):
      errors, words = utterance_scores(workload, params, model_state, split,
                                       args.data_dir)
      line.append(f'{split} wer {errors.sum() / words.sum():.4f} se '
                  f'{bootstrap_se(errors, words):.4f}')
    eval_s += time.perf_counter() - start
    print(' '.join(line) + f' eval_s {eval_s:.1f}', flush=True)
  queue.close()


if __name__ == '__main__':
  main()
