"""SGD with Nesterov momentum (Sutskever et al. 2013 form) and L2 decay.

  m_t = beta m_{t-1} + (g_t + lambda x_t)
  x_{t+1} = x_t - eta_t (beta m_t + g_t + lambda x_t)

The weight decay is coupled, as in AlgoPerf's nesterov baseline. The
schedule is ``schedule`` (default: warmup + cosine), see
reference_algorithms.common.hyperparameters.
"""

import optax

from algoperf import spec
from reference_algorithms.common import batch_sizes
from reference_algorithms.common import hyperparameters as hparams_lib
from reference_algorithms.common import train_step

DEFAULTS = {
  'learning_rate': 0.1,
  'one_minus_beta1': 0.1,
  'weight_decay': 1e-5,
  'warmup_factor': 0.05,
  'schedule': 'cosine',
  'step_hint_factor': 1.0,
  'dropout_rate': 0.0,
  'label_smoothing': 0.0,
  'grad_clip': None,
}
NESTEROV = True


def init_optimizer_state(
  workload: spec.Workload,
  model_params: spec.ParameterContainer,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters,
  rng: spec.RandomState,
) -> spec.OptimizerState:
  """SGD + Nesterov momentum, named schedule; (opt_state, opt_update_fn)."""
  del model_state, rng
  hp = hparams_lib.resolve(hyperparameters, DEFAULTS)
  schedule = hparams_lib.learning_rate_schedule(hp, workload.step_hint)
  tx = optax.chain(
    optax.add_decayed_weights(hp.weight_decay),
    optax.sgd(schedule, momentum=1.0 - hp.one_minus_beta1, nesterov=NESTEROV),
  )
  return train_step.init_optimizer_state(workload, model_params, tx)


# AlgoPerf's update_params signature, over the shared train step.
update_params = train_step.make_update_params(DEFAULTS)


get_batch_size = batch_sizes.get_batch_size
data_selection = train_step.data_selection
