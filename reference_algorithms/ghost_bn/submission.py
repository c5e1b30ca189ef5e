"""NAdamW with Ghost Batch Normalization (Hoffer, Hubara & Soudry 2017).

"Train longer, generalize better: closing the generalization gap in large
batch training of neural networks". When the model keeps running
statistics (``model_state`` has array leaves, e.g. BatchNorm's
``batch_stats``), each training step splits the batch into ghost batches
of ``ghost_batch_size`` examples, normalised separately, and merges their
running statistics as the paper's Algorithm 1 does
(``reference_algorithms/common/ghost_batch.py``). Otherwise -- and when the
batch is no larger than a ghost batch -- the step is NAdamW's own step,
the same compiled program. Detection reads ``model_state``, never the
workload's name. Optimizer, schedule and hyperparameters are NAdamW's
(``reference_algorithms/nadamw``), imported, not copied.
"""

import functools

from reference_algorithms.common import ghost_batch
from reference_algorithms.common import train_step
from reference_algorithms.nadamw import submission as nadamw

DEFAULTS = {**nadamw.SELF_TUNING_DEFAULTS, 'ghost_batch_size': 32}

init_optimizer_state = nadamw.init_optimizer_state
get_batch_size = nadamw.get_batch_size
data_selection = nadamw.data_selection


@functools.cache
def _jitted_ghost_step(ghost_batch_size: int):
  return train_step.jit_step(
    functools.partial(ghost_batch.ghost_train_step, ghost_batch_size))


def step_for(model_state, batch, ghost_batch_size: int):
  """The ghost-batch step when there are statistics to ghost and more than
  one ghost batch; None (NAdamW's step) otherwise."""
  if not ghost_batch.has_batch_statistics(model_state):
    return None
  if len(batch['targets']) <= ghost_batch_size:
    return None
  return _jitted_ghost_step(int(ghost_batch_size))


# NAdamW's update through the shared train step, with ghost batches where
# the model has statistics.
update_params = train_step.make_update_params(
  DEFAULTS, step_for=lambda hp, model_state, batch: step_for(
    model_state, batch, hp.ghost_batch_size))
