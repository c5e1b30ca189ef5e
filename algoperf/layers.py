"""Layers the workloads share where flax's own do not fit the API.

AlgoPerf v0.6 submissions pass ``dropout_rate`` into ``model_fn`` from inside
their jitted train step, so the rate can be a traced value; ``flax.linen``'s
``Dropout`` branches on the rate in Python and fails on a tracer.
"""


import flax.linen as nn
import jax
import jax.numpy as jnp


class Dropout(nn.Module):
  """Inverted dropout whose ``rate`` may be a traced (jitted) value.

  Same call convention as ``flax.linen.Dropout``: ``deterministic`` given
  at construction or at call time; randomness from the 'dropout' stream;
  ``broadcast_dims`` share one keep/drop decision along those axes.
  """

  rate: float
  broadcast_dims: tuple[int, ...] = ()
  deterministic: bool | None = None

  @nn.compact
  def __call__(self, inputs, deterministic: bool | None = None):
    deterministic = nn.merge_param('deterministic', self.deterministic,
                                   deterministic)
    if deterministic:
      return inputs
    if isinstance(self.rate, (int, float)) and self.rate == 0.0:
      return inputs  # A static zero rate: skip drawing random bits.
    keep_prob = 1.0 - jnp.asarray(self.rate, inputs.dtype)
    mask_shape = tuple(1 if axis in self.broadcast_dims else size
                       for axis, size in enumerate(inputs.shape))
    keep = jax.random.bernoulli(self.make_rng('dropout'), keep_prob,
                                mask_shape)
    keep = jnp.broadcast_to(keep, inputs.shape)
    return jnp.where(keep, inputs / jnp.maximum(keep_prob, 1e-12),
                     jnp.zeros_like(inputs))
