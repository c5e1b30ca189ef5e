"""AlgoPerf's criteo1tb models, for the parameter-count table.

Run by scripts/algoperf_param_counts.py in a subprocess whose sys.path puts
AlgoPerf's checkout (mlcommons/algorithmic-efficiency at 2c90454) first:
the imports below are AlgoPerf's package, not ours. Each function returns
the shapes of AlgoPerf's JAX parameter tree: jax.eval_shape of its model's
init on the fake batch its init_model_fn uses (ones, [2, 39]); eval_shape
never allocates the 4,194,304 x 128 embedding table.
"""

import functools


def _dlrm_shapes(resnet: bool, use_layer_norm: bool,
                 embedding_init_multiplier):
  import jax
  import jax.numpy as jnp

  from algoperf.workloads.criteo1tb.criteo1tb_jax import models

  if resnet:  # Criteo1TbDlrmSmallResNetWorkload's class attributes.
    model_class, bottom, top = (models.DLRMResNet, (256, 256, 256),
                                (256, 256, 256, 256, 1))
  else:
    model_class, bottom, top = (models.DlrmSmall, (512, 256, 128),
                                (1024, 1024, 512, 256, 1))
  model = model_class(vocab_size=32 * 128 * 1024, num_dense_features=13,
                      mlp_bottom_dims=bottom, mlp_top_dims=top, embed_dim=128,
                      use_layer_norm=use_layer_norm,
                      embedding_init_multiplier=embedding_init_multiplier)
  init = functools.partial(model.init, train=False)
  variables = jax.eval_shape(init, {'params': jax.random.PRNGKey(0)},
                             jnp.ones((2, 39), jnp.float32))
  return variables['params']


def algoperf_models() -> dict:
  """Workload name -> a function returning AlgoPerf's parameter shapes."""
  # The properties each AlgoPerf class overrides (criteo1tb_jax/workload.py).
  return {
    'criteo1tb': functools.partial(_dlrm_shapes, False, False, None),
    'criteo1tb_layernorm': functools.partial(_dlrm_shapes, False, True, None),
    'criteo1tb_resnet': functools.partial(_dlrm_shapes, True, False, None),
    'criteo1tb_embed_init': functools.partial(_dlrm_shapes, False, False,
                                              1.0),
  }
