"""librispeech_deepspeech: parameter parity with AlgoPerf, the variants,
the LSTMs' handling of padding, and (slow) a training step and an
evaluation at AlgoPerf's input shapes.

The batch format, front end, SpecAugment, loss and WER are the Conformer
family's and are tested in test_librispeech_conformer.py.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.workloads import param_table
from tests.workloads.test_librispeech_conformer import algoperf_table
from tests.workloads.test_librispeech_conformer import (
  assert_outputs_equal_algoperfs,
)
from tests.workloads.test_librispeech_conformer import regenerate_table
from tests.workloads.test_librispeech_conformer import train_and_evaluate
from workloads.librispeech_deepspeech import model
from workloads.librispeech_deepspeech import workload as deepspeech_workload

CLASSES = {
  'librispeech_deepspeech':
    deepspeech_workload.LibriSpeechDeepSpeechWorkload,
  'librispeech_deepspeech_tanh':
    deepspeech_workload.LibriSpeechDeepSpeechTanhWorkload,
  'librispeech_deepspeech_no_resnet':
    deepspeech_workload.LibriSpeechDeepSpeechNoResNetWorkload,
  'librispeech_deepspeech_norm_and_spec_aug':
    deepspeech_workload.LibriSpeechDeepSpeechNormAndSpecAugWorkload,
}


def test_table_names_every_workload_and_its_algoperf_count():
  table = algoperf_table('librispeech_deepspeech')
  assert sorted(table) == sorted(CLASSES)
  assert table['librispeech_deepspeech']['num_params'] == 18_381_312
  assert table['librispeech_deepspeech_norm_and_spec_aug'][
    'num_params'] == 18_380_288


@pytest.mark.parametrize('name', sorted(CLASSES))
def test_parameter_tree_equals_algoperf(name):
  workload = CLASSES[name]()
  assert workload.name == name
  param_table.assert_matches_table('librispeech_deepspeech', workload)


def test_variants_change_what_algoperfs_change():
  base = CLASSES['librispeech_deepspeech']
  changed = {name: {s: getattr(cls, s) for s in base.model_settings
                    if getattr(cls, s) != getattr(base, s)}
             for name, cls in CLASSES.items()}
  assert changed == {
    'librispeech_deepspeech': {},
    'librispeech_deepspeech_tanh': {'use_tanh': True},
    'librispeech_deepspeech_no_resnet': {'residual': False},
    'librispeech_deepspeech_norm_and_spec_aug': {
      'decoder_layer_norm': False, 'layernorm_everywhere': True,
      'freq_mask_count': 4, 'time_mask_count': 15},
  }
  assert CLASSES['librispeech_deepspeech_norm_and_spec_aug'
                 ].eval_batch_size == 128
  assert base.eval_batch_size == 256


def test_backward_lstm_starts_at_the_last_real_frame():
  """Real frames' outputs do not depend on what fills the padding."""
  layer = model.Bidirectional(hidden=4)
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(1, 6, 3)), jnp.float32)
  lengths = jnp.asarray([4])
  # Random weights of the right shapes: flax's initialisers (orthogonal
  # ones) take seconds to compile and are not what is tested here.
  shapes = jax.eval_shape(layer.init, jax.random.PRNGKey(0), x, lengths)
  params = jax.tree.map(
    lambda leaf: jnp.asarray(rng.normal(size=leaf.shape), jnp.float32) * 0.5,
    shapes)
  apply = jax.jit(layer.apply)
  out = apply(params, x, lengths)
  out_other = apply(params, x.at[:, 4:].set(9.0), lengths)
  np.testing.assert_allclose(out[:, :4], out_other[:, :4], rtol=1e-6)
  # And the backward half at frame 3 has seen frame 3 only: it equals a
  # one-frame utterance's.
  alone = apply(params, jnp.zeros_like(x).at[:, 0].set(x[:, 3]),
                jnp.asarray([1]))
  np.testing.assert_allclose(out[0, 3, 4:], alone[0, 0, 4:], rtol=1e-5)
  assert out.shape == (1, 6, 8)


@pytest.mark.slow
@pytest.mark.parametrize('name', ['librispeech_deepspeech',
                                  'librispeech_deepspeech_norm_and_spec_aug'])
def test_forward_and_backward_at_algoperf_shapes(name):
  train_and_evaluate(CLASSES[name])


@pytest.mark.slow
def test_table_regenerates_from_algoperf(tmp_path):
  got = regenerate_table('librispeech_deepspeech', tmp_path)
  assert got['workloads'] == algoperf_table('librispeech_deepspeech')


@pytest.mark.slow
def test_outputs_equal_algoperfs_given_its_parameters(tmp_path):
  assert_outputs_equal_algoperfs(model.Deepspeech(), 'librispeech_deepspeech',
                                 tmp_path)
