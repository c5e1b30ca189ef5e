"""AlgoPerf's imagenet_vit models, for the parameter-count table.

Run by scripts/algoperf_param_counts.py in a subprocess whose sys.path puts
AlgoPerf's checkout (mlcommons/algorithmic-efficiency at 2c90454) first:
the imports below are AlgoPerf's package, not ours. Each function returns
the shapes of AlgoPerf's JAX parameter tree (jax.eval_shape of its init on
AlgoPerf's init input, ones of shape [1, 224, 224, 3]).

imagenet_vit_post_ln: at 2c90454 AlgoPerf's JAX ``Encoder1DBlock`` cannot
be initialised with ``use_post_layer_norm=True``: its MLP branch calls the
*result* of a dropout, ``Dropout(rate)(y, train)(rate=rate)``, which raises
"'DynamicJaxprTracer' object is not callable" (the PyTorch model has the
intended ``dropout(y)``). The shapes for that variant come from AlgoPerf's
models.py with that one call corrected in memory to
``Dropout(rate)(y, train, rate=rate)``, as the other dropouts in the same
block are written; nothing else changes and no parameter is involved.
"""

import functools

_BROKEN_CALL = 'Dropout(dropout_rate)(y, train)(rate=dropout_rate)'
_FIXED_CALL = 'Dropout(dropout_rate)(y, train, rate=dropout_rate)'


def _models(use_post_layer_norm: bool):
  """AlgoPerf's ViT models module (post-LN: with its dropout call fixed)."""
  import types

  from algoperf.workloads.imagenet_vit.imagenet_jax import models

  if not use_post_layer_norm:
    return models
  with open(models.__file__) as f:
    source = f.read()
  if source.count(_BROKEN_CALL) != 1:
    return models  # Another AlgoPerf commit: used as it is.
  fixed = types.ModuleType(models.__name__ + '_post_ln_fixed')
  fixed.__file__ = models.__file__
  exec(compile(source.replace(_BROKEN_CALL, _FIXED_CALL), models.__file__,
               'exec'), fixed.__dict__)
  return fixed


def _vit(use_glu: bool, use_post_layer_norm: bool, use_map: bool):
  """AlgoPerf's module and its init input (as its init_model_fn builds)."""
  import jax.numpy as jnp

  from algoperf.workloads.imagenet_vit.workload import decode_variant

  models = _models(use_post_layer_norm)
  model = models.ViT(num_classes=1000, use_glu=use_glu,
                     use_post_layer_norm=use_post_layer_norm,
                     use_map=use_map, **decode_variant('S/16'))
  return model, jnp.ones((1, 224, 224, 3))


def _vit_shapes(use_glu: bool, use_post_layer_norm: bool, use_map: bool):
  import jax

  model, inputs = _vit(use_glu, use_post_layer_norm, use_map)
  variables = jax.eval_shape(model.init, {'params': jax.random.PRNGKey(0)},
                             inputs)
  return variables['params']


# The flags each AlgoPerf workload class passes to ViT
# (imagenet_jax/workload.py), on top of decode_variant('S/16'):
# (use_glu, use_post_layer_norm, use_map).
_SETTINGS = {
  'imagenet_vit': (False, False, False),
  'imagenet_vit_glu': (True, False, False),
  'imagenet_vit_post_ln': (False, True, False),
  'imagenet_vit_map': (False, False, True),
}


def algoperf_models() -> dict:
  """Workload name -> a function returning AlgoPerf's parameter shapes."""
  return {name: functools.partial(_vit_shapes, *settings)
          for name, settings in _SETTINGS.items()}


def algoperf_modules() -> dict:
  """Workload name -> a function returning (AlgoPerf's flax module, its init
  input): for comparing outputs (tests/workloads/algoperf_outputs.py)."""
  return {name: functools.partial(_vit, *settings)
          for name, settings in _SETTINGS.items()}
