"""AlgoPerf's librispeech_deepspeech parameter shapes, from AlgoPerf's code.

Run only with AlgoPerf's code (mlcommons/algorithmic-efficiency, commit
2c90454) first on ``sys.path`` and without ours: both top-level packages are
named ``algoperf``. ``scripts/algoperf_param_counts.py`` does that in a
subprocess and writes
tests/workloads/algoperf_params/librispeech_deepspeech.json.
"""

import functools

# AlgoPerf's workload input: two utterances of 320,000 samples (20 s).
_NUM_SAMPLES = 320_000


def _deepspeech_shapes(**config):
  import jax
  import jax.numpy as jnp

  from algoperf.workloads.librispeech_deepspeech.librispeech_jax import models

  model = models.Deepspeech(models.DeepspeechConfig(**config))
  audio = jax.ShapeDtypeStruct((2, _NUM_SAMPLES), jnp.float32)
  variables = jax.eval_shape(
    functools.partial(model.init, train=False),
    {'params': jax.random.PRNGKey(0)}, audio, audio)
  return variables['params']


def algoperf_models() -> dict:
  """Workload name -> a function returning AlgoPerf's parameter shapes.

  The configurations are those AlgoPerf's workload classes build in
  ``init_model_fn`` (librispeech_jax/workload.py); SpecAugment's mask
  counts do not change the parameters but are passed as AlgoPerf does.
  """
  return {
    'librispeech_deepspeech': functools.partial(_deepspeech_shapes),
    'librispeech_deepspeech_tanh': functools.partial(
      _deepspeech_shapes, use_tanh=True),
    'librispeech_deepspeech_no_resnet': functools.partial(
      _deepspeech_shapes, enable_residual_connections=False),
    'librispeech_deepspeech_norm_and_spec_aug': functools.partial(
      _deepspeech_shapes, enable_decoder_layer_norm=False,
      layernorm_everywhere=True, freq_mask_count=4, time_mask_count=15),
  }
