"""SSIM as fastMRI and AlgoPerf's fastmri workload compute it (JAX).

Per example: undo the instance normalisation (``x * std + mean``), then the
mean SSIM (Wang et al. 2004) over every 7x7 window lying inside the image,
with uniform window weights, sample (n - 1) covariances, K1 = 0.01,
K2 = 0.03 and the data range set to the target's maximum. AlgoPerf filters
a symmetrically padded image and then drops a 3-pixel border, which leaves
exactly these interior windows. Values are clipped to [-1, 1].
"""

import jax
import jax.numpy as jnp

WINDOW = 7
K1, K2 = 0.01, 0.03


def _window_means(image: jax.Array) -> jax.Array:
  """Mean over every WINDOW x WINDOW window inside ``image`` [H, W]."""
  sums = jax.lax.reduce_window(
    image, 0.0, jax.lax.add, (WINDOW, WINDOW), (1, 1), 'VALID'
  )
  return sums / (WINDOW * WINDOW)


def structural_similarity(im1, im2, data_range) -> jax.Array:
  """Mean SSIM of two single-channel images [H, W] (H, W >= WINDOW)."""
  num_points = WINDOW * WINDOW
  cov_norm = num_points / (num_points - 1)  # Unbiased window covariance.
  mu1, mu2 = _window_means(im1), _window_means(im2)
  var1 = cov_norm * (_window_means(im1 * im1) - mu1 * mu1)
  var2 = cov_norm * (_window_means(im2 * im2) - mu2 * mu2)
  cov = cov_norm * (_window_means(im1 * im2) - mu1 * mu2)
  c1 = (K1 * data_range) ** 2
  c2 = (K2 * data_range) ** 2
  numerator = (2 * mu1 * mu2 + c1) * (2 * cov + c2)
  denominator = (mu1 * mu1 + mu2 * mu2 + c1) * (var1 + var2 + c2)
  return jnp.mean(numerator / denominator)


def ssim(outputs, targets, mean=None, std=None, data_range=None):
  """Per-example SSIM [B] of normalised ``outputs`` against ``targets``.

  Args:
    outputs: [B, H, W] model outputs, instance-normalised.
    targets: [B, H, W] targets, normalised with the same mean and std.
    mean: [B] normalisation means (default 0).
    std: [B] normalisation standard deviations (default 1).
    data_range: [B] dynamic range per example, the target's maximum
      (AlgoPerf's ``volume_max``); zeros (padding rows) are replaced by 1.

  Returns:
    [B] SSIM values in [-1, 1].
  """
  batch = outputs.shape[0]
  mean = jnp.zeros(batch) if mean is None else mean
  std = jnp.ones(batch) if std is None else std
  data_range = jnp.ones(batch) if data_range is None else data_range
  data_range = jnp.where(data_range == 0, 1.0, data_range)
  outputs = outputs * std[:, None, None] + mean[:, None, None]
  targets = targets * std[:, None, None] + mean[:, None, None]
  values = jax.vmap(structural_similarity)(outputs, targets, data_range)
  return jnp.clip(values, -1.0, 1.0)
