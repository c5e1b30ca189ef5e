"""digits_vit: random shifts of training digits, its variants' details.

What every workload must do (train, evaluate, a deterministic resumable
queue) is checked for this family by tests/contract/test_workloads.py.
"""

import jax
import numpy as np

from algoperf import base_workload
from algoperf import registry
from tests.conftest import abstract_params
from workloads.digits_vit import input_pipeline


def test_shifts_move_a_pixel_by_at_most_max_shift():
  images = np.full((200, 28, 28), -0.4, np.float32)  # Background value.
  images[:, 14, 14] = 2.0
  shifted = input_pipeline.random_shifts(images, 2, np.random.default_rng(0))
  assert shifted.shape == images.shape
  np.testing.assert_allclose(shifted.sum(axis=(1, 2)), images[0].sum())
  where = np.array([np.unravel_index(i.argmax(), i.shape) for i in shifted])
  assert np.abs(where - 14).max() == 2
  assert len({tuple(w) for w in where}) == 25  # Every offset in [-2, 2]^2.


def test_training_batches_are_the_plain_queue_s_examples_shifted():
  workload = registry.make_workload('digits_vit')
  workload.use_synthetic_data(32)
  rng = jax.random.PRNGKey(0)
  queue = workload._build_input_queue(rng, 'train', None, 8)
  assert isinstance(queue, input_pipeline.ShiftedBatches)
  plain = base_workload.ShuffledBatches(
    {k: workload.split_arrays('train', None)[k] for k in workload.input_keys},
    8, base_workload.seed_from_key(rng))
  shifted, unshifted = next(queue), next(plain)
  plain.close()
  np.testing.assert_array_equal(shifted['targets'], unshifted['targets'])
  assert not np.array_equal(shifted['inputs'], unshifted['inputs'])
  validation = workload._build_input_queue(rng, 'validation', None, 8)
  assert not isinstance(validation, input_pipeline.ShiftedBatches)
  validation.close()


def test_variants_gate_the_mlp_or_normalise_after_each_block():
  base = abstract_params('digits_vit')
  glu = abstract_params('digits_vit_glu')
  assert len(glu['encoderblock_0']['mlp']) == len(
    base['encoderblock_0']['mlp']) + 1  # The gate's Dense.
  assert 'encoder_layernorm' in base
  # Post-LN blocks already end normalised.
  assert 'encoder_layernorm' not in abstract_params('digits_vit_post_ln')
