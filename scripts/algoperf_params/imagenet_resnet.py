"""AlgoPerf's imagenet_resnet models, for the parameter-count table.

Run by scripts/algoperf_param_counts.py in a subprocess whose sys.path puts
AlgoPerf's checkout (mlcommons/algorithmic-efficiency at 2c90454) first:
the imports below are AlgoPerf's package, not ours. Each function returns
the shapes of AlgoPerf's JAX parameter tree (jax.eval_shape of its init,
with the inputs AlgoPerf's init_model_fn uses), so no data is needed.
"""

import functools


def _resnet_shapes(act_name: str, bn_init_scale: float):
  import jax
  import jax.numpy as jnp
  from flax import linen as nn
  from algoperf.workloads.imagenet_resnet.imagenet_jax import models

  model = models.ResNet50(num_classes=1000, act=getattr(nn, act_name),
                          bn_init_scale=bn_init_scale, dtype=jnp.float32)
  variables = jax.eval_shape(model.init, {'params': jax.random.PRNGKey(0)},
                             jnp.ones((1, 224, 224, 3), jnp.float32))
  return variables['params']


def algoperf_models() -> dict:
  """Workload name -> a function returning AlgoPerf's parameter shapes."""
  # The settings each AlgoPerf workload class passes to ResNet50
  # (imagenet_jax/workload.py: use_silu, use_gelu, bn_init_scale).
  return {
    'imagenet_resnet': functools.partial(_resnet_shapes, 'relu', 0.0),
    'imagenet_resnet_silu': functools.partial(_resnet_shapes, 'silu', 0.0),
    'imagenet_resnet_gelu': functools.partial(_resnet_shapes, 'gelu', 0.0),
    'imagenet_resnet_large_bn_init': functools.partial(
      _resnet_shapes, 'relu', 8.0),
  }
