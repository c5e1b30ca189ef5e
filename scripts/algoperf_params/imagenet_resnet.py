"""AlgoPerf's imagenet_resnet models, for the parameter-count table.

Run by scripts/algoperf_param_counts.py in a subprocess whose sys.path puts
AlgoPerf's checkout (mlcommons/algorithmic-efficiency at 2c90454) first:
the imports below are AlgoPerf's package, not ours. Each function returns
the shapes of AlgoPerf's JAX parameter tree (jax.eval_shape of its init,
with the inputs AlgoPerf's init_model_fn uses), so no data is needed.
"""

import functools


def _resnet(act_name: str, bn_init_scale: float):
  """AlgoPerf's module and its init input (as its init_model_fn builds)."""
  import jax.numpy as jnp
  from flax import linen as nn

  from algoperf.workloads.imagenet_resnet.imagenet_jax import models

  model = models.ResNet50(num_classes=1000, act=getattr(nn, act_name),
                          bn_init_scale=bn_init_scale, dtype=jnp.float32)
  return model, jnp.ones((1, 224, 224, 3), jnp.float32)


def _resnet_shapes(act_name: str, bn_init_scale: float):
  import jax

  model, inputs = _resnet(act_name, bn_init_scale)
  variables = jax.eval_shape(model.init, {'params': jax.random.PRNGKey(0)},
                             inputs)
  return variables['params']


# The settings each AlgoPerf workload class passes to ResNet50
# (imagenet_jax/workload.py: use_silu, use_gelu, bn_init_scale).
_SETTINGS = {
  'imagenet_resnet': ('relu', 0.0),
  'imagenet_resnet_silu': ('silu', 0.0),
  'imagenet_resnet_gelu': ('gelu', 0.0),
  'imagenet_resnet_large_bn_init': ('relu', 8.0),
}


def algoperf_models() -> dict:
  """Workload name -> a function returning AlgoPerf's parameter shapes."""
  return {name: functools.partial(_resnet_shapes, *settings)
          for name, settings in _SETTINGS.items()}


def algoperf_modules() -> dict:
  """Workload name -> a function returning (AlgoPerf's flax module, its init
  input): for comparing outputs (tests/workloads/algoperf_outputs.py)."""
  return {name: functools.partial(_resnet, *settings)
          for name, settings in _SETTINGS.items()}
