"""The train step every reference submission shares.

Written the way AlgoPerf's JAX baselines are: one jitted step with explicit
shardings (parameters, optimizer state and model state replicated, the batch
split along its first axis), buffer donation, ``workload.model_fn(...,
update_batch_norm=True, dropout_rate=...)`` and ``workload.loss_fn`` averaged
as summed / n_valid_examples. A submission is then little more than its
optax chain::

  def init_optimizer_state(workload, model_params, model_state, hps, rng):
    tx = optax.adamw(schedule, ...)
    return train_step.init_optimizer_state(workload, model_params, tx)

The optimizer state is AlgoPerf's ``(opt_state, opt_update_fn)``. The update
function is called with the extra argument ``obj_fn`` (the mean training
loss on the current batch as a function of the parameters), which optax's
``GradientTransformationExtraArgs`` such as Sophia's Hessian estimator use
and every other transformation ignores.
"""

import functools
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import optax

from algoperf import jax_sharding_utils
from algoperf import spec
from reference_algorithms.common import hyperparameters as hparams_lib

_GRAD_CLIP_EPS = 1e-6
# Loss and gradient norm go to measurements.csv this often (a host sync);
# the l2 and l1 gradient norms go to grad_norms.csv every step, kept on
# device until the next eval (MetricsLogger.append_device_metrics).
LOG_EVERY_STEPS = 100


def init_optimizer_state(
  workload: spec.Workload,
  model_params: spec.ParameterContainer,
  tx: optax.GradientTransformation,
) -> spec.OptimizerState:
  """``(opt_state, opt_update_fn)`` for ``tx``, replicated on every device.

  The state is built from the real parameters (not zeros) because some
  optimizers keep a copy of them (Schedule-Free's z sequence). Every leaf is
  then copied: the train step donates the state, so it must not share a
  buffer with the parameters or with arrays the caller keeps (an rng key
  handed to an optimizer as its seed).
  """
  del workload
  tx = optax.with_extra_args_support(tx)
  opt_state = jax.tree.map(jnp.array, tx.init(model_params))
  return jax_sharding_utils.replicate(opt_state), tx.update


def _train_step(
  workload,
  opt_update_fn,
  dropout_rate,
  model_state,
  optimizer_state,
  current_param_container,
  batch,
  rng,
  grad_clip,
  label_smoothing,
):
  def _loss_fn(params):
    logits, new_model_state = workload.model_fn(
      params,
      batch,
      model_state,
      spec.ForwardPassMode.TRAIN,
      rng,
      update_batch_norm=True,
      dropout_rate=dropout_rate,
    )
    loss_dict = workload.loss_fn(
      label_batch=batch['targets'],
      logits_batch=logits,
      mask_batch=batch.get('weights'),
      label_smoothing=label_smoothing,
    )
    summed_loss = loss_dict['summed']
    n_valid_examples = loss_dict['n_valid_examples']
    return summed_loss, (n_valid_examples, new_model_state)

  def _mean_loss(params):
    summed_loss, (n_valid_examples, _) = _loss_fn(params)
    return summed_loss / n_valid_examples

  grad_fn = jax.value_and_grad(_loss_fn, has_aux=True)
  (summed_loss, (n_valid_examples, new_model_state)), grad = grad_fn(
    current_param_container
  )
  loss = summed_loss / n_valid_examples
  grad = jax.tree.map(lambda g: g / n_valid_examples, grad)
  new_optimizer_state, updated_params, norms = apply_gradient(
    opt_update_fn, optimizer_state, current_param_container, grad, grad_clip,
    _mean_loss)
  return new_optimizer_state, updated_params, new_model_state, loss, norms


def apply_gradient(opt_update_fn, optimizer_state, current_param_container,
                   grad, grad_clip, mean_loss):
  """Norms, optional clipping and the optimizer update of a mean gradient;
  (optimizer_state, params, norms). Shared with steps that compute their
  gradient otherwise (ghost batches)."""
  # Written out: optax's tree norm moved between the optax of AlgoPerf's
  # pinned environment (0.2.2) and the current one.
  grad_norm = jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree.leaves(grad)))
  # The l1 norm is what refined schedules of Adam-type methods weight by.
  grad_norm_l1 = sum(jnp.sum(jnp.abs(g)) for g in jax.tree.leaves(grad))
  if grad_clip is not None:
    scale = jnp.clip(grad_clip / (grad_norm + _GRAD_CLIP_EPS), 0.0, 1.0)
    grad = jax.tree.map(lambda g: g * scale, grad)

  updates, new_optimizer_state = opt_update_fn(
    grad, optimizer_state, current_param_container, obj_fn=mean_loss
  )
  updated_params = optax.apply_updates(current_param_container, updates)
  norms = {'grad_norm_l2': grad_norm, 'grad_norm_l1': grad_norm_l1}
  return new_optimizer_state, updated_params, norms


