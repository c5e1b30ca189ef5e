"""AdAdaGrad-Norm: AdaGrad-Norm whose batch grows by the norm test.

Lau, Liu & Kolar (2024), "AdAdaGrad: Adaptive Batch Size Schemes for
Adaptive Gradient Methods". The workload fixes the batch size b; the
effective batch is K micro-batches of b:

* ``data_selection`` draws K batches from the input queue and returns the
  first with the other K - 1 under the extra key ``'micro_batches'``.
* ``update_params`` runs one jitted *accumulate* step per micro-batch (the
  workload's batch shape, so it compiles once) and one jitted *apply* step
  (K enters as a traced scalar, so no size compiles anew). The apply step
  computes the norm test (``common/norm_test.py``), the next K, and the
  AdaGrad-Norm update from the mean gradient.

K never needs a host sync in the hot loop: the host reads the decision of
the update two steps back, whose result is already on the host side of
the runner's pipeline (it waits for step t-1 while step t runs). Both the
decision in force and the pending one are in the optimizer state, so a
resumed trial continues with the same K as an uninterrupted one.
Per step, the test statistic, K * b and the next K go to grad_norms.csv.
"""

import functools
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import optax

from algoperf import jax_sharding_utils
from algoperf import spec
from reference_algorithms.common import batch_sizes
from reference_algorithms.common import hyperparameters as hparams_lib
from reference_algorithms.common import norm_test

MICRO_BATCHES = 'micro_batches'

DEFAULTS = {
  'learning_rate': 3.0,
  'initial_accumulator': 0.01,  # b_0.
  'weight_decay': 0.0,
  'warmup_factor': 0.0,
  'schedule': 'constant',
  'step_hint_factor': 1.0,
  'norm_test_eta': 1.0,  # The test passes when T <= eta^2.
  'min_micro_batches': 2,  # The sample variance needs two.
  'max_micro_batches': 16,
  'dropout_rate': 0.0,
  'label_smoothing': 0.0,
}


class _Lag:
  """The counts the previous update received (not donated: still alive).
  Not an array, so checkpoints skip it; a resumed trial starts empty."""

  def __init__(self):
    self.previous_counts = None


def init_optimizer_state(workload, model_params, model_state,
                         hyperparameters, rng) -> spec.OptimizerState:
  """(tx state, counts {'ready', 'pending'}, tx.update, lag)."""
  del model_state, rng
  hp = hparams_lib.resolve(hyperparameters, DEFAULTS)
  _check(hp)
  schedule = hparams_lib.learning_rate_schedule(hp, workload.step_hint)
  tx = norm_test.adagrad_norm(schedule, hp.initial_accumulator,
                              hp.weight_decay)
  first = jnp.asarray(hp.min_micro_batches, jnp.int32)
  counts = {'ready': first, 'pending': first + 0}
  state = jax.tree.map(jnp.array, tx.init(model_params))
  return (jax_sharding_utils.replicate(state),
          jax_sharding_utils.replicate(counts), tx.update, _Lag())


def _check(hp):
  if not 2 <= hp.min_micro_batches <= hp.max_micro_batches:
    raise ValueError(
      'adadagrad: need 2 <= min_micro_batches <= max_micro_batches (the '
      'norm test needs two micro-batches), found '
      f'{hp.min_micro_batches} and {hp.max_micro_batches}.')


def _accumulate(workload, dropout_rate, params, model_state, batch, rng,
                accumulator, label_smoothing):
  def loss_fn(p):
    logits, new_model_state = workload.model_fn(
      p, batch, model_state, spec.ForwardPassMode.TRAIN, rng,
      update_batch_norm=True, dropout_rate=dropout_rate)
    losses = workload.loss_fn(
      label_batch=batch['targets'], logits_batch=logits,
      mask_batch=batch.get('weights'), label_smoothing=label_smoothing)
    return losses['summed'] / losses['n_valid_examples'], new_model_state

  (loss, new_model_state), grad = jax.value_and_grad(
    loss_fn, has_aux=True)(params)
  return norm_test.add_micro_batch(accumulator, grad, loss), new_model_state


