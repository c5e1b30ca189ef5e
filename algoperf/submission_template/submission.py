"""Template submission: SGD with momentum, ready to be replaced by yours.

`algoperf new NAME` copies this directory to submissions/NAME. It already
passes `algoperf validate`; change the four functions below into your
training algorithm and keep their signatures.

The harness calls, for each trial:

    batch_size = get_batch_size(workload.name)
    optimizer_state = init_optimizer_state(workload, params, model_state,
                                           hyperparameters, rng)
    for global_step in 0, 1, 2, ...:
      batch = data_selection(workload, input_queue, optimizer_state,
                             params, model_state, hyperparameters,
                             global_step, rng)
      optimizer_state, params, model_state = update_params(
        workload, params, params_types, model_state, hyperparameters,
        batch, loss_type, optimizer_state, eval_results, global_step, rng)
      every eval period: prepare_for_eval(...) if defined, then an eval.

What is timed: everything inside init_optimizer_state, data_selection,
update_params and prepare_for_eval, JIT compilation included. Evals are off
the clock. The budget is checked after every step.

What is forbidden (AlgoPerf rules; `algoperf validate` flags what it can
detect):
- depending on which workload runs, except in get_batch_size: no
  `workload.name`, `type(workload)` or `isinstance(workload, ...)` elsewhere;
- reading validation or test data (`workload.eval_model`,
  `workload._build_input_queue(..., 'validation', ...)`, ...);
- mutating the batch or other inputs the harness hands over (copy first);
- changing the parameter tree: return params with the same structure,
  shapes and dtypes;
- writing files outside this directory, using the network;
- recompiling every step (jit once; keep shapes and static args fixed).

Hyperparameters: under external tuning (`--ruleset external`)
`hyperparameters` is a namedtuple with one point of
tuning_search_space.json; under self-tuning it is None and the algorithm
picks its own values (the defaults below).
"""

import functools
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import optax

from algoperf import jax_sharding_utils
from algoperf import spec

# Used under self-tuning (hyperparameters is None) and for missing names.
DEFAULTS = {'learning_rate': 0.05, 'momentum': 0.9}


def _hyperparameter(hyperparameters, name: str):
  return getattr(hyperparameters, name, DEFAULTS[name])


def get_batch_size(workload_name: str) -> int:
  """The global batch size for ``workload_name`` (the only place allowed to
  depend on the workload).

  Args:
    workload_name: e.g. 'mnist', 'digits_resnet' or a variant's name.

  Returns:
    A positive int, a multiple of the device count (8 on the benchmark
    hardware).

  Raises:
    ValueError: for a name you have no size for. The harness then retries
      with the base workload's name and finally uses the workload's
      default batch size.
  """
  del workload_name
  return 64


def init_optimizer_state(
  workload: spec.Workload,
  model_params: spec.ParameterContainer,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters | None,
  rng: spec.RandomState,
) -> spec.OptimizerState:
  """Creates the optimizer state (timed).

  Args:
    workload: the workload (its param_shapes, step_hint, loss_fn, model_fn
      are available; do not branch on its identity).
    model_params: the initial parameters, a nested dict of arrays
      replicated on every device. Read, do not modify.
    model_state: non-trainable state (e.g. BatchNorm statistics) or None.
    hyperparameters: a namedtuple of one search-space point, or None.
    rng: a JAX PRNG key.

  Returns:
    Any pytree or object; it is handed back to data_selection and
    update_params unchanged.
  """
  del model_state, rng
  optimizer = optax.sgd(_hyperparameter(hyperparameters, 'learning_rate'),
                        momentum=_hyperparameter(hyperparameters, 'momentum'))
  params_zeros = jax.tree.map(jnp.zeros_like, model_params)
  return jax_sharding_utils.replicate(optimizer.init(params_zeros)), (
    optimizer.update)


def _loss(params, workload, model_state, batch, rng):
  logits, new_model_state = workload.model_fn(
    params, batch, model_state, spec.ForwardPassMode.TRAIN, rng,
    update_batch_norm=True)
  losses = workload.loss_fn(batch['targets'], logits, batch.get('weights'))
  return losses['summed'] / losses['n_valid_examples'], new_model_state


