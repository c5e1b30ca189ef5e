"""Random ellipse phantoms and the single-coil k-space forward model (numpy).

Each phantom is built like the Shepp-Logan head phantom: a bright skull
ellipse, a darker brain ellipse inside it, and a few random inner ellipses
whose intensities add up, clipped to [0, 1]. Edges are anti-aliased by
drawing on a grid ``SUPERSAMPLE`` times finer and averaging.

The forward model follows fastMRI's knee single-coil task (and AlgoPerf's
fastmri input pipeline): a centred 2-D FFT of the image, a Cartesian mask of
phase-encoding columns (a fully sampled centre plus random columns for an
overall acceleration), and the magnitude of the zero-filled inverse FFT.

Example ``i`` depends only on ``(GENERATOR_SEED, i)``, so a dataset of any
size is a prefix of a larger one and regeneration is bit-identical.
"""

import numpy as np

IMAGE_SIZE = 32
SUPERSAMPLE = 2
# Bump with the dataset builder's VERSION whenever generation changes.
GENERATOR_SEED = 20261127
MASK_SEED = 20261128
# fastMRI's 4x setting. Its centre fraction (0.08) would keep only 2 of 32
# columns here, so the centre is widened to 4 columns (1/8).
ACCELERATION = 4
CENTER_FRACTION = 0.125
MIN_INNER, MAX_INNER = 3, 8


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
  """Pixel-centre coordinates in [-1, 1] (y down the rows, x across)."""
  ticks = (np.arange(size) + 0.5) / size * 2.0 - 1.0
  return np.meshgrid(ticks, ticks, indexing='ij')


def _ellipse(y, x, centre, axes, angle) -> np.ndarray:
  cos, sin = np.cos(angle), np.sin(angle)
  dy, dx = y - centre[0], x - centre[1]
  u = (dx * cos + dy * sin) / axes[1]
  v = (-dx * sin + dy * cos) / axes[0]
  return (u * u + v * v <= 1.0).astype(np.float64)


def make_phantom(index: int, size: int = IMAGE_SIZE) -> np.ndarray:
  """The ``index``-th phantom: float32 [size, size] with values in [0, 1]."""
  rng = np.random.default_rng([GENERATOR_SEED, index])
  fine = size * SUPERSAMPLE
  y, x = _grid(fine)
  centre = rng.uniform(-0.05, 0.05, 2)
  head_axes = np.array([rng.uniform(0.8, 0.95), rng.uniform(0.6, 0.85)])
  head_angle = rng.uniform(-0.3, 0.3)
  image = _ellipse(y, x, centre, head_axes, head_angle)  # Skull: 1.0.
  brain_axes = head_axes * rng.uniform(0.86, 0.92)
  image -= 0.8 * _ellipse(y, x, centre, brain_axes, head_angle)  # Brain: 0.2.
  for _ in range(rng.integers(MIN_INNER, MAX_INNER + 1)):
    radius = rng.uniform(0.0, 0.55)
    direction = rng.uniform(0.0, 2.0 * np.pi)
    offset = (
      radius * brain_axes * np.array([np.sin(direction), np.cos(direction)])
    )
    axes = rng.uniform(0.05, 0.3, 2)
    intensity = rng.uniform(0.1, 0.5) * rng.choice([-1.0, 1.0], p=[0.3, 0.7])
    image += intensity * _ellipse(
      y, x, centre + offset, axes, rng.uniform(0.0, np.pi)
    )
  image = np.clip(image, 0.0, 1.0)
  image = image.reshape(size, SUPERSAMPLE, size, SUPERSAMPLE).mean((1, 3))
  return image.astype(np.float32)


def make_mask(index: int, num_cols: int = IMAGE_SIZE) -> np.ndarray:
  """Cartesian column mask (bool [num_cols]) as fastMRI's random mask.

  ``num_cols * CENTER_FRACTION`` centre columns are always sampled; every
  other column with the probability that makes the expected fraction of
  sampled columns ``1 / ACCELERATION``.
  """
  rng = np.random.default_rng([MASK_SEED, index])
  num_low = round(num_cols * CENTER_FRACTION)
  prob = (num_cols / ACCELERATION - num_low) / (num_cols - num_low)
  mask = rng.uniform(size=num_cols) < prob
  start = (num_cols - num_low + 1) // 2
  mask[start : start + num_low] = True
  return mask


def to_kspace(image: np.ndarray) -> np.ndarray:
  """Centred orthonormal 2-D FFT (DC in the middle, as fastMRI's fft2c)."""
  shifted = np.fft.ifftshift(image, axes=(-2, -1))
  kspace = np.fft.fft2(shifted, norm='ortho')
  return np.fft.fftshift(kspace, axes=(-2, -1))


def zero_filled(kspace: np.ndarray, mask: np.ndarray) -> np.ndarray:
  """Magnitude of the inverse FFT with unsampled columns set to zero."""
  masked = kspace * mask[None, :]
  shifted = np.fft.ifftshift(masked, axes=(-2, -1))
  image = np.fft.ifft2(shifted, norm='ortho')
  return np.abs(np.fft.fftshift(image, axes=(-2, -1))).astype(np.float32)


def make_example(index: int) -> dict[str, np.ndarray]:
  """{'inputs': zero-filled magnitude, 'targets': phantom}, both float32."""
  target = make_phantom(index)
  inputs = zero_filled(to_kspace(target), make_mask(index))
  return {'inputs': inputs, 'targets': target}
