"""NAdamW with linear decay to zero instead of cosine.

Defazio, Cutkosky, Mehta, Mishchenko (2023, "When, Why and How Much?
Adaptive Learning Rate Scheduling by Refinement") show that linear decay,
eta_t = eta (1 - t / T), is the worst-case optimal schedule for the last
iterate and matches or beats cosine in practice. Same optimizer and
hyperparameters as the AlgoPerf baseline (reference_algorithms/nadamw), with
a linear warmup of ``warmup_factor * T`` steps and then linear decay to 0 at
T = ``step_hint * step_hint_factor``.
"""


from algoperf import spec
from reference_algorithms.common import algoperf_self_tuning
from reference_algorithms.common import batch_sizes
from reference_algorithms.common import hyperparameters as hparams_lib
from reference_algorithms.common import nadamw
from reference_algorithms.common import train_step

# AlgoPerf's self-tuning NAdamW values, with a linear decay.
DEFAULTS = {
  **algoperf_self_tuning.HPARAMS,
  'step_hint_factor': 1.0,
  'grad_clip': None,
  'schedule': 'linear',
}


def init_optimizer_state(
  workload: spec.Workload,
  model_params: spec.ParameterContainer,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters,
  rng: spec.RandomState,
) -> spec.OptimizerState:
  """NAdamW with warmup + linear decay; (opt_state, opt_update_fn)."""
  del model_state, rng
  hp = hparams_lib.resolve(hyperparameters, DEFAULTS)
  schedule = hparams_lib.learning_rate_schedule(hp, workload.step_hint)
  tx = nadamw.nadamw(
    learning_rate=schedule,
    b1=1.0 - hp.one_minus_beta1,
    b2=hp.beta2,
    eps=1e-8,
    weight_decay=hp.weight_decay,
  )
  return train_step.init_optimizer_state(workload, model_params, tx)


# AlgoPerf's update_params signature, over the shared train step.
update_params = train_step.make_update_params(DEFAULTS)


get_batch_size = batch_sizes.get_batch_size
data_selection = train_step.data_selection
