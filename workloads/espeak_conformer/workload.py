"""espeak_conformer: a Conformer with CTC on synthesised speech (CPU suite).

Mirrors AlgoPerf's librispeech_conformer: log-mel features with their
paddings in, per-frame logits with their paddings out, CTC loss (blank id
0) averaged per target token, greedy CTC decoding, and the word error rate
(word edit distance over reference words, summed over the split; lower is
better) as the target metric.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from algoperf import base_workload
from algoperf import spec
from workloads.espeak_conformer import ctc
from workloads.espeak_conformer import dataset
from workloads.espeak_conformer import features
from workloads.espeak_conformer import model
from workloads.espeak_conformer import synthesis
from workloads.espeak_conformer import utterances


class EspeakConformerWorkload(base_workload.ArrayWorkload):
  """3-block, width-64 Conformer over words as tokens.

  The vocabulary is closed (30 words), so each word is one token, as a
  word piece is in AlgoPerf's 1024-piece vocabulary: CTC then emits about
  3 tokens a second, 8x subsampled frames (12.5 a second) leave room for
  the blanks between repeated words, and the word error rate is exactly
  the token edit distance. Characters would need more frames per second of
  speech and spend most of a CPU budget on the blank-only plateau.
  """

  name = 'espeak_conformer'
  num_train_examples = dataset.SPLIT_SIZES['train']
  num_eval_train_examples = 512
  num_validation_examples = dataset.SPLIT_SIZES['validation']
  num_test_examples = dataset.SPLIT_SIZES['test']
  eval_batch_size = 256
  default_batch_size = 32
  loss_type = spec.LossType.CTC_LOSS
  dataset_builder = dataset.EspeakWords
  input_keys = ('inputs', 'input_paddings', 'targets')
  model_input_keys = ('inputs', 'input_paddings')
  # Mean and stddev of the stored log-mels over the train split's unpadded
  # frames; the real-data test checks them against the prepared data.
  train_mean = 0.655
  train_stddev = 2.654

  # Model settings; each variant overrides one.
  model_class = model.Conformer
  model_settings = ('vocab_size', 'width', 'depth', 'num_heads',
                    'subsample_channels', 'kernel_size', 'activation',
                    'attention_temperature', 'post_layer_norm')
  vocab_size = utterances.VOCAB_SIZE
  width = 64
  depth = 3
  num_heads = 4
  subsample_channels = 32
  kernel_size = 5
  activation = staticmethod(nn.swish)
  attention_temperature = 1.0
  post_layer_norm = True

  # Eval batches hold utterances of similar length (the split sorted by
  # frames once) and are cut to their longest utterance rounded up to this
  # many frames (a multiple of the 8x subsampling): an utterance averages
  # 136 of the 256 stored frames, and padding after an utterance does not
  # change its logits, so the cut saves compute without changing the WER.
  # At most 256 / 64 = 4 batch shapes, so the eval step compiles at most 4
  # times per workload instance, never per eval.
  eval_frame_bucket = 64

  def init_inputs(self):
    return model.init_inputs(synthesis.MAX_FRAMES, features.NUM_MEL_BINS)

  def synthetic_arrays(self, num_examples, seed):
    rng = np.random.default_rng(seed)
    shape = (num_examples, synthesis.MAX_FRAMES, features.NUM_MEL_BINS)
    num_frames = rng.integers(synthesis.MAX_FRAMES // 4,
                              synthesis.MAX_FRAMES + 1, num_examples)
    num_words = rng.integers(1, utterances.MAX_WORDS + 1, num_examples)
    words = rng.integers(1, utterances.VOCAB_SIZE,
                         (num_examples, utterances.MAX_WORDS))
    return {
      'features': rng.normal(self.train_mean, self.train_stddev,
                             shape).astype(np.float16),
      # int64: TFDS reads a stored int32 scalar back as int64.
      'num_frames': num_frames.astype(np.int64),
      'targets': np.where(np.arange(utterances.MAX_WORDS) < num_words[:, None],
                          words, 0).astype(np.int32),
    }

  def preprocess(self, arrays):
    """Normalised features, zero past each utterance; 0/1 paddings."""
    frame_T = np.arange(synthesis.MAX_FRAMES)
    paddings = (frame_T >= arrays['num_frames'][:, None]).astype(np.float32)
    inputs = (arrays['features'].astype(np.float32) - self.train_mean) / (
      self.train_stddev)
    return {
      'inputs': inputs * (1.0 - paddings)[..., None],
      'input_paddings': paddings,
      'targets': arrays['targets'].astype(np.int32),
    }

  def _eval_batches(self, split: str, num_examples: int, data_dir):
    """(batch arrays, bucket frames) of the split's first ``num_examples``
    utterances, sorted by length, each batch cut to its bucket."""
    arrays = self.split_arrays(split, data_dir)
    arrays = {k: arrays[k][:num_examples] for k in self.input_keys}
    num_frames = np.sum(arrays['input_paddings'] == 0, axis=1)
    order = np.argsort(num_frames, kind='stable')
    for start in range(0, len(order), self.eval_batch_size):
      rows = order[start:start + self.eval_batch_size]
      bucket = min(synthesis.MAX_FRAMES, self.eval_frame_bucket * max(
        1, -(-int(num_frames[rows].max()) // self.eval_frame_bucket)))
      yield {k: v[rows] if k == 'targets'
             else v[rows, :bucket] for k, v in arrays.items()}, bucket

  def _eval_model_on_split(self, split, num_examples, global_batch_size,
                           params, model_state, rng, data_dir,
                           global_step=0):
    """The split's sums over length-bucketed batches (eval_frame_bucket)."""
    if self._reads_records():
      return super()._eval_model_on_split(
        split, num_examples, global_batch_size, params, model_state, rng,
        data_dir, global_step)
    del global_batch_size, rng, global_step
    totals, count = None, 0
    for arrays, _ in self._eval_batches(split, num_examples, data_dir):
      for batch, mask in base_workload.padded_batches(arrays,
                                                      self.eval_batch_size):
        sums = self._eval_step(params, model_state, batch, mask)
        totals = sums if totals is None else jax.tree.map(jnp.add, totals,
                                                          sums)
      count += len(arrays['targets'])
    return self.eval_averages(jax.device_get(totals), count)

  def loss_fn(self, label_batch, logits_batch, mask_batch=None,
              label_smoothing=0.0):
    """CTC of (logits, logit_paddings) against word ids padded with 0.

    As AlgoPerf's: ``n_valid_examples`` counts target tokens (words) of
    the valid rows, so summed / n_valid_examples is the loss per word;
    ``label_smoothing`` does not apply to CTC and is ignored.
    """
    del label_smoothing
    logits_BTV, logit_paddings_BT = logits_batch
    per_example = ctc.ctc_loss(logits_BTV, logit_paddings_BT, label_batch)
    num_words = jnp.sum(label_batch != ctc.BLANK_ID, axis=1)
    if mask_batch is not None:
      per_example = per_example * mask_batch
      num_words = num_words * mask_batch
    return {'summed': per_example.sum(),
            'n_valid_examples': jnp.maximum(num_words.sum(), 1),
            'per_example': per_example}

  def eval_metrics(self, logits, batch, mask):
    """Sums over valid rows: CTC loss, word errors ('wer'), words."""
    logits_BTV, logit_paddings_BT = logits
    targets = batch['targets']
    errors = ctc.word_errors(logits_BTV, logit_paddings_BT, targets)
    return {
      'loss': self.loss_fn(targets, logits, mask)['summed'],
      'wer': jnp.sum(errors * mask),
      'num_words': jnp.sum(jnp.sum(targets != ctc.BLANK_ID, axis=1) * mask),
    }

  def eval_averages(self, totals, num_examples) -> dict[str, float]:
    """Loss per word; WER = word errors / reference words (AlgoPerf's)."""
    del num_examples
    num_words = float(totals['num_words'])
    return {'loss': float(totals['loss']) / num_words,
            'wer': float(totals['wer']) / num_words}


class EspeakConformerAttentionTempWorkload(EspeakConformerWorkload):
  """Attention output x 1.6, as librispeech_conformer_attention_temperature."""

  name = 'espeak_conformer_attention_temp'
  attention_temperature = 1.6  # Larger residual updates from attention.


class EspeakConformerLayerNormWorkload(EspeakConformerWorkload):
  """No LayerNorm after each block, as librispeech_conformer_layernorm."""

  name = 'espeak_conformer_layernorm'
  post_layer_norm = False  # The residual stream's scale is left to grow.


class EspeakConformerGeluWorkload(EspeakConformerWorkload):
  """GELU instead of swish, as librispeech_conformer_gelu."""

  name = 'espeak_conformer_gelu'
  activation = staticmethod(nn.gelu)
