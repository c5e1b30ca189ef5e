"""librispeech_conformer: parameter parity with AlgoPerf, the front end,
SpecAugment, the loss and the word error rate, and (slow) a training step
and an evaluation at AlgoPerf's input shapes.

The parity table (tests/workloads/algoperf_params/librispeech_conformer.json)
holds AlgoPerf's parameter shapes at 2c90454, computed from AlgoPerf's own
code by scripts/algoperf_params/librispeech_conformer.py.
"""

import functools
import json
import math
import os
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algoperf import spec
from tests.workloads import param_table
from workloads.librispeech_conformer import frontend
from workloads.librispeech_conformer import model as conformer_model
from workloads.librispeech_conformer import specaugment
from workloads.librispeech_conformer import wer
from workloads.librispeech_conformer import workload as conformer_workload

REPO = pathlib.Path(__file__).resolve().parents[2]
CLASSES = {
  'librispeech_conformer':
    conformer_workload.LibriSpeechConformerWorkload,
  'librispeech_conformer_attention_temperature':
    conformer_workload.LibriSpeechConformerAttentionTemperatureWorkload,
  'librispeech_conformer_layernorm':
    conformer_workload.LibriSpeechConformerLayerNormWorkload,
  'librispeech_conformer_gelu':
    conformer_workload.LibriSpeechConformerGeluWorkload,
}


def algoperf_table(family: str) -> dict:
  return param_table.table(family)['workloads']


def test_table_names_every_workload_and_its_algoperf_count():
  table = algoperf_table('librispeech_conformer')
  assert sorted(table) == sorted(CLASSES)
  for entry in table.values():
    assert entry['num_params'] == sum(
      math.prod(s) for s in entry['shapes'].values())
  assert table['librispeech_conformer']['num_params'] == 32_321_792
  assert table['librispeech_conformer_layernorm']['num_params'] == 32_317_696


@pytest.mark.parametrize('name', sorted(CLASSES))
def test_parameter_tree_equals_algoperf(name):
  workload = CLASSES[name]()
  assert workload.name == name
  param_table.assert_matches_table('librispeech_conformer', workload)


def test_variants_change_one_setting_each():
  base = CLASSES['librispeech_conformer']
  changed = {name: {s for s in base.model_settings
                    if getattr(cls, s) != getattr(base, s)}
             for name, cls in CLASSES.items()}
  assert changed == {
    'librispeech_conformer': set(),
    'librispeech_conformer_attention_temperature': {'attention_temperature'},
    'librispeech_conformer_layernorm': {'post_layer_norm'},
    'librispeech_conformer_gelu': {'activation'},
  }
  assert CLASSES['librispeech_conformer_attention_temperature'
                 ].attention_temperature == 1.6


# --- Front end and SpecAugment. ---


def test_front_end_frames_and_paddings():
  assert frontend.num_frames(320_000) == 1998
  rng = np.random.default_rng(0)
  audio = rng.normal(0, 3000, (2, 4000)).astype(np.float32)
  paddings = np.zeros((2, 4000), np.float32)
  paddings[1, 2000:] = 1.0
  features, frame_paddings = frontend.log_mel(audio, paddings)
  assert features.shape == (2, frontend.num_frames(4000), 80)
  # A frame is padding only when every one of its samples is.
  first_padded = int(np.argmax(np.asarray(frame_paddings[1])))
  assert first_padded * frontend.FRAME_STEP >= 2000
  assert (first_padded - 1) * frontend.FRAME_STEP < 2000
  # Samples past the paddings do not reach the features.
  noisy = audio.copy()
  noisy[1, 2000:] = 1e4
  features_noisy, _ = frontend.log_mel(noisy, paddings)
  np.testing.assert_allclose(features_noisy[1, :first_padded],
                             features[1, :first_padded], rtol=1e-5)


def test_front_end_log_mels_follow_a_tone():
  """A 1 kHz tone peaks in the mel band whose centre is nearest 1 kHz."""
  t = np.arange(16_000) / 16_000
  audio = (10_000 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)[None]
  features, _ = frontend.log_mel(audio, np.zeros_like(audio))
  raw = np.asarray(features) * frontend.MEL_STDDEV + frontend.MEL_MEAN
  mel_edges = np.linspace(frontend._hz_to_mel(125.0),
                          frontend._hz_to_mel(7600.0), 82)
  centres_hz = 700.0 * np.expm1(mel_edges[1:-1] / 1127.0)
  assert np.argmax(raw.mean(axis=1)[0]) == np.argmin(abs(centres_hz - 1000))


def test_spec_augment_masks_runs_within_the_utterance():
  features = jnp.ones((4, 300, 80))
  paddings = jnp.zeros((4, 300)).at[:, 200:].set(1.0)
  augment = jax.jit(functools.partial(
    specaugment.spec_augment, freq_mask_count=2, time_mask_count=10))
  masked = np.asarray(augment(jax.random.PRNGKey(1), features, paddings))
  frames_masked = masked.max(axis=2) == 0
  bins_masked = masked.max(axis=1) == 0
  assert not frames_masked[:, 200:].any()  # Time masks: real frames only.
  # Each time mask covers at most 5% of the 200 real frames: 10 of them.
  assert frames_masked.sum(axis=1).max() <= 10 * 10
  assert bins_masked.sum(axis=1).max() <= 2 * 27
  assert frames_masked.any() and bins_masked.any()
  assert np.all(masked[~frames_masked[:, :, None] & ~bins_masked[:, None, :]]
                == 1.0)


