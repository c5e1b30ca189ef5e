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
import pathlib
import sys
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

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import self_tuning_steps  # noqa: E402  Next to this script.


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
  parser.add_argument('--algoperf-defaults', action='store_true',
                      help="AlgoPerf's published self-tuning point")
  parser.add_argument('--splits', default='validation,test',
                      help='comma-separated splits scored at each eval '
                      '(validation alone halves the cost of a probe)')
  args = parser.parse_args()

  workload = registry.make_workload(args.workload)
  hyperparameters = None
  if args.algoperf_defaults:
    hyperparameters = tuning.make_hyperparameters(
      submission_lib.load_submission(
        self_tuning_steps.NADAMW).module.ALGOPERF_SELF_TUNING_DEFAULTS)
  eval_s = 0.0
  print(f'{args.workload} seed {args.seed} step_hint {workload.step_hint}',
        flush=True)
  for done in self_tuning_steps.train(workload, args.steps, args.seed,
                                      args.data_dir, hyperparameters):
    if done.step == 1:
      print(f'first step (compiles) {done.train_s:.1f} s', flush=True)
    if done.step % args.eval_every and done.step != args.steps:
      continue
    start = time.perf_counter()
    line = [f'step {done.step} train_s {done.train_s:.1f} cpu_s '
            f'{done.train_cpu_s:.1f} load {os.getloadavg()[0]:.1f}']
    for split in args.splits.split(','):
      errors, words = utterance_scores(workload, done.params,
                                       done.model_state, split,
                                       args.data_dir)
      line.append(f'{split} wer {errors.sum() / words.sum():.4f} se '
                  f'{bootstrap_se(errors, words):.4f}')
    eval_s += time.perf_counter() - start
    print(' '.join(line) + f' eval_s {eval_s:.1f}', flush=True)

if __name__ == '__main__':
  main()
