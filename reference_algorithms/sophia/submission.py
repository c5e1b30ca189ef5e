"""Sophia-H (Liu et al. 2023, "Sophia: A Scalable Stochastic Second-order
Optimizer for Language Model Pre-training").

  m_t = b1 m_{t-1} + (1 - b1) g_t
  h_t = b2 h_{t-k} + (1 - b2) hhat_t   every k steps, else h_{t-1}
  x_{t+1} = x_t - eta_t (clip(m_t / max(gamma h_t, eps), rho) + lambda x_t)

hhat is Hutchinson's estimate u * (H u) of the Hessian diagonal with a
random sign vector u, computed on the current batch every
``hessian_update_interval`` (k) steps; the train step passes the batch loss
as ``obj_fn``. optax.contrib.sophia with the named schedule.
"""

import optax

from algoperf import spec
from reference_algorithms.common import batch_sizes
from reference_algorithms.common import hyperparameters as hparams_lib
from reference_algorithms.common import train_step

DEFAULTS = {
  'learning_rate': 0.001,
  'one_minus_beta1': 0.035,
  'beta2': 0.99,
  'weight_decay': 0.1,
  'gamma': 0.01,
  'clip_threshold': 1.0,
  'hessian_update_interval': 10,
  'warmup_factor': 0.02,
  'schedule': 'cosine',
  'step_hint_factor': 1.0,
  'dropout_rate': 0.0,
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
  """Sophia-H with the named schedule; (opt_state, opt_update_fn)."""
  del model_state
  hp = hparams_lib.resolve(hyperparameters, DEFAULTS)
  schedule = hparams_lib.learning_rate_schedule(hp, workload.step_hint)
  tx = optax.contrib.sophia(
    learning_rate=schedule,
    b1=1.0 - hp.one_minus_beta1,
    b2=hp.beta2,
    weight_decay=hp.weight_decay,
    gamma=hp.gamma,
    clip_threshold=hp.clip_threshold,
    update_interval=int(hp.hessian_update_interval),
    hessian_diagonal_fn=optax.contrib.hutchinson_estimator_diag_hessian(
      random_seed=rng
    ),
  )
  return train_step.init_optimizer_state(workload, model_params, tx)


# AlgoPerf's update_params signature, over the shared train step.
update_params = train_step.make_update_params(DEFAULTS)


get_batch_size = batch_sizes.get_batch_size
data_selection = train_step.data_selection
