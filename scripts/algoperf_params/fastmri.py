"""AlgoPerf's fastmri models, for the parameter-count table.

Run by scripts/algoperf_param_counts.py in a subprocess whose sys.path puts
AlgoPerf's checkout (mlcommons/algorithmic-efficiency at 2c90454) first:
the imports below are AlgoPerf's package, not ours. Each function returns
the shapes of AlgoPerf's JAX parameter tree (jax.eval_shape of its init on
AlgoPerf's fake batch, zeros of shape [13, 320, 320], train=False).
"""

import functools


def _unet_shapes(num_channels: int, num_pool_layers: int, use_tanh: bool,
                 use_layer_norm: bool):
  import jax
  import jax.numpy as jnp
  from algoperf.workloads.fastmri.fastmri_jax.models import UNet

  model = UNet(num_pool_layers=num_pool_layers, num_channels=num_channels,
               use_tanh=use_tanh, use_layer_norm=use_layer_norm)
  init = functools.partial(model.init, train=False)
  variables = jax.eval_shape(init, {'params': jax.random.PRNGKey(0)},
                             jnp.zeros((13, 320, 320)))
  return variables['params']


def algoperf_models() -> dict:
  """Workload name -> a function returning AlgoPerf's parameter shapes."""
  # The settings each AlgoPerf workload class passes to UNet
  # (fastmri/workload.py and fastmri_jax/workload.py).
  return {
    'fastmri': functools.partial(_unet_shapes, 32, 4, False, False),
    'fastmri_model_size': functools.partial(_unet_shapes, 64, 3, False,
                                            False),
    'fastmri_tanh': functools.partial(_unet_shapes, 32, 4, True, False),
    'fastmri_layernorm': functools.partial(_unet_shapes, 32, 4, False, True),
  }
