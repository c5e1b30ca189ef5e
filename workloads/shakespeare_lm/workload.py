"""shakespeare_lm: a character-level decoder LM on Shakespeare (CPU suite).

Mirrors AlgoPerf's wmt / LM workloads: next-token cross-entropy summed over
valid tokens, evaluated per token (loss, perplexity, next-character
accuracy), with variants that change one architectural detail each.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from algoperf import base_workload
from algoperf import losses
from algoperf import spec
from workloads.shakespeare_lm import dataset
from workloads.shakespeare_lm import model


class ShakespeareLmWorkload(base_workload.ArrayWorkload):
  """2-layer, width-96 pre-LN transformer on 64-character windows.

  Targets (and, for a base workload, budget and step hint): set by the
  target-setting protocol, see docs/targets.md; history below.

  Target: validation cross-entropy in nats per character ('loss', lower is
  better); perplexity = exp(loss) and next-character accuracy are reported.

  Formerly provisional targets and budget (replaced by the target-setting protocol).
  Set from the self-tuning NAdamW baseline (reference_algorithms/nadamw,
  `--ruleset self`: lr 1.75e-3, dropout 0.1, cosine over ``step_hint`` =
  1500 steps, default batch 32, one run on an idle 2-core machine): it
  plateaued at validation loss 1.921 (test 1.919) once the schedule ended
  and first evaluated at or below 1.93 at step 1324, after 98.9 s of
  submission time. The targets (1.93 / 1.93) sit just above that plateau.
  Without dropout (plain optax NAdamW, lr 2e-3, b2 0.98;
  benchmarks/shakespeare_lm_targets.py) the same model reaches 1.785, so
  a tuned submission has plenty of room under the target. Evals (128 + 512
  + 512 windows) cost ~10% of a 12 s eval period.
  """

  name = 'shakespeare_lm'
  target_metric_name = 'loss'
  metric_direction = 'min'
  validation_target_value = 1.8475
  test_target_value = 1.8334
  targets_are_provisional = False
  max_allowed_runtime_sec = 93
  eval_period_time_sec = 4.7
  step_hint = 1334
  num_train_examples = 72230  # Windows of 64 predicted characters.
  num_eval_train_examples = 128
  num_validation_examples = 512
  num_test_examples = 512
  eval_batch_size = 256
  default_batch_size = 32
  loss_type = spec.LossType.SOFTMAX_CROSS_ENTROPY
  dataset_builder = dataset.ShakespeareChars
  input_keys = ('inputs', 'targets', 'weights')

  # Model facts a variant may override (each variant says why).
  width = 96
  depth = 2
  num_heads = 4
  pre_layer_norm = True
  glu = False
  activation = staticmethod(nn.gelu)
  attention_temperature = 1.0

  def build_model(self):
    return model.DecoderLM(
      vocab_size=dataset.VOCAB_SIZE,
      max_length=dataset.SEQUENCE_LENGTH,
      width=self.width,
      depth=self.depth,
      num_heads=self.num_heads,
      activation=self.activation,
      glu=self.glu,
      pre_layer_norm=self.pre_layer_norm,
      attention_temperature=self.attention_temperature,
    )

  def init_inputs(self):
    return model.init_inputs(dataset.SEQUENCE_LENGTH)

  def synthetic_arrays(self, num_examples, seed):
    rng = np.random.default_rng(seed)
    shape = (num_examples, dataset.SEQUENCE_LENGTH + 1)
    return {'tokens': rng.integers(1, dataset.VOCAB_SIZE, shape,
                                   dtype=np.uint8)}

  def preprocess(self, arrays):
    tokens = arrays['tokens'].astype(np.int32)
    targets = tokens[:, 1:]
    return {
      'inputs': tokens[:, :-1],
      'targets': targets,
      'weights': (targets != dataset.PAD_ID).astype(np.float32),
    }

  def loss_fn(self, label_batch, logits_batch, mask_batch=None,
              label_smoothing=0.0):
    """Per-token cross-entropy; n_valid_examples counts valid tokens.

    ``mask_batch`` is the batch's 'weights' [B, T] (None: every token).
    """
    return losses.softmax_cross_entropy(
      label_batch, logits_batch, mask_batch, label_smoothing
    )

  def eval_metrics(self, logits, batch, mask):
    """Sums over valid tokens of valid (unpadded) rows."""
    weights = batch['weights'] * mask[:, None]
    loss = self.loss_fn(batch['targets'], logits, weights)['summed']
    correct = (jnp.argmax(logits, -1) == batch['targets']) * weights
    return {'loss': loss, 'accuracy': correct.sum(),
            'num_tokens': weights.sum()}

  def _eval_model_on_split(self, split, num_examples, global_batch_size,
                           params, model_state, rng, data_dir,
                           global_step=0) -> dict[str, float]:
    """Loss and accuracy averaged over tokens (not windows); perplexity."""
    del global_batch_size, rng, global_step
    arrays = self.split_arrays(split, data_dir)
    arrays = {k: arrays[k][:num_examples] for k in self.input_keys}
    totals = None
    for batch, mask in base_workload.padded_batches(
        arrays, self.eval_batch_size):
      sums = self._eval_step(params, model_state, batch, mask)
      totals = sums if totals is None else jax.tree.map(jnp.add, totals, sums)
    totals = jax.device_get(totals)
    num_tokens = float(totals['num_tokens'])
    loss = float(totals['loss']) / num_tokens
    return {
      'loss': loss,
      'perplexity': math.exp(min(loss, 700.0)),  # exp overflows past ~709.
      'accuracy': float(totals['accuracy']) / num_tokens,
    }


class ShakespeareLmPostLnWorkload(ShakespeareLmWorkload):
  """LayerNorm after each residual add (original Transformer), as wmt_post_ln.

  Targets (and, for a base workload, budget and step hint): set by the
  target-setting protocol, see docs/targets.md; history below.

  Formerly provisional targets, set as for the base workload: the self-tuning
  NAdamW baseline (one run, 1500 steps) ended at validation 1.959 (test
  1.952); the targets sit 0.01 above.
  """

  name = 'shakespeare_lm_post_ln'
  targets_are_provisional = False
  base_name = 'shakespeare_lm'
  pre_layer_norm = False  # Post-LN is harder to optimise: tests warmup.
  validation_target_value = 1.9466
  test_target_value = 1.9438


class ShakespeareLmAttentionTempWorkload(ShakespeareLmWorkload):
  """Attention logits divided by a temperature of 4, as wmt_attention_temp.

  PROVISIONAL targets, set as for the base workload: the self-tuning
  NAdamW baseline (one run, 1500 steps) ended at validation 1.952 (test
  1.945); the targets sit 0.01 above.
  """

  name = 'shakespeare_lm_attention_temp'
  targets_are_provisional = False
  base_name = 'shakespeare_lm'
  attention_temperature = 4.0  # Flatter attention at init, slower to sharpen.
  validation_target_value = 2.0397
  test_target_value = 2.035


class ShakespeareLmGluTanhWorkload(ShakespeareLmWorkload):
  """Gated (GLU) MLP with tanh activation, as wmt_glu_tanh.

  PROVISIONAL targets, set as for the base workload: the self-tuning
  NAdamW baseline (one run, 1500 steps) ended at validation 1.874 (test
  1.871); the targets sit 0.01 above. The gate adds parameters (329k
  against 255k) and ~20% compute per step.
  """

  name = 'shakespeare_lm_glu_tanh'
  targets_are_provisional = False
  base_name = 'shakespeare_lm'
  glu = True  # A gated, saturating MLP changes the loss landscape.
  activation = staticmethod(jnp.tanh)
  validation_target_value = 1.9341
  test_target_value = 1.9308