# --- Loss and word error rate. ---


def test_word_edit_distance():
  assert wer.word_edit_distance([], []) == 0
  assert wer.word_edit_distance('a b c'.split(), 'a c'.split()) == 1
  assert wer.word_edit_distance('a x c d'.split(), 'a b c'.split()) == 2
  assert wer.word_edit_distance([], 'a b'.split()) == 2


def test_word_errors_are_over_detokenised_words():
  """Two pieces make one word: errors count words, not pieces."""
  pieces = {1: '▁the', 2: '▁ca', 3: 't', 4: '▁sat', 5: '▁mat'}

  def detokenize(ids):
    return ''.join(pieces[int(i)] for i in ids).replace('▁', ' ').strip()

  # Frames: "the" "ca" blank "t" "t" -> the cat ; reference: the cat sat.
  hypotheses = np.array([[1, 2, 0, 3, 0, 0], [5, 0, 0, 0, 0, 0]])
  targets = np.array([[1, 2, 3, 4, 0], [5, 0, 0, 0, 0]])
  paddings = (targets == 0).astype(np.float32)
  errors, words = wer.word_errors(hypotheses, targets, paddings,
                                  np.array([True, True]), detokenize)
  assert (errors, words) == (1.0, 4.0)
  errors, words = wer.word_errors(hypotheses, targets, paddings,
                                  np.array([False, True]), detokenize)
  assert (errors, words) == (0.0, 1.0)


def test_loss_is_ctc_per_target_piece_and_masks_rows():
  workload = object.__new__(CLASSES['librispeech_conformer'])
  rng = np.random.default_rng(0)
  logits = jnp.asarray(rng.normal(size=(3, 20, 8)), jnp.float32)
  logit_paddings = jnp.zeros((3, 20)).at[2, 10:].set(1.0)
  targets = jnp.asarray([[1, 2, 3, 0], [4, 4, 0, 0], [5, 6, 7, 1]])
  target_paddings = (targets == 0).astype(jnp.float32)
  loss = jax.jit(lambda mask: workload.loss_fn(
    (targets, target_paddings), (logits, logit_paddings), mask))
  out = loss(jnp.ones(3))
  assert float(out['n_valid_examples']) == 9.0
  assert np.all(np.asarray(out['per_example']) > 0)
  np.testing.assert_allclose(out['summed'], out['per_example'].sum(),
                             rtol=1e-6)
  masked = loss(jnp.asarray([1.0, 0.0, 1.0]))
  assert float(masked['n_valid_examples']) == 7.0
  np.testing.assert_allclose(
    masked['summed'], out['per_example'][0] + out['per_example'][2],
    rtol=1e-6)
  # Three frames hold "1 2 3" and "4 <blank> 4" but not the four pieces of
  # row 2: optax gives that row no alignment (a huge loss). Were the label
  # paddings ignored, rows 0 and 1 would need more frames too.
  short = jax.jit(lambda: workload.loss_fn(
    (targets, target_paddings), (logits[:, :3], logit_paddings[:, :3])))()
  per_example = np.asarray(short['per_example'])
  assert per_example[0] < 100 and per_example[1] < 100
  assert per_example[2] > 1e4


def test_synthetic_batch_is_in_the_documented_format():
  arrays = CLASSES['librispeech_conformer'].synthetic_arrays(None, 3, 0)
  assert arrays['inputs'].shape == (3, 320_000)
  assert arrays['input_paddings'].dtype == np.float32
  assert arrays['targets'].shape == (3, 256)
  assert arrays['targets'].dtype == np.int32
  # Zero wherever padded; padding only at the end.
  assert np.all(arrays['inputs'][arrays['input_paddings'] == 1] == 0)
  assert np.all(arrays['targets'][arrays['target_paddings'] == 1] == 0)
  assert np.all(np.diff(arrays['input_paddings'], axis=1) >= 0)
  batch = conformer_workload.model_batch(arrays)
  assert batch['inputs'][0] is arrays['inputs']
  assert batch['targets'][1] is arrays['target_paddings']
  assert conformer_workload.model_batch(batch) is batch


# --- A real step and an evaluation at AlgoPerf's shapes. ---


