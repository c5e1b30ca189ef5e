"""Step-indexed learning-rate schedules, composable with any optax optimizer.

Every function returns an ``optax.Schedule``: a callable from the update
count ``t`` (0 for the first update, as ``optax.scale_by_schedule`` counts)
to a scalar. Warmup is a separate piece: ``with_warmup(decay, w)`` runs a
linear warmup for ``w`` steps and then ``decay`` counted from 0, so any
decay below combines with any warmup length.

Notation: ``eta`` is the peak value, ``T`` the number of steps a piece
lasts, ``t`` the step within it, ``eta_end`` the final value.

Example:
  >>> schedule = with_warmup(cosine_decay(1e-3, 900), warmup_steps=100)
  >>> optimizer = optax.adamw(schedule)
"""


import jax.numpy as jnp
import optax

COOLDOWN_SHAPES = ('linear', '1-sqrt', 'cosine')


def constant(value: float) -> optax.Schedule:
  """eta_t = eta for every t."""
  return optax.constant_schedule(value)


def linear_warmup(
  peak_value: float, warmup_steps: int, init_value: float = 0.0
) -> optax.Schedule:
  """eta_t = eta_0 + (eta - eta_0) * min(t / W, 1); peak at t = W."""
  return optax.linear_schedule(init_value, peak_value, warmup_steps)


def with_warmup(
  schedule: optax.Schedule, warmup_steps: int, init_value: float = 0.0
) -> optax.Schedule:
  """Linear warmup from ``init_value`` to ``schedule(0)``, then ``schedule``.

  eta_t = linear_warmup(t) for t < W, and schedule(t - W) for t >= W, so the
  peak ``schedule(0)`` is reached exactly at t = W. ``W <= 0`` returns
  ``schedule`` unchanged.
  """
  warmup_steps = int(warmup_steps)
  if warmup_steps <= 0:
    return schedule
  peak_value = float(schedule(0))
  warmup = linear_warmup(peak_value, warmup_steps, init_value)
  return optax.join_schedules([warmup, schedule], [warmup_steps])


def linear_decay(
  peak_value: float, decay_steps: int, end_value: float = 0.0
) -> optax.Schedule:
  """eta_t = eta_end + (eta - eta_end) * (1 - t / T), held at eta_end after T.

  With ``end_value=0`` this is the linear decay to zero that Defazio et al.
  (2023, "When, Why and How Much?") show is worst-case optimal for the last
  iterate. (Written with a clipped fraction rather than
  ``optax.linear_schedule``: under jit XLA turns t / T into t * (1 / T), and
  the rate at t = T came out as -2e-8, not 0.)
  """
  return cooldown(peak_value, decay_steps, 'linear', end_value)


def cosine_decay(
  peak_value: float, decay_steps: int, end_value: float = 0.0
) -> optax.Schedule:
  """eta_t = eta_end + (eta - eta_end) * (1 + cos(pi * min(t, T) / T)) / 2."""
  alpha = end_value / peak_value if peak_value else 0.0
  return optax.cosine_decay_schedule(
    peak_value, max(int(decay_steps), 1), alpha=alpha
  )


def inverse_sqrt_decay(peak_value: float, timescale: int) -> optax.Schedule:
  """eta_t = eta * sqrt(tau / (t + tau)); never reaches 0.

  After a warmup of ``W`` steps with ``tau = W`` this is the classic
  ``eta * sqrt(W / s)`` of "Attention is all you need" at global step s.
  """
  tau = max(float(timescale), 1.0)

  def schedule(count):
    return peak_value * jnp.sqrt(tau / (jnp.asarray(count, jnp.float32) + tau))

  return schedule


def cooldown(
  start_value: float,
  cooldown_steps: int,
  shape: str = 'linear',
  end_value: float = 0.0,
) -> optax.Schedule:
  """Anneals from ``start_value`` to ``end_value`` over T steps, then holds.

  With s = min(t / T, 1) and Delta = start - end:
  'linear': start - Delta * s; '1-sqrt': end + Delta * (1 - sqrt(s))
  (Hägele et al. 2024); 'cosine': end + Delta * (1 + cos(pi s)) / 2.
  """
  if shape not in COOLDOWN_SHAPES:
    raise ValueError(
      f'cooldown shape {shape!r} is not one of {COOLDOWN_SHAPES}.'
    )
  steps = max(int(cooldown_steps), 1)
  delta = start_value - end_value

  def schedule(count):
    s = jnp.clip(jnp.asarray(count, jnp.float32) / steps, 0.0, 1.0)
    if shape == 'linear':
      fraction = 1.0 - s
    elif shape == '1-sqrt':
      fraction = 1.0 - jnp.sqrt(s)
    else:
      fraction = 0.5 * (1.0 + jnp.cos(jnp.pi * s))
    return end_value + delta * fraction

  return schedule


