"""AlgoPerf's librispeech_conformer parameter shapes, from AlgoPerf's code.

Run only with AlgoPerf's code (mlcommons/algorithmic-efficiency, commit
2c90454) first on ``sys.path`` and without ours: both top-level packages are
named ``algoperf``. ``scripts/algoperf_param_counts.py`` does that in a
subprocess and writes
tests/workloads/algoperf_params/librispeech_conformer.json.
"""

import functools

# AlgoPerf's workload input: two utterances of 320,000 samples (20 s).
_NUM_SAMPLES = 320_000


def _conformer_shapes(**config):
  import jax
  import jax.numpy as jnp

  from algoperf.workloads.librispeech_conformer.librispeech_jax import models

  model = models.Conformer(models.ConformerConfig(**config))
  audio = jax.ShapeDtypeStruct((2, _NUM_SAMPLES), jnp.float32)
  variables = jax.eval_shape(
    functools.partial(model.init, train=False),
    {'params': jax.random.PRNGKey(0)}, audio, audio)
  return variables['params']


def algoperf_models() -> dict:
  """Workload name -> a function returning AlgoPerf's parameter shapes.

  The configurations are those AlgoPerf's workload classes build in
  ``init_model_fn`` (librispeech_jax/workload.py).
  """
  return {
    'librispeech_conformer': functools.partial(_conformer_shapes),
    'librispeech_conformer_attention_temperature': functools.partial(
      _conformer_shapes, attention_temperature=1.6),
    'librispeech_conformer_layernorm': functools.partial(
      _conformer_shapes, use_post_layer_norm=False),
    'librispeech_conformer_gelu': functools.partial(
      _conformer_shapes, activation_function_name='gelu'),
  }
