"""phantom_unet: generator, dataset builder, SSIM, one-step smoke tests."""

import functools
import os
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from algoperf import spec
from algoperf.data import prepared
from algoperf import registry
from workloads.phantom_unet import dataset, phantoms, ssim

WORKLOADS = [
  'phantom_unet',
  'phantom_unet_tanh',
  'phantom_unet_layernorm',
  'phantom_unet_model_size',
]


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


class TinyEllipsePhantoms(dataset.EllipsePhantoms):
  """The real builder with tiny splits (a different TFDS name)."""

  SPLIT_SIZES: ClassVar = {'train': 6, 'validation': 3, 'test': 3}


def test_prepare_is_idempotent_and_matches_generator(tmp_path):
  builder = prepared.prepare(TinyEllipsePhantoms, tmp_path)
  files = sorted(p for p in tmp_path.rglob('*') if p.is_file())
  stamps = [os.stat(p).st_mtime_ns for p in files]
  prepared.prepare(TinyEllipsePhantoms, tmp_path)
  assert sorted(p for p in tmp_path.rglob('*') if p.is_file()) == files
  assert [os.stat(p).st_mtime_ns for p in files] == stamps
  assert builder.info.splits['test'].num_examples == 3
  val = prepared.load_split(TinyEllipsePhantoms, 'validation', tmp_path, 't')
  for row, index in enumerate(range(6, 9)):  # Validation follows train.
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


# --- Workloads on synthetic data. ---
# Compiling the U-Net (init especially) dominates these tests, so each
# workload is built, initialised and its train step jitted once per module.


@functools.cache
def _initialised(name):
  workload = registry.make_workload(name)
  workload.use_synthetic_data(16)
  params, model_state = workload.init_model_fn(jax.random.PRNGKey(0))
  optimizer = optax.nadamw(1e-3, weight_decay=0.08)

  @jax.jit
  def step(params, opt_state, batch, rng):
    def loss(p):
      outputs, _ = workload.model_fn(
        p,
        batch,
        model_state,
        spec.ForwardPassMode.TRAIN,
        rng,
        False,
        dropout_rate=0.1,
      )
      result = workload.loss_fn(batch['targets'], outputs)
      return result['summed'] / result['n_valid_examples']

    value, grads = jax.value_and_grad(loss)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, value

  return workload, params, model_state, optimizer, step


def _train_losses(name, num_steps, seed):
  workload, params, _, optimizer, step = _initialised(name)
  opt_state = optimizer.init(params)
  queue = workload._build_input_queue(
    jax.random.PRNGKey(seed), 'train', None, 8
  )
  losses = []
  for i in range(num_steps):
    params, opt_state, value = step(
      params,
      opt_state,
      next(queue),
      jax.random.fold_in(jax.random.PRNGKey(seed), i),
    )
    losses.append(float(value))
  return losses, params


@pytest.mark.parametrize('name', WORKLOADS)
def test_one_step_and_eval_on_synthetic_data(name):
  workload, _, model_state, _, _ = _initialised(name)
  assert workload.name == name
  assert workload.loss_type == spec.LossType.MEAN_ABSOLUTE_ERROR
  if name != 'phantom_unet':
    assert workload.base_name == 'phantom_unet'
  losses, params = _train_losses(name, 1, seed=0)
  assert np.isfinite(losses[0]) and losses[0] > 0
  assert workload.is_output_params('Conv_out') and 'Conv_out' in params
  results = workload.eval_model(
    8, params, model_state, jax.random.PRNGKey(0), None, None, 1
  )
  for split in ('train', 'validation', 'test'):
    assert -1.0 <= results[f'{split}/ssim'] <= 1.0
    assert np.isfinite(results[f'{split}/loss'])


def test_first_ten_losses_are_identical_for_the_same_seed():
  first, _ = _train_losses('phantom_unet', 10, seed=3)
  second, _ = _train_losses('phantom_unet', 10, seed=3)
  other, _ = _train_losses('phantom_unet', 10, seed=4)
  assert first == second
  assert first[-1] != first[0] and other != first
