"""NAdamW in the form AlgoPerf's baseline uses.

NAdam as in Table 1 of Choi et al. 2019 ("On Empirical Comparisons of
Optimizers for Deep Learning"): Adam with a Nesterov look-ahead on the first
moment and Adam's bias corrections, no momentum-decay schedule::

  m_t = b1 m_{t-1} + (1 - b1) g_t
  v_t = b2 v_{t-1} + (1 - b2) g_t^2
  u_t = (b1 m_t + (1 - b1) g_t) / (1 - b1^t)  /  (sqrt(v_t / (1 - b2^t)) + eps)
  x_{t+1} = x_t - eta_t (u_t + lambda x_t)

``optax.nadamw`` differs only in the bias correction of the look-ahead term
(it divides ``b1 m_t`` by ``1 - b1^(t+1)``); this module keeps AlgoPerf's
numbers exactly. Weight decay is decoupled and multiplied by eta_t.
"""

import jax
import jax.numpy as jnp
import optax


def scale_by_nadam(
  b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> optax.GradientTransformation:
  """The NAdam direction u_t above (before the learning rate)."""

  def init_fn(params):
    return optax.ScaleByAdamState(
      count=jnp.zeros([], jnp.int32),
      mu=jax.tree.map(jnp.zeros_like, params),
      nu=jax.tree.map(jnp.zeros_like, params),
    )

  def update_fn(updates, state, params=None):
    del params
    count = state.count + 1
    mu = jax.tree.map(lambda g, m: b1 * m + (1 - b1) * g, updates, state.mu)
    nu = jax.tree.map(lambda g, v: b2 * v + (1 - b2) * g * g, updates, state.nu)
    first_correction = 1 - b1 ** count.astype(jnp.float32)
    second_correction = 1 - b2 ** count.astype(jnp.float32)

    def direction(g, m, v):
      look_ahead = (b1 * m + (1 - b1) * g) / first_correction
      return look_ahead / (jnp.sqrt(v / second_correction) + eps)

    new_updates = jax.tree.map(direction, updates, mu, nu)
    return new_updates, optax.ScaleByAdamState(count=count, mu=mu, nu=nu)

  return optax.GradientTransformation(init_fn, update_fn)


def nadamw(
  learning_rate: optax.ScalarOrSchedule,
  b1: float = 0.9,
  b2: float = 0.999,
  eps: float = 1e-8,
  weight_decay: float = 0.0,
) -> optax.GradientTransformation:
  """NAdam direction + decoupled weight decay, scaled by -learning_rate."""
  return optax.chain(
    scale_by_nadam(b1, b2, eps),
    optax.add_decayed_weights(weight_decay),
    optax.scale_by_learning_rate(learning_rate),
  )