def train_and_evaluate(workload_class) -> dict:
  """Init, one forward + backward in training mode at batch 2 of 320,000
  samples, and an evaluation of 2 examples, through the workload API."""
  workload = workload_class()
  workload.use_synthetic_data(num_examples=2)
  workload.eval_batch_size = 2  # AlgoPerf's 256 pads 2 examples to 256 rows.
  params, model_state = workload.init_model_fn(jax.random.PRNGKey(0))
  batch = next(workload._build_input_queue(
    jax.random.PRNGKey(1), 'train', None, 2))
  assert batch['inputs'][0].shape == (2, 320_000)

  def loss(params):
    (logits, paddings), new_state = workload.model_fn(
      params, batch, model_state, spec.ForwardPassMode.TRAIN,
      jax.random.PRNGKey(2), update_batch_norm=True)
    out = workload.loss_fn(batch['targets'], (logits, paddings))
    return out['summed'] / out['n_valid_examples'], (logits, new_state)

  (value, (logits, new_state)), grads = jax.value_and_grad(
    loss, has_aux=True)(params)
  assert logits.shape == (2, 500, 1024)
  assert np.isfinite(float(value)) and float(value) > 0
  grad_norms = jax.tree.map(lambda g: float(jnp.linalg.norm(g)), grads)
  assert all(np.isfinite(n) for n in jax.tree.leaves(grad_norms))
  assert grad_norms['Dense_0']['kernel'] > 0
  assert new_state.keys() == (model_state or {}).keys()
  results = workload._eval_model_on_split(
    'validation', 2, 2, params, model_state, None, None)
  assert np.isfinite(results['loss']) and results['loss'] > 0
  assert 0.0 <= results['wer']
  return results


@pytest.mark.slow
def test_forward_and_backward_at_algoperf_shapes():
  train_and_evaluate(CLASSES['librispeech_conformer'])


# --- The parity table comes from AlgoPerf's code. ---


ALGOPERF_SRC = pathlib.Path(os.environ.get('ALGOPERF_SRC',
                                           '/work/algoperf_src'))
DRIVER = REPO / 'scripts' / 'algoperf_param_counts.py'


def regenerate_table(family: str, tmp_path) -> dict:
  if not (ALGOPERF_SRC / 'algoperf' / 'workloads').is_dir():
    pytest.skip(f'AlgoPerf\'s code is not at {ALGOPERF_SRC} (set '
                'ALGOPERF_SRC to a checkout of commit 2c90454)')
  if not DRIVER.exists():
    pytest.skip(f'{DRIVER.relative_to(REPO)} is not on this branch yet')
  out = tmp_path / 'out'
  subprocess.run(
    [sys.executable, str(DRIVER), '--algoperf-dir', str(ALGOPERF_SRC),
     '--family', family, '--out-dir', str(out)],
    check=True, cwd=REPO)
  return json.loads((out / f'{family}.json').read_text())


@pytest.mark.slow
def test_table_regenerates_from_algoperf(tmp_path):
  got = regenerate_table('librispeech_conformer', tmp_path)
  assert got['workloads'] == algoperf_table('librispeech_conformer')


def algoperf_outputs(family: str, tmp_path):
  """AlgoPerf's variables, logits and log-mels on fixed audio (its code
  run in a subprocess, with it first on sys.path), and the audio."""
  if not (ALGOPERF_SRC / 'algoperf' / 'workloads').is_dir():
    pytest.skip(f'AlgoPerf\'s code is not at {ALGOPERF_SRC} (set '
                'ALGOPERF_SRC to a checkout of commit 2c90454)')
  out = tmp_path / f'{family}.npz'
  script = REPO / 'scripts' / 'algoperf_params' / 'librispeech_outputs.py'
  # Run from tmp_path with only AlgoPerf on PYTHONPATH: our package of the
  # same name must not shadow it.
  subprocess.run([sys.executable, str(script), family, str(out)],
                 check=True, cwd=tmp_path,
                 env={**os.environ, 'PYTHONPATH': str(ALGOPERF_SRC),
                      'JAX_PLATFORMS': 'cpu'})
  arrays = dict(np.load(out))
  variables = {}
  for key, value in arrays.items():
    if key.startswith(('params/', 'batch_stats/')):
      *parents, leaf = key.split('/')
      node = variables
      for parent in parents:
        node = node.setdefault(parent, {})
      node[leaf] = value
  sys.path.insert(0, str(script.parent))
  try:
    import librispeech_outputs
  finally:
    sys.path.remove(str(script.parent))
  return variables, arrays, librispeech_outputs.inputs()


def assert_outputs_equal_algoperfs(module, family: str, tmp_path):
  """Our model, given AlgoPerf's parameters, gives AlgoPerf's outputs."""
  variables, reference, (audio, paddings) = algoperf_outputs(family,
                                                             tmp_path)
  features, feature_paddings = frontend.log_mel(audio, paddings)
  np.testing.assert_allclose(features, reference['features'], atol=1e-3)
  np.testing.assert_array_equal(feature_paddings,
                                reference['feature_paddings'])
  logits, logit_paddings = jax.jit(functools.partial(
    module.apply, train=False))(variables, (audio, paddings))
  np.testing.assert_allclose(logits, reference['logits'], atol=1e-4,
                             rtol=1e-4)
  np.testing.assert_array_equal(logit_paddings, reference['logit_paddings'])


@pytest.mark.slow
def test_outputs_equal_algoperfs_given_its_parameters(tmp_path):
  assert_outputs_equal_algoperfs(
    conformer_model.Conformer(), 'librispeech_conformer', tmp_path)