# Jitted once per (workload, update function): no recompiles after step 0.
@functools.partial(jax.jit, static_argnums=(0, 1))
def _train_step(workload, update_fn, opt_state, params, model_state, batch,
                rng):
  grads, new_model_state = jax.grad(_loss, has_aux=True)(
    params, workload, model_state, batch, rng)
  updates, new_opt_state = update_fn(grads, opt_state, params)
  return new_opt_state, optax.apply_updates(params, updates), new_model_state


def update_params(
  workload: spec.Workload,
  current_param_container: spec.ParameterContainer,
  current_params_types: spec.ParameterTypeTree,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters | None,
  batch: dict[str, spec.Tensor],
  loss_type: spec.LossType,
  optimizer_state: spec.OptimizerState,
  eval_results: list[tuple[int, float]],
  global_step: int,
  rng: spec.RandomState,
  train_state: dict[str, Any] | None = None,
) -> spec.UpdateReturn:
  """One training step (timed).

  Args:
    workload: see init_optimizer_state.
    current_param_container: the parameters (nested dict of arrays).
    current_params_types: the same tree of spec.ParameterType values.
    model_state: non-trainable state or None.
    hyperparameters: a namedtuple or None (self-tuning).
    batch: dict of arrays from data_selection, split along the batch axis
      across devices. Read only: copy it before changing entries.
    loss_type: the workload's spec.LossType.
    optimizer_state: what the previous step returned.
    eval_results: [(global_step, {metric: value}), ...] of earlier evals.
    global_step: number of update_params calls so far.
    rng: a JAX PRNG key for this step.
    train_state: optional, read-only timing facts (accumulated submission
      time, last eval time, ...); passed only because this signature names
      it. Remove the parameter if you do not need it.

  Returns:
    (optimizer_state, params, model_state): params and model_state with the
    same pytree structure, shapes and dtypes as received.
  """
  del current_params_types, hyperparameters, loss_type, eval_results
  del global_step, train_state
  opt_state, update_fn = optimizer_state
  new_opt_state, new_params, new_model_state = _train_step(
    workload, update_fn, opt_state, current_param_container, model_state,
    batch, rng)
  return (new_opt_state, update_fn), new_params, new_model_state


def prepare_for_eval(
  workload: spec.Workload,
  current_param_container: spec.ParameterContainer,
  current_params_types: spec.ParameterTypeTree,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters | None,
  loss_type: spec.LossType,
  optimizer_state: spec.OptimizerState,
  eval_results: list[tuple[int, float]],
  global_step: int,
  rng: spec.RandomState,
) -> spec.UpdateReturn:
  """Optional; called before every eval (timed). Delete it if unused.

  Use it to swap in averaged or otherwise eval-ready parameters.

  Returns:
    (optimizer_state, params, model_state), structures unchanged; the
    returned values are evaluated and training continues from them.
  """
  del workload, current_params_types, hyperparameters, loss_type
  del eval_results, global_step, rng
  return optimizer_state, current_param_container, model_state


def data_selection(
  workload: spec.Workload,
  input_queue: Iterator[dict[str, spec.Tensor]],
  optimizer_state: spec.OptimizerState,
  current_param_container: spec.ParameterContainer,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters | None,
  global_step: int,
  rng: spec.RandomState,
) -> dict[str, spec.Tensor]:
  """Chooses the next training batch (timed).

  Args:
    input_queue: an infinite iterator of training batches of
      get_batch_size examples (dicts such as {'inputs', 'targets'}).
    (others as in update_params)

  Returns:
    A batch dict with the same keys, per-example shapes and dtypes as the
    queue's batches. Only training data: never read validation or test
    splits. Naming an extra ``train_data`` parameter gives index access to
    the training split (see docs/design.md §3).
  """
  del workload, optimizer_state, current_param_container, model_state
  del hyperparameters, global_step, rng
  return next(input_queue)
