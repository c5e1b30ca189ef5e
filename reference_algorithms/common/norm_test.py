"""AdaGrad-Norm and the adaptive-sampling norm test (Lau, Liu & Kolar 2024).

AdAdaGrad grows the batch when the norm test says the mini-batch gradient
is too noisy to trust. Byrd et al.'s (2012) norm test asks, for the mean
gradient g of a batch B, that its estimated variance be small against its
squared norm::

  Var(g) <= eta^2 ||g||^2,   Var(g) estimated by  Var_i(grad f_i) / |B|.

Here the batch is K micro-batches of the workload's batch size b, each
with its own mean gradient g_j (the accumulation of ``adadagrad``). The
micro-batch means are i.i.d. draws with variance Var_i / b, so their sample
variance s^2 = sum_j ||g_j - g||^2 / (K - 1) estimates Var_i / b without
per-example gradients, and Var(g) = s^2 / K. The test statistic is

  T = s^2 / (K ||g||^2)          (the test passes when T <= eta^2),

and when it fails the smallest K' that would pass at the same s^2 and g is
K' = ceil(s^2 / (eta^2 ||g||^2)) = ceil(K T / eta^2): the next batch has
that many micro-batches (never fewer than now; at most a cap). The
variance needs K >= 2.

AdaGrad-Norm (Ward, Wu & Bottou 2019; the "-Norm" AdaGrad of the paper)
keeps one scalar accumulator: b_t^2 = b_{t-1}^2 + ||g_t||^2 and
x_{t+1} = x_t - eta_t g_t / b_t.
"""

import jax
import jax.numpy as jnp
import optax

# Guards the statistic when the mean gradient is exactly zero.
_TINY = 1e-30


def squared_norm(tree) -> jax.Array:
  return sum(jnp.sum(jnp.square(x)) for x in jax.tree.leaves(tree))


def zero_accumulator(params):
  """(sum of micro-batch gradients, sum of their squared norms, loss sum)."""
  zeros = jax.tree.map(jnp.zeros_like, params)
  return zeros, jnp.zeros([], jnp.float32), jnp.zeros([], jnp.float32)


def add_micro_batch(accumulator, grad, loss):
  grad_sum, squared_sum, loss_sum = accumulator
  return (jax.tree.map(jnp.add, grad_sum, grad),
          squared_sum + squared_norm(grad), loss_sum + loss)


def statistic(grad_sum, squared_sum, count):
  """(mean gradient g, T = s^2 / (K ||g||^2), s^2) over ``count`` = K >= 2.

  sum_j ||g_j - g||^2 = sum_j ||g_j||^2 - K ||g||^2, clipped at 0 against
  rounding.
  """
  count = jnp.asarray(count, jnp.float32)
  mean = jax.tree.map(lambda g: g / count, grad_sum)
  mean_squared = squared_norm(mean)
  spread = jnp.maximum(squared_sum - count * mean_squared, 0.0)
  sample_variance = spread / jnp.maximum(count - 1.0, 1.0)
  return mean, sample_variance / (count * mean_squared + _TINY), sample_variance


def next_count(test_statistic, count, eta, min_count, max_count):
  """K' = ceil(K T / eta^2) when the test fails (T > eta^2), else K; never
  below K (the batch only grows) and within [min_count, max_count]."""
  count = jnp.asarray(count, jnp.float32)
  wanted = jnp.ceil(count * test_statistic / (eta**2))
  grown = jnp.where(test_statistic > eta**2, jnp.maximum(wanted, count), count)
  return jnp.clip(grown, min_count, max_count).astype(jnp.int32)


def scale_by_adagrad_norm(initial_accumulator: float):
  """g / b_t with b_t^2 = b_0^2 + sum_s ||g_s||^2 (one scalar for all)."""

  def init_fn(params):
    del params
    return optax.ScaleByRssState(
      sum_of_squares=jnp.asarray(initial_accumulator**2, jnp.float32))

  def update_fn(updates, state, params=None):
    del params
    total = state.sum_of_squares + squared_norm(updates)
    scale = jax.lax.rsqrt(total)
    return (jax.tree.map(lambda g: g * scale, updates),
            optax.ScaleByRssState(sum_of_squares=total))

  return optax.GradientTransformation(init_fn, update_fn)


def adagrad_norm(learning_rate: optax.ScalarOrSchedule,
                 initial_accumulator: float = 0.01,
                 weight_decay: float = 0.0) -> optax.GradientTransformation:
  """AdaGrad-Norm + decoupled weight decay, scaled by -learning_rate."""
  return optax.chain(
    scale_by_adagrad_norm(initial_accumulator),
    optax.add_decayed_weights(weight_decay),
    optax.scale_by_learning_rate(learning_rate),
  )
