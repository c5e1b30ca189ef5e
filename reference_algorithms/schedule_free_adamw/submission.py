"""Schedule-Free AdamW (Defazio et al. 2024, "The Road Less Scheduled").

Training runs at y = b1 x + (1 - b1) z, evaluation at the average x: there
is no decay schedule, only a linear warmup of ``warmup_factor * T`` steps.
``prepare_for_eval`` hands optax's ``schedule_free_eval_params`` (x) to the
eval, with BatchNorm statistics re-estimated at x from the last
``bn_batches`` training batches; the next ``update_params`` resumes from the
training point y whatever parameters the harness passes back.
"""

from typing import Any
from typing import NamedTuple

import optax

from algoperf import spec
from reference_algorithms.common import batch_norm
from reference_algorithms.common import batch_sizes
from reference_algorithms.common import hyperparameters as hparams_lib
from reference_algorithms.common import train_step

DEFAULTS = {
  'learning_rate': 0.0025,
  'one_minus_beta1': 0.1,
  'beta2': 0.999,
  'weight_decay': 0.0,
  'weight_lr_power': 2.0,
  'warmup_factor': 0.05,
  'step_hint_factor': 1.0,
  'dropout_rate': 0.0,
  'label_smoothing': 0.0,
  'grad_clip': None,
  'bn_batches': 8,
}


class ScheduleFreeState(NamedTuple):
  opt_state: Any  # optax's ScheduleFreeState; the parameters trained are y.
  recent_batches: tuple  # Last training batches (models with BatchNorm).
  train_params: Any  # y while the harness holds x (after prepare_for_eval).
  train_model_state: Any


def init_optimizer_state(
  workload: spec.Workload,
  model_params: spec.ParameterContainer,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters,
  rng: spec.RandomState,
) -> spec.OptimizerState:
  del model_state, rng
  hp = hparams_lib.resolve(hyperparameters, DEFAULTS)
  steps = hparams_lib.total_steps(hp, workload.step_hint)
  warmup_steps = int(hp.warmup_factor * steps)
  tx = optax.contrib.schedule_free_adamw(
    learning_rate=hp.learning_rate,
    warmup_steps=warmup_steps or None,
    b1=1.0 - hp.one_minus_beta1,
    b2=hp.beta2,
    weight_decay=hp.weight_decay,
    weight_lr_power=hp.weight_lr_power,
  )
  opt_state, opt_update_fn = train_step.init_optimizer_state(
    workload, model_params, tx
  )
  return ScheduleFreeState(opt_state, (), None, None), opt_update_fn


def update_params(
  workload: spec.Workload,
  current_param_container: spec.ParameterContainer,
  current_params_types: spec.ParameterTypeTree,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters,
  batch: dict[str, spec.Tensor],
  loss_type: spec.LossType,
  optimizer_state: spec.OptimizerState,
  eval_results: list[tuple[int, float]],
  global_step: int,
  rng: spec.RandomState,
  train_state: dict[str, Any] | None = None,
) -> spec.UpdateReturn:
  del current_params_types, loss_type, eval_results, train_state
  hp = hparams_lib.resolve(hyperparameters, DEFAULTS)
  state, opt_update_fn = optimizer_state
  if state.train_params is not None:  # The harness holds x; train at y.
    current_param_container = state.train_params
    model_state = state.train_model_state
  (opt_state, _), params, model_state = train_step.update_params(
    workload,
    current_param_container,
    model_state,
    hp,
    batch,
    (state.opt_state, opt_update_fn),
    global_step,
    rng,
  )
  recent_batches = ()
  if hp.bn_batches > 0 and batch_norm.has_running_statistics(model_state):
    recent_batches = (state.recent_batches + (batch,))[-hp.bn_batches :]
  new_state = ScheduleFreeState(opt_state, recent_batches, None, None)
  return (new_state, opt_update_fn), params, model_state


def prepare_for_eval(
  workload: spec.Workload,
  current_param_container: spec.ParameterContainer,
  current_params_types: spec.ParameterTypeTree,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters,
  loss_type: spec.LossType,
  optimizer_state: spec.OptimizerState,
  eval_results: list[tuple[int, float]],
  global_step: int,
  rng: spec.RandomState,
) -> spec.UpdateReturn:
  """Returns the x sequence (and its BatchNorm statistics) for the eval."""
  del current_params_types, hyperparameters, loss_type, eval_results
  del global_step
  state, opt_update_fn = optimizer_state
  if state.train_params is not None:  # Two evals in a row.
    current_param_container = state.train_params
    model_state = state.train_model_state
  eval_params = optax.contrib.schedule_free_eval_params(
    state.opt_state, current_param_container
  )
  eval_model_state = batch_norm.recompute(
    workload, eval_params, model_state, state.recent_batches, rng
  )
  new_state = state._replace(
    train_params=current_param_container, train_model_state=model_state
  )
  return (new_state, opt_update_fn), eval_params, eval_model_state


get_batch_size = batch_sizes.get_batch_size
data_selection = train_step.data_selection
