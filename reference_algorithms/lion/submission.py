"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms").

  c_t = sign(b1 m_{t-1} + (1 - b1) g_t)
  x_{t+1} = x_t - eta_t (c_t + lambda x_t)
  m_t = b2 m_{t-1} + (1 - b2) g_t

Every coordinate moves by exactly eta_t (plus decay): the paper's advice is
a learning rate 3-10x smaller and a weight decay 3-10x larger than AdamW's.
optax.lion with the named schedule (default: warmup + cosine).
"""

import optax

from algoperf import spec
from reference_algorithms.common import batch_sizes
from reference_algorithms.common import hyperparameters as hparams_lib
from reference_algorithms.common import train_step

DEFAULTS = {
  'learning_rate': 0.0003,
  'one_minus_beta1': 0.1,
  'beta2': 0.99,
  'weight_decay': 0.5,
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
  """Lion with the named schedule; (opt_state, opt_update_fn)."""
  del model_state, rng
  hp = hparams_lib.resolve(hyperparameters, DEFAULTS)
  schedule = hparams_lib.learning_rate_schedule(hp, workload.step_hint)
  tx = optax.lion(
    learning_rate=schedule,
    b1=1.0 - hp.one_minus_beta1,
    b2=hp.beta2,
    weight_decay=hp.weight_decay,
  )
  return train_step.init_optimizer_state(workload, model_params, tx)


# AlgoPerf's update_params signature, over the shared train step.
update_params = train_step.make_update_params(DEFAULTS)


get_batch_size = batch_sizes.get_batch_size
data_selection = train_step.data_selection