def _apply(tx_update, params, tx_state, counts, accumulator, count, eta,
           min_count, max_count):
  grad_sum, squared_sum, loss_sum = accumulator
  mean, statistic, _ = norm_test.statistic(grad_sum, squared_sum, count)
  # Never below the pending decision: K in force lags it by a step, and
  # the batch only grows.
  decision = jnp.maximum(norm_test.next_count(
    statistic, count, eta, min_count, max_count), counts['pending'])
  updates, tx_state = tx_update(mean, tx_state, params)
  params = optax.apply_updates(params, updates)
  metrics = {'norm_test_statistic': statistic,
             'grad_norm_l2': jnp.sqrt(norm_test.squared_norm(mean)),
             'loss': loss_sum / count, 'next_micro_batches': decision}
  return params, tx_state, {'ready': counts['pending'], 'pending': decision}, (
    metrics)


@functools.cache
def _jitted():
  replicated = jax_sharding_utils.get_replicate_sharding()
  sharded = jax_sharding_utils.get_batch_dim_sharding()
  accumulate = jax.jit(
    _accumulate, static_argnums=(0, 1), donate_argnums=(3, 6),
    in_shardings=(replicated, replicated, sharded, replicated, replicated,
                  replicated),
    out_shardings=replicated)
  apply = jax.jit(
    _apply, static_argnums=0, donate_argnums=(1, 2),
    out_shardings=replicated)
  zeros = jax.jit(norm_test.zero_accumulator, out_shardings=replicated)
  return accumulate, apply, zeros


def update_params(workload, current_param_container, current_params_types,
                  model_state, hyperparameters, batch, loss_type,
                  optimizer_state, eval_results, global_step, rng,
                  train_state=None) -> spec.UpdateReturn:
  """Accumulate over the K micro-batches, then one AdaGrad-Norm step."""
  del current_params_types, loss_type, eval_results, train_state
  hp = hparams_lib.resolve(hyperparameters, DEFAULTS)
  tx_state, counts, tx_update, lag = optimizer_state
  first = {k: v for k, v in batch.items() if k != MICRO_BATCHES}
  micro = [first, *batch.get(MICRO_BATCHES, ())]
  accumulate, apply, zeros = _jitted()
  accumulator = zeros(current_param_container)
  for j, micro_batch in enumerate(micro):
    accumulator, model_state = accumulate(
      workload, float(hp.dropout_rate), current_param_container, model_state,
      micro_batch, jax.random.fold_in(rng, j), accumulator,
      hp.label_smoothing)
  lag.previous_counts = counts  # Read by the next data_selection.
  params, tx_state, new_counts, metrics = apply(
    tx_update, current_param_container, tx_state, counts, accumulator,
    len(micro), float(hp.norm_test_eta), hp.min_micro_batches,
    hp.max_micro_batches)
  logger = getattr(workload, 'metrics_logger', None)
  if getattr(logger, 'append_device_metrics', None) is not None:
    size = len(micro) * len(first['targets'])
    logger.append_device_metrics(
      {**metrics, 'effective_batch_size': size}, global_step)
  return (tx_state, new_counts, tx_update, lag), params, model_state


def micro_batch_count(optimizer_state) -> int:
  """K for the next step: the pending decision the previous update
  received (computed two updates back, so already done), else -- first
  step, or resumed -- the decision in force now (one wait, once)."""
  _, counts, _, lag = optimizer_state
  if lag.previous_counts is not None:
    return int(lag.previous_counts['pending'])
  return int(counts['ready'])


def data_selection(workload, input_queue: Iterator[dict[str, spec.Tensor]],
                   optimizer_state, current_param_container, model_state,
                   hyperparameters, global_step, rng) -> dict:
  """K batches of the queue: the first, with the rest under 'micro_batches'."""
  del workload, current_param_container, model_state, hyperparameters
  del global_step, rng
  count = micro_batch_count(optimizer_state)
  first = next(input_queue)
  return {**first, MICRO_BATCHES: tuple(
    next(input_queue) for _ in range(count - 1))}


get_batch_size = batch_sizes.get_batch_size
