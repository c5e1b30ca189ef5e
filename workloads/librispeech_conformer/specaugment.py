"""SpecAugment as AlgoPerf applies it inside its speech models (train only).

AlgoPerf's ``SpecAug`` (after lingvo's) at 2c90454, for both LibriSpeech
families: on the normalised log-mels, ``time_mask_count`` time masks and
then ``freq_mask_count`` frequency masks per utterance, each mask zeroing a
contiguous run of frames (bins). A mask's length is ``int(u * max_len)``
for a uniform ``u``, at most ``max(int(max_ratio * range), 1)``, and it
starts at ``int(v * (range - length + 1))`` for another uniform ``v``:

- time: range = the utterance's unpadded frames, max_len = 5% of that
  range (AlgoPerf's dynamic maximum: its fixed 40-frame cap is unused);
- frequency: range = 80 bins, max_len = 27 bins.

Randomness comes from the 'dropout' stream, as in AlgoPerf; the mask
counts are the variants' knobs (``librispeech_deepspeech_norm_and_spec_aug``
uses 4 and 15). No parameters.
"""

import jax
import jax.numpy as jnp

FREQ_MASK_MAX_BINS = 27
TIME_MASK_MAX_RATIO = 0.05


def _keep_mask(key, range_B, max_len_B, count: int, size: int,
               max_ratio: float):
  """float [B, size]: 0 inside any of ``count`` random runs, 1 elsewhere."""
  batch = range_B.shape[0]
  length_key, start_key = jax.random.split(key)
  # Two draws, in AlgoPerf's order: lengths, then starts.
  lengths_BM = (max_len_B[:, None] * jax.random.uniform(
    length_key, (batch, count))).astype(jnp.int32)
  bound_B1 = jnp.maximum((max_ratio * range_B).astype(jnp.int32), 1)[:, None]
  lengths_BM = jnp.minimum(lengths_BM, bound_B1)
  starts_BM = (jax.random.uniform(start_key, (batch, count))
               * (range_B[:, None] - lengths_BM + 1)).astype(jnp.int32)
  position = jnp.arange(size)[None, None, :]
  inside_BMS = ((position >= starts_BM[..., None])
                & (position < (starts_BM + lengths_BM)[..., None]))
  return 1.0 - jnp.any(inside_BMS, axis=1).astype(jnp.float32)


def spec_augment(rng, features_BTF, paddings_BT, *, freq_mask_count: int,
                 time_mask_count: int):
  """Masked log-mels [B, T, F]; the paddings are unchanged."""
  time_key, freq_key = jax.random.split(rng)
  batch, _, num_bins = features_BTF.shape
  if time_mask_count:
    lengths_B = jnp.sum(1.0 - paddings_BT, axis=1).astype(jnp.int32)
    keep_BT = _keep_mask(
      time_key, lengths_B, lengths_B * TIME_MASK_MAX_RATIO, time_mask_count,
      features_BTF.shape[1], TIME_MASK_MAX_RATIO)
    features_BTF = features_BTF * keep_BT[:, :, None]
  if freq_mask_count:
    range_B = jnp.full((batch,), num_bins, jnp.int32)
    keep_BF = _keep_mask(
      freq_key, range_B, jnp.full((batch,), float(FREQ_MASK_MAX_BINS)),
      freq_mask_count, num_bins, 1.0)
    features_BTF = features_BTF * keep_BF[:, None, :]
  return features_BTF
