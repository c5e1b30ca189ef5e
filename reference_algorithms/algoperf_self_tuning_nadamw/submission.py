"""AlgoPerf's self-tuning NAdamW baseline, as AlgoPerf published it.

The transfer reference of the CPU suite (issue 18): AlgoPerf's
prize-qualification self-tuning submission (``self_tuning/
jax_nadamw_full_budget.py``), unedited in substance: its fixed point
(``algoperf_self_tuning.HPARAMS``), NAdamW, linear warmup over
``warmup_factor`` of ``step_hint`` steps then cosine decay to 0 at
``step_hint``, no gradient clipping, label smoothing 0, AlgoPerf's batch
sizes. Like AlgoPerf's, it ignores the ``hyperparameters`` it is given:
it was tuned on AlgoPerf, never on this suite, which is what makes it a
test of whether the suite's targets transfer.
"""

from algoperf import spec
from reference_algorithms.common import algoperf_self_tuning
from reference_algorithms.common import batch_sizes
from reference_algorithms.common import train_step
from reference_algorithms.nadamw import submission as nadamw_submission

# AlgoPerf's point, and how its code trains with it: the schedule spans
# the whole step_hint (step_hint_factor 1), cosine, no clipping.
DEFAULTS = {
  **algoperf_self_tuning.HPARAMS,
  'step_hint_factor': 1.0,
  'grad_clip': None,
  'schedule': 'cosine',
}


def init_optimizer_state(
  workload: spec.Workload,
  model_params: spec.ParameterContainer,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters,
  rng: spec.RandomState,
) -> spec.OptimizerState:
  """NAdamW with warmup + cosine (nadamw's); (opt_state, opt_update_fn)."""
  del hyperparameters  # AlgoPerf's point, always.
  return nadamw_submission.init_optimizer_state(
    workload, model_params, model_state, DEFAULTS, rng)


_update_params = train_step.make_update_params(DEFAULTS)


def update_params(
  workload: spec.Workload,
  current_param_container: spec.ParameterContainer,
  current_params_types: spec.ParameterTypeTree,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters,
  batch: dict,
  loss_type: spec.LossType,
  optimizer_state: spec.OptimizerState,
  eval_results: list,
  global_step: int,
  rng: spec.RandomState,
) -> spec.UpdateReturn:
  """The shared train step at AlgoPerf's point, whatever is passed."""
  del hyperparameters
  return _update_params(
    workload, current_param_container, current_params_types, model_state,
    None, batch, loss_type, optimizer_state, eval_results, global_step, rng)


get_batch_size = batch_sizes.get_batch_size
data_selection = train_step.data_selection
