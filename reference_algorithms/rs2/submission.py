"""RS2: repeated random sampling of the training set, with NAdamW.

Okanovic et al. (2023), "Repeated Random Sampling for Minimizing the
Time-to-Accuracy of Learning". Each round is one pass over a random
fraction ``selection_ratio`` (r) of the training set, chosen by
``rs2_mode``: 'without_replacement' (consecutive chunks of one permutation),
'with_replacement' (a fresh subset each round) or 'static_subset' (the
baseline: one subset for the whole run). The warmup + cosine schedule is
compressed to the reduced budget: it spans r * step_hint * step_hint_factor
steps, the same number of rounds as the full-data run has epochs.

Selection uses the harness's index-level view of the training split (the
``train_data`` parameter of ``data_selection``) and runs on the clock.
"""

import functools
from collections.abc import Iterator
from typing import Any

from algoperf import base_workload
from algoperf import spec
from reference_algorithms.common import algoperf_self_tuning
from reference_algorithms.common import batch_sizes
from reference_algorithms.common import hyperparameters as hparams_lib
from reference_algorithms.common import nadamw
from reference_algorithms.common import rs2
from reference_algorithms.common import train_step

# AlgoPerf's self-tuning NAdamW values, plus RS2's own.
DEFAULTS = {
  **algoperf_self_tuning.HPARAMS,
  'step_hint_factor': 1.0,
  'grad_clip': None,
  'schedule': 'cosine',
  'selection_ratio': 0.5,
  'rs2_mode': 'without_replacement',
}


def init_optimizer_state(
  workload: spec.Workload,
  model_params: spec.ParameterContainer,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters,
  rng: spec.RandomState,
) -> spec.OptimizerState:
  """NAdamW over the compressed schedule; (opt_state, update_fn, seed)."""
  del model_state
  hp = hparams_lib.resolve(hyperparameters, DEFAULTS)
  compressed = hp._replace(
    step_hint_factor=hp.step_hint_factor * hp.selection_ratio
  )
  schedule = hparams_lib.learning_rate_schedule(compressed, workload.step_hint)
  tx = nadamw.nadamw(
    learning_rate=schedule,
    b1=1.0 - hp.one_minus_beta1,
    b2=hp.beta2,
    weight_decay=hp.weight_decay,
  )
  opt_state, opt_update_fn = train_step.init_optimizer_state(
    workload, model_params, tx
  )
  selection_seed = base_workload.seed_from_key(rng) % (2**31)
  return opt_state, opt_update_fn, selection_seed


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
  """Return (updated_optimizer_state, updated_params, updated_model_state)."""
  del current_params_types, loss_type, eval_results, train_state
  hp = hparams_lib.resolve(hyperparameters, DEFAULTS)
  opt_state, opt_update_fn, selection_seed = optimizer_state
  (opt_state, _), params, model_state = train_step.update_params(
    workload,
    current_param_container,
    model_state,
    hp,
    batch,
    (opt_state, opt_update_fn),
    global_step,
    rng,
  )
  return (opt_state, opt_update_fn, selection_seed), params, model_state


@functools.lru_cache(maxsize=8)
def _plan(num_examples, batch_size, ratio, mode, seed) -> rs2.SamplingPlan:
  return rs2.SamplingPlan(num_examples, batch_size, ratio, mode, seed)


def data_selection(
  workload: spec.Workload,
  input_queue: Iterator[dict[str, spec.Tensor]],
  optimizer_state: spec.OptimizerState,
  current_param_container: spec.ParameterContainer,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters,
  global_step: int,
  rng: spec.RandomState,
  train_data=None,
) -> dict[str, spec.Tensor]:
  """The batch RS2's plan assigns to ``global_step``."""
  del input_queue, current_param_container, model_state, rng
  if train_data is None:
    raise ValueError(
      'RS2 needs the index-level view of the training split: call '
      'data_selection(..., train_data=workload.train_data_view(data_dir)).'
    )
  hp = hparams_lib.resolve(hyperparameters, DEFAULTS)
  plan = _plan(
    train_data.num_examples,
    rs2.harness_batch_size(workload, get_batch_size),
    float(hp.selection_ratio),
    hp.rs2_mode,
    optimizer_state[2],
  )
  indices, weights = plan.batch_indices(global_step)
  return rs2.weighted_batch(train_data, indices, weights)


get_batch_size = batch_sizes.get_batch_size
