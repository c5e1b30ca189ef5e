"""AlgoPerf's wmt models, for the parameter-count table.

Run by scripts/algoperf_param_counts.py in a subprocess whose sys.path puts
AlgoPerf's checkout (mlcommons/algorithmic-efficiency at 2c90454) first:
the imports below are AlgoPerf's package, not ours. Each function returns
the shapes of AlgoPerf's JAX parameter tree: jax.eval_shape of its
Transformer's init on the fake batch its init_model_fn uses (inputs and
targets of ones, [8, 256]), so no data is needed.
"""

import functools


def _transformer_shapes(pre_ln: bool, attention_temp: float,
                        activation: str, glu: bool):
  import jax
  import jax.numpy as jnp
  from flax import linen as nn

  from algoperf.workloads.wmt.wmt_jax import models

  # As WmtWorkload.init_model_fn maps its `activation` property.
  act = {'relu': nn.relu, 'tanh': jnp.tanh}[activation]
  config = models.TransformerConfig(pre_ln=pre_ln,
                                    attention_temp=attention_temp,
                                    activation=act, glu=glu,
                                    deterministic=True)
  model = models.Transformer(config)
  ones = jnp.ones((8, 256), jnp.float32)
  rngs = {'params': jax.random.PRNGKey(0), 'dropout': jax.random.PRNGKey(1)}
  variables = jax.eval_shape(model.init, rngs, ones, ones)
  return variables['params']


def algoperf_models() -> dict:
  """Workload name -> a function returning AlgoPerf's parameter shapes."""
  # The properties each AlgoPerf class overrides (wmt_jax/workload.py).
  return {
    'wmt': functools.partial(_transformer_shapes, True, 1.0, 'relu', False),
    'wmt_post_ln': functools.partial(_transformer_shapes, False, 1.0, 'relu',
                                     False),
    'wmt_attention_temp': functools.partial(_transformer_shapes, True, 4.0,
                                            'relu', False),
    'wmt_glu_tanh': functools.partial(_transformer_shapes, True, 1.0, 'tanh',
                                      True),
  }
