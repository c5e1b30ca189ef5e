"""The MLP of AlgoPerf's mnist workload: two hidden layers, then 10 logits."""

from collections.abc import Callable

import flax.linen as nn
import jax.numpy as jnp

from algoperf import layers


class MLP(nn.Module):
  hidden_width: int = 128
  num_hidden: int = 2
  activation: Callable = nn.sigmoid
  num_classes: int = 10

  @nn.compact
  def __call__(self, x, *, train, update_batch_norm=False, dropout_rate=0.0):
    del update_batch_norm
    x = x.reshape((x.shape[0], -1))
    for _ in range(self.num_hidden):
      x = self.activation(nn.Dense(self.hidden_width)(x))
      x = layers.Dropout(rate=dropout_rate, deterministic=not train)(x)
    return nn.Dense(self.num_classes, name='Dense_out')(x)


def init_inputs(batch_size: int = 1):
  return jnp.zeros((batch_size, 28, 28), jnp.float32)
