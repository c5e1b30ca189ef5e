"""AdamW (Loshchilov & Hutter 2019) with a warmup + decay schedule.

Adam's direction plus decoupled weight decay, both scaled by the learning
rate (optax.adamw). The schedule is ``schedule`` (default: warmup + cosine
over T = step_hint * step_hint_factor), see reference_algorithms.common.
hyperparameters.
"""

import optax

from algoperf import spec
from reference_algorithms.common import batch_sizes
from reference_algorithms.common import hyperparameters as hparams_lib
from reference_algorithms.common import train_step

DEFAULTS = {
  'learning_rate': 0.0017486387539278373,
  'one_minus_beta1': 0.06733926164,
  'beta2': 0.9955159689799007,
  'weight_decay': 0.08121616522670176,
  'warmup_factor': 0.02,
  'schedule': 'cosine',
  'step_hint_factor': 1.0,
  'dropout_rate': 0.1,
  'label_smoothing': 0.0,
  'grad_clip': None,
}


def init_optimizer_state(
  workload: spec.Workload,
  model_params: spec.ParameterContainer,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters,
  rng: spec.RandomState,
) -> spec.OptimizerState:
  """AdamW with the named schedule; (opt_state, opt_update_fn)."""
  del model_state, rng
  hp = hparams_lib.resolve(hyperparameters, DEFAULTS)
  schedule = hparams_lib.learning_rate_schedule(hp, workload.step_hint)
  tx = optax.adamw(
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
