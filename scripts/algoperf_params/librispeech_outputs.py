"""AlgoPerf's LibriSpeech models' outputs on fixed audio, for parity tests.

Run with AlgoPerf's code (commit 2c90454) first on ``sys.path`` and
without ours (both top-level packages are named ``algoperf``):

  PYTHONPATH=$ALGOPERF_SRC python \\
    scripts/algoperf_params/librispeech_outputs.py \\
    {librispeech_conformer|librispeech_deepspeech} OUT.npz

Writes AlgoPerf's initial parameters (every leaf nudged by 0.01 x noise, so
the zero-initialised scales and biases matter), eval-mode logits and logit
paddings, and its front end's log-mels and frame paddings, for two
utterances of 48,000 samples, the second padded after 30,000. Parameter
paths are '/'-joined under 'params/' and 'batch_stats/'. Used by the slow
parity tests in tests/workloads/test_librispeech_*.py, which load the
parameters into our models and compare the outputs.
"""

import functools
import sys
import types

NUM_SAMPLES = 48_000
PADDED_FROM = 30_000


def inputs():
  """The fixed audio (int16 scale) and paddings both sides use."""
  import numpy as np

  rng = np.random.default_rng(0)
  audio = rng.normal(0, 2000, (2, NUM_SAMPLES)).round().astype(np.float32)
  paddings = np.zeros((2, NUM_SAMPLES), np.float32)
  paddings[1, PADDED_FROM:] = 1.0
  audio[1, PADDED_FROM:] = 0.0
  return audio, paddings


def main(family: str, out: str) -> None:
  # An exported AlgoPerf tree lacks setuptools_scm's generated version file.
  version = types.ModuleType('algoperf._version')
  version.version = '0+2c90454'
  sys.modules.setdefault('algoperf._version', version)
  import jax
  import numpy as np

  from algoperf.workloads.librispeech_conformer.librispeech_jax import (
    librispeech_preprocessor as pre,
  )

  if family == 'librispeech_conformer':
    from algoperf.workloads.librispeech_conformer.librispeech_jax import models
    model = models.Conformer(models.ConformerConfig())
  elif family == 'librispeech_deepspeech':
    from algoperf.workloads.librispeech_deepspeech.librispeech_jax import models
    model = models.Deepspeech(models.DeepspeechConfig())
  else:
    raise SystemExit(f'unknown family {family!r}: librispeech_conformer or '
                     'librispeech_deepspeech')
  audio, paddings = inputs()
  variables = jax.jit(functools.partial(model.init, train=False))(
    {'params': jax.random.PRNGKey(0)}, audio, paddings)
  variables = jax.tree.map(
    lambda x: x + 0.01 * jax.random.normal(jax.random.PRNGKey(1), x.shape),
    variables)
  logits, logit_paddings = jax.jit(functools.partial(model.apply,
                                                     train=False))(
    variables, audio, paddings)
  features, feature_paddings = pre.MelFilterbankFrontend(
    pre.LibrispeechPreprocessingConfig(),
    per_bin_mean=pre.LIBRISPEECH_MEAN_VECTOR,
    per_bin_stddev=pre.LIBRISPEECH_STD_VECTOR).apply({}, audio, paddings)
  arrays = {'logits': logits, 'logit_paddings': logit_paddings,
            'features': features, 'feature_paddings': feature_paddings}
  for path, leaf in jax.tree_util.tree_flatten_with_path(variables)[0]:
    arrays['/'.join(str(k.key) for k in path)] = leaf
  np.savez(out, **{k: np.asarray(v) for k, v in arrays.items()})


if __name__ == '__main__':
  main(*sys.argv[1:])
