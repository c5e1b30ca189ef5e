"""NAdamW with a refined learning-rate schedule (Defazio et al. 2023).

The schedule's shape comes from a file written by ``algoperf refine RUN_DIR
-o schedule.json`` from a previous run's gradient norms (peak 1); it is
resampled to this run's T = ``step_hint * step_hint_factor`` steps (after an
optional linear warmup of ``warmup_factor * T`` steps) and multiplied by the
tuned peak ``learning_rate``. The file is named by the hyperparameter
``schedule_path`` (absolute, relative to the working directory, or relative
to this directory). Without it (e.g. the self-tuning ruleset) the schedule
falls back to linear decay to zero -- what a refined schedule is for
constant gradient norms -- with a logged warning.
"""

import logging
import pathlib

import jax.numpy as jnp

from algoperf import refined_schedule
from algoperf import spec
from reference_algorithms import schedules
from reference_algorithms.common import algoperf_self_tuning
from reference_algorithms.common import batch_sizes
from reference_algorithms.common import hyperparameters as hparams_lib
from reference_algorithms.common import nadamw
from reference_algorithms.common import train_step

_LOGGER = logging.getLogger(__name__)

# AlgoPerf's self-tuning NAdamW values; the schedule comes from a file.
DEFAULTS = {
  **algoperf_self_tuning.HPARAMS,
  'warmup_factor': 0.0,  # A refined schedule holds its own warm-up.
  'step_hint_factor': 1.0,
  'grad_clip': None,
  'schedule_path': None,
}


def _schedule_file(path: str) -> pathlib.Path:
  for candidate in (
    pathlib.Path(path),
    pathlib.Path(__file__).resolve().parent / path,
  ):
    if candidate.is_file():
      return candidate
  raise FileNotFoundError(
    f'Hyperparameter schedule_path={path!r}: no such file (tried it relative '
    'to the working directory and to reference_algorithms/refined). Write '
    'one with `algoperf refine RUN_DIR -o schedule.json`.'
  )


def refined_learning_rate(hp, step_hint: int):
  """The learning-rate schedule: warmup, then peak * the refined shape."""
  steps = hparams_lib.total_steps(hp, step_hint)
  warmup = int(hp.warmup_factor * steps)
  rest = max(steps - warmup, 1)
  if not hp.schedule_path:
    _LOGGER.warning(
      'refined: no schedule_path hyperparameter; falling back to linear '
      'decay to zero (the refined schedule of constant gradient norms).'
    )
    decay = schedules.linear_decay(hp.learning_rate, rest)
    return schedules.with_warmup(decay, warmup)
  shape = refined_schedule.load_schedule(_schedule_file(hp.schedule_path), rest)
  values = jnp.asarray(hp.learning_rate * shape, jnp.float32)

  def decay(count):
    index = jnp.clip(count, 0, rest - 1)
    return jnp.where(count < rest, values[index], 0.0)

  return schedules.with_warmup(decay, warmup)


def init_optimizer_state(
  workload: spec.Workload,
  model_params: spec.ParameterContainer,
  model_state: spec.ModelAuxiliaryState,
  hyperparameters: spec.Hyperparameters,
  rng: spec.RandomState,
) -> spec.OptimizerState:
  """NAdamW with the refined schedule; (opt_state, opt_update_fn)."""
  del model_state, rng
  hp = hparams_lib.resolve(hyperparameters, DEFAULTS)
  tx = nadamw.nadamw(
    learning_rate=refined_learning_rate(hp, workload.step_hint),
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
