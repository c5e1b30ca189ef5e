"""Sharding helpers with AlgoPerf v0.6's names.

One mesh over all local devices with a single axis, ``'batch'``. Global
batches are sharded along their first dimension; parameters, optimizer state
and model state are replicated.
"""

import functools

import jax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec

BATCH_AXIS = 'batch'


@functools.cache
def get_mesh() -> jax.sharding.Mesh:
  return jax.sharding.Mesh(jax.devices(), (BATCH_AXIS,))


def get_replicate_sharding() -> NamedSharding:
  """Sharding that keeps a full copy of an array on every device."""
  return NamedSharding(get_mesh(), PartitionSpec())


def get_batch_dim_sharding() -> NamedSharding:
  """Sharding that splits an array's first axis across the devices."""
  return NamedSharding(get_mesh(), PartitionSpec(BATCH_AXIS))


def shard_along_batch_dim(x):
  """Places every leaf of ``x`` split along its first axis."""
  sharding = get_batch_dim_sharding()
  return jax.tree.map(lambda leaf: jax.device_put(leaf, sharding), x)


def replicate(x):
  """Places every leaf of ``x`` in full on every device."""
  sharding = get_replicate_sharding()
  return jax.tree.map(lambda leaf: jax.device_put(leaf, sharding), x)


def disp_shard_info(x: jax.Array) -> None:
  """Prints where each shard of ``x`` lives (debugging aid)."""
  for shard in x.addressable_shards:
    print(
      f'shard.device: {shard.device}, index: {shard.index}, '
      f'replica_id: {shard.replica_id}.'
    )
