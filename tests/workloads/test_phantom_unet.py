"""phantom_unet: the phantom generator and prepared data, SSIM.

What every workload must do (train, evaluate, prepare) is checked for this
family by tests/contract/test_workloads.py.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from algoperf.data import prepared
from tests.conftest import prepare_once
from workloads.phantom_unet import dataset
from workloads.phantom_unet import phantoms
from workloads.phantom_unet import ssim

# --- Generator and dataset builder. ---


def test_generator_is_deterministic_and_prefix_stable():
  first = [phantoms.make_example(i) for i in range(3)]
  again = [phantoms.make_example(i) for i in range(3)]
  for a, b in zip(first, again):
    np.testing.assert_array_equal(a['inputs'], b['inputs'])
    np.testing.assert_array_equal(a['targets'], b['targets'])
  assert not np.array_equal(first[0]['targets'], first[1]['targets'])
  target = first[0]['targets']
  assert target.shape == (phantoms.IMAGE_SIZE, phantoms.IMAGE_SIZE)
  assert target.dtype == np.float32
  assert 0.0 <= target.min() and target.max() <= 1.0 and target.max() > 0.5


def test_mask_has_full_centre_and_about_quarter_of_columns():
  masks = np.stack([phantoms.make_mask(i) for i in range(200)])
  centre = phantoms.IMAGE_SIZE // 2
  assert masks[:, centre - 2 : centre + 2].all()
  assert abs(masks.mean() - 1 / phantoms.ACCELERATION) < 0.03
  assert not (masks == masks[0]).all()  # One mask per example.


def test_fully_sampled_kspace_reconstructs_the_phantom():
  target = phantoms.make_phantom(5)
  full = np.ones(phantoms.IMAGE_SIZE, bool)
  recon = phantoms.zero_filled(phantoms.to_kspace(target), full)
  np.testing.assert_allclose(recon, target, atol=1e-5)
  under = phantoms.zero_filled(
    phantoms.to_kspace(target), phantoms.make_mask(5)
  )
  assert np.abs(under - target).mean() > 0.01


def test_prepared_splits_are_the_generator_s_examples_in_order(
    prepared_data_dir):
  prepare_once(dataset.EllipsePhantoms, prepared_data_dir)
  val = prepared.load_split(dataset.EllipsePhantoms, 'validation',
                            prepared_data_dir, 'phantom_unet')
  first = dataset.FIRST_SIZES['train']  # Validation follows train ...
  extra = dataset.EXTRA_STARTS['validation']  # ... then its own range.
  rows = len(val['inputs'])
  assert rows == dataset.SPLIT_SIZES['validation']
  for row, index in ((0, first), (1, first + 1), (255, first + 255),
                     (256, extra), (rows - 1, extra + rows - 257)):
    expected = phantoms.make_example(index)
    np.testing.assert_array_equal(val['targets'][row], expected['targets'])
    np.testing.assert_array_equal(val['inputs'][row], expected['inputs'])


# --- SSIM. ---


def _ssim_by_loops(im1, im2, data_range, win=7):
  """Direct per-window SSIM (sample covariance), for cross-checking."""
  values = []
  for i in range(im1.shape[0] - win + 1):
    for j in range(im1.shape[1] - win + 1):
      a = im1[i : i + win, j : j + win].ravel().astype(np.float64)
      b = im2[i : i + win, j : j + win].ravel().astype(np.float64)
      cov = np.cov(a, b)  # ddof=1.
      c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
      num = (2 * a.mean() * b.mean() + c1) * (2 * cov[0, 1] + c2)
      den = (a.mean() ** 2 + b.mean() ** 2 + c1) * (cov[0, 0] + cov[1, 1] + c2)
      values.append(num / den)
  return float(np.mean(values))


def test_ssim_of_identical_images_is_one():
  images = jnp.asarray(np.random.default_rng(0).uniform(size=(3, 16, 16)))
  np.testing.assert_allclose(ssim.ssim(images, images), 1.0, atol=1e-6)


def test_ssim_matches_direct_window_computation_and_is_symmetric():
  rng = np.random.default_rng(1)
  im1 = rng.uniform(size=(12, 12)).astype(np.float32)
  im2 = (im1 + 0.3 * rng.normal(size=(12, 12))).astype(np.float32)
  value = float(ssim.structural_similarity(im1, im2, 1.0))
  assert value == pytest.approx(_ssim_by_loops(im1, im2, 1.0), abs=1e-4)
  swapped = float(ssim.structural_similarity(im2, im1, 1.0))
  assert swapped == pytest.approx(value, abs=1e-6)
  assert 0.0 < value < 0.9


def test_ssim_undoes_normalisation_and_scales_with_data_range():
  rng = np.random.default_rng(2)
  im1, im2 = rng.uniform(size=(2, 1, 10, 10)).astype(np.float32)
  mean, std = np.float32(0.4), np.float32(2.5)
  direct = ssim.ssim(
    im1 * std + mean, im2 * std + mean, data_range=jnp.array([std])
  )
  normalised = ssim.ssim(
    im1, im2, jnp.array([mean]), jnp.array([std]), jnp.array([std])
  )
  np.testing.assert_allclose(normalised, direct, rtol=1e-5)
  unscaled = ssim.ssim(im1, im2, data_range=jnp.array([1.0]))
  scaled = ssim.ssim(im1 * std, im2 * std, data_range=jnp.array([std]))
  np.testing.assert_allclose(scaled, unscaled, rtol=1e-4)
  assert abs(float(normalised[0] - unscaled[0])) > 1e-5  # Not shift-free.
  # Zero data range marks a padding row: replaced by 1, never NaN.
  padded = ssim.ssim(im1, im2, data_range=jnp.array([0.0]))
  np.testing.assert_allclose(padded, unscaled, rtol=1e-6)


def test_ssim_penalises_noise_and_stays_in_range():
  target = jnp.asarray(phantoms.make_phantom(0))[None]
  noise = np.random.default_rng(3).normal(size=target.shape)
  small = ssim.ssim(target + 0.05 * noise, target)
  large = ssim.ssim(target + 0.5 * noise, target)
  inverted = ssim.ssim(1.0 - target, target)
  assert 1.0 > float(small[0]) > float(large[0])
  assert -1.0 <= float(inverted[0]) < 0.0
