"""AlgoPerf's ogbg models, for the parameter-count table.

Run by scripts/algoperf_param_counts.py in a subprocess whose sys.path puts
AlgoPerf's checkout (mlcommons/algorithmic-efficiency at 2c90454) first:
the imports below are AlgoPerf's package, not ours. AlgoPerf's GNN needs
jraph (`pip install jraph`, pure Python) in that environment. Each function
returns the shapes of AlgoPerf's JAX parameter tree: jax.eval_shape of its
GNN's init on the one-node, one-edge fake graph its init_model_fn uses.
"""

import functools


def _gnn_shapes(activation: str, latent_dim: int, hidden_dims: tuple,
                num_message_passing_steps: int):
  import jax
  import jax.numpy as jnp
  import jraph

  from algoperf.workloads.ogbg.ogbg_jax import models

  num_outputs = 128
  model = models.GNN(num_outputs, activation_fn_name=activation,
                     hidden_dims=hidden_dims, latent_dim=latent_dim,
                     num_message_passing_steps=num_message_passing_steps)
  fake_batch = jraph.GraphsTuple(
    n_node=jnp.asarray([1]), n_edge=jnp.asarray([1]),
    nodes=jnp.ones((1, 9)), edges=jnp.ones((1, 3)),
    globals=jnp.zeros((1, num_outputs)),
    senders=jnp.asarray([0]), receivers=jnp.asarray([0]))
  init = functools.partial(model.init, train=False)
  variables = jax.eval_shape(init, {'params': jax.random.PRNGKey(0)},
                             fake_batch)
  return variables['params']


def algoperf_models() -> dict:
  """Workload name -> a function returning AlgoPerf's parameter shapes."""
  # The properties each AlgoPerf class overrides (ogbg/workload.py and
  # ogbg_jax/workload.py).
  return {
    'ogbg': functools.partial(_gnn_shapes, 'relu', 256, (256,), 5),
    'ogbg_gelu': functools.partial(_gnn_shapes, 'gelu', 256, (256,), 5),
    'ogbg_silu': functools.partial(_gnn_shapes, 'silu', 256, (256,), 5),
    'ogbg_model_size': functools.partial(_gnn_shapes, 'relu', 128,
                                         (256, 256), 3),
  }
