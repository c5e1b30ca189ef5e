"""AlgoPerf's fastmri models, for the parameter-count table.

Run by scripts/algoperf_param_counts.py in a subprocess whose sys.path puts
AlgoPerf's checkout (mlcommons/algorithmic-efficiency at 2c90454) first:
the imports below are AlgoPerf's package, not ours. Each function returns
the shapes of AlgoPerf's JAX parameter tree (jax.eval_shape of its init on
AlgoPerf's fake batch, zeros of shape [13, 320, 320], train=False).
"""

import functools


def _unet(num_channels: int, num_pool_layers: int, use_tanh: bool,
          use_layer_norm: bool):
  """AlgoPerf's module and its init input (as its init_model_fn builds)."""
  import jax.numpy as jnp

  from algoperf.workloads.fastmri.fastmri_jax.models import UNet

  model = UNet(num_pool_layers=num_pool_layers, num_channels=num_channels,
               use_tanh=use_tanh, use_layer_norm=use_layer_norm)
  return model, jnp.zeros((13, 320, 320))


def _unet_shapes(*settings):
  import jax

  model, inputs = _unet(*settings)
  init = functools.partial(model.init, train=False)
  variables = jax.eval_shape(init, {'params': jax.random.PRNGKey(0)}, inputs)
  return variables['params']


# The settings each AlgoPerf workload class passes to UNet
# (fastmri/workload.py and fastmri_jax/workload.py):
# (num_channels, num_pool_layers, use_tanh, use_layer_norm).
_SETTINGS = {
  'fastmri': (32, 4, False, False),
  'fastmri_model_size': (64, 3, False, False),
  'fastmri_tanh': (32, 4, True, False),
  'fastmri_layernorm': (32, 4, False, True),
}


def algoperf_models() -> dict:
  """Workload name -> a function returning AlgoPerf's parameter shapes."""
  return {name: functools.partial(_unet_shapes, *settings)
          for name, settings in _SETTINGS.items()}


def algoperf_modules() -> dict:
  """Workload name -> a function returning (AlgoPerf's flax module, its init
  input): for comparing outputs (tests/workloads/algoperf_outputs.py)."""
  return {name: functools.partial(_unet, *settings)
          for name, settings in _SETTINGS.items()}