def stable_decay(
  peak_value: float,
  total_steps: int,
  cooldown_steps: int,
  shape: str = 'linear',
  end_value: float = 0.0,
) -> optax.Schedule:
  """Constant eta until T - C, then a cooldown of C steps to eta_end.

  The "stable + decay" part of warmup-stable-decay (WSD); wrap it in
  ``with_warmup`` for the full WSD schedule. ``shape`` is 'linear' or
  '1-sqrt' (or 'cosine'), as in ``cooldown``.
  """
  cooldown_steps = min(max(int(cooldown_steps), 0), int(total_steps))
  stable_steps = int(total_steps) - cooldown_steps
  decay = cooldown(peak_value, cooldown_steps, shape, end_value)
  if stable_steps <= 0:
    return decay
  return optax.join_schedules([constant(peak_value), decay], [stable_steps])


def warmup_cosine(
  peak_value: float,
  warmup_steps: int,
  total_steps: int,
  end_value: float = 0.0,
) -> optax.Schedule:
  """AlgoPerf's baseline: linear warmup for W steps, cosine to 0 at T.

  eta_t = eta * t / W for t < W; eta * (1 + cos(pi (t - W) / (T - W))) / 2
  after (T - W at least 1).
  """
  decay_steps = max(int(total_steps) - int(warmup_steps), 1)
  return with_warmup(
    cosine_decay(peak_value, decay_steps, end_value), warmup_steps
  )


def warmup_linear_decay(
  peak_value: float,
  warmup_steps: int,
  total_steps: int,
  end_value: float = 0.0,
) -> optax.Schedule:
  """Linear warmup for W steps, then eta * (1 - (t - W) / (T - W)) to 0."""
  decay_steps = max(int(total_steps) - int(warmup_steps), 1)
  return with_warmup(
    linear_decay(peak_value, decay_steps, end_value), warmup_steps
  )


def warmup_stable_decay(
  peak_value: float,
  warmup_steps: int,
  total_steps: int,
  cooldown_steps: int,
  shape: str = 'linear',
  end_value: float = 0.0,
) -> optax.Schedule:
  """WSD: warmup for W steps, constant, cooldown over the last C of T steps."""
  rest = max(int(total_steps) - int(warmup_steps), 1)
  return with_warmup(
    stable_decay(peak_value, rest, cooldown_steps, shape, end_value),
    warmup_steps,
  )


def rewarm(
  schedule: optax.Schedule,
  restart_step: int,
  warmup_steps: int,
  new_schedule: optax.Schedule,
  init_value: float | None = None,
) -> optax.Schedule:
  """Follows ``schedule`` until ``restart_step``, then warms up again.

  Re-warming for continued training on new data (Gupta et al. 2023,
  "Continual Pre-Training of Large Language Models: How to (re)warm your
  model?"): from step R the rate rises linearly over W steps from
  ``init_value`` (default: ``schedule(R)``, where the first run stopped) to
  ``new_schedule(0)``, then follows ``new_schedule(t - R - W)``.
  """
  restart_step = int(restart_step)
  if init_value is None:
    init_value = float(schedule(restart_step))
  second = with_warmup(new_schedule, warmup_steps, init_value)
  return optax.join_schedules([schedule, second], [restart_step])


def infinite(
  peak_value: float,
  constant_value: float,
  decay_steps: int,
  anneal_start: int,
  anneal_steps: int,
  end_value: float = 0.0,
  anneal_shape: str = 'linear',
) -> optax.Schedule:
  """Constant-plus-cooldown "infinite" schedule (Ibrahim et al. 2024).

  Phases: cosine from eta to eta_const over D steps; constant eta_const
  until step A (open-ended: training can go on at eta_const and anneal
  whenever a checkpoint is wanted); then anneal to eta_end over N steps
  with ``anneal_shape``. Wrap in ``with_warmup`` for the initial warmup.
  With eta_const = eta and D = 0 it is WSD.
  """
  decay_steps = min(max(int(decay_steps), 0), int(anneal_start))
  phases, boundaries = [], []
  if decay_steps > 0:
    phases.append(cosine_decay(peak_value, decay_steps, constant_value))
    boundaries.append(decay_steps)
  phases.append(constant(constant_value))
  if int(anneal_start) > decay_steps:
    boundaries.append(int(anneal_start))
  else:
    phases.pop()
  phases.append(cooldown(constant_value, anneal_steps, anneal_shape, end_value))
  return optax.join_schedules(phases, boundaries)