@functools.cache
def jitted_train_step():
  """``_train_step`` jitted once per process with AlgoPerf's shardings."""
  return jit_step(_train_step)


def jit_step(step_fn):
  """``step_fn`` (``_train_step``'s signature) jitted with AlgoPerf's
  shardings.

  Static: workload, opt_update_fn, dropout_rate (a Python float, so models
  may branch on it, as flax's Dropout does). Donated: model state, optimizer
  state, parameters.
  """
  replicated = jax_sharding_utils.get_replicate_sharding()
  sharded = jax_sharding_utils.get_batch_dim_sharding()
  return jax.jit(
    step_fn,
    static_argnums=(0, 1, 2),
    donate_argnums=(3, 4, 5),
    in_shardings=(
      replicated,  # model_state
      replicated,  # optimizer_state
      replicated,  # current_param_container
      sharded,  # batch
      replicated,  # rng
      replicated,  # grad_clip
      replicated,  # label_smoothing
    ),
    out_shardings=(replicated,) * 5,
  )


def update_params(
  workload: spec.Workload,
  current_param_container: spec.ParameterContainer,
  model_state: spec.ModelAuxiliaryState,
  hp: Any,
  batch: dict[str, spec.Tensor],
  optimizer_state: spec.OptimizerState,
  global_step: int,
  rng: spec.RandomState,
  step=None,
) -> spec.UpdateReturn:
  """One training step; returns ``(optimizer_state, params, model_state)``.

  ``hp`` may carry ``dropout_rate``, ``label_smoothing`` and ``grad_clip``
  (clip the global gradient norm to this value; None: no clipping).
  ``step``: a jitted step with ``_train_step``'s signature and outputs
  (default ``jitted_train_step()``), e.g. the ghost-batch step.
  """
  opt_state, opt_update_fn = optimizer_state
  grad_clip = getattr(hp, 'grad_clip', None)
  label_smoothing = getattr(hp, 'label_smoothing', 0.0)
  dropout_rate = float(getattr(hp, 'dropout_rate', 0.0))
  new_opt_state, new_params, new_model_state, loss, grad_norms = (
    (step or jitted_train_step())(
      workload,
      opt_update_fn,
      dropout_rate,
      model_state,
      opt_state,
      current_param_container,
      batch,
      rng,
      grad_clip,
      label_smoothing,
    )
  )
  logger = getattr(workload, 'metrics_logger', None)
  append_device = getattr(logger, 'append_device_metrics', None)
  if append_device is not None:  # This harness: every step, no host sync.
    append_device(grad_norms, global_step)
  if global_step % LOG_EVERY_STEPS == 0 and logger is not None:
    workload.metrics_logger.append_scalar_metrics(
      {'loss': loss.item(), 'grad_norm': grad_norms['grad_norm_l2'].item()},
      global_step,
    )
  return (new_opt_state, opt_update_fn), new_params, new_model_state



def make_update_params(defaults: dict[str, Any], step_for=None):
  """AlgoPerf's ``update_params`` for a submission whose hyperparameters
  default to ``defaults`` (used when self-tuning, or for names the search
  space leaves out); the step itself is ``update_params`` above.

  ``step_for(hp, model_state, batch)``, if given, picks the jitted step of
  each update (None: the default step), e.g. ghost_bn's ghost-batch step.
  """
  def submission_update_params(
    workload: spec.Workload,
    current_param_container: spec.ParameterContainer,
    current_params_types: spec.ParameterTypeTree,
    model_state: spec.ModelAuxiliaryState,
    hyperparameters: spec.Hyperparameters,
    batch: dict[str, spec.Tensor],
    loss_type: spec.LossType,
    optimizer_state: spec.OptimizerState,
    eval_results: list,
    global_step: int,
    rng: spec.RandomState,
    train_state=None,
  ) -> spec.UpdateReturn:
    """Return (updated_optimizer_state, updated_params, updated_model_state)."""
    del current_params_types, loss_type, eval_results, train_state
    hp = hparams_lib.resolve(hyperparameters, defaults)
    step = step_for(hp, model_state, batch) if step_for else None
    return update_params(workload, current_param_container, model_state, hp,
                         batch, optimizer_state, global_step, rng, step=step)

  return submission_update_params


def data_selection(
  workload: spec.Workload,
  input_queue: Iterator[dict[str, spec.Tensor]],
  optimizer_state: spec.OptimizerState,
  current_param_container: spec.ParameterContainer,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters,
  global_step: int,
  rng: spec.RandomState,
) -> dict[str, spec.Tensor]:
  """The next batch of the pre-shuffled, infinitely repeating queue."""
  del workload, optimizer_state, current_param_container, model_state
  del hyperparameters, global_step, rng
  return next(input_queue)
