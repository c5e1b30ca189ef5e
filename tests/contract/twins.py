"""Which workloads the contract tests may trace once for several.

Two workloads are twins when they build the same model (flax modules
compare by their settings) from inputs of the same shapes and dtypes, with
the same loss and target metric: a new family on other data that reuses a
family's model and variants (fashion_resnet_silu and digits_resnet_silu)
traces exactly as its twin does. The traced contract tests run the first
of each set in the fast suite and the others in the slow one; every base
runs in the fast suite whatever its twins, since its data side is its own.
"""

import jax
import pytest

from algoperf import registry


def _signature(name: str):
  workload = registry.get_workload_class(name)()
  inputs = jax.tree.map(lambda x: (x.shape, str(x.dtype)),
                        workload.init_inputs())
  return (repr(workload.build_model()), str(workload.loss_type),
          workload.target_metric_name, repr(inputs))


def twins(names) -> dict:
  """variant name -> the earlier workload it is a twin of."""
  first, found = {}, {}
  for name in names:
    key = _signature(name)
    if key in first and registry.facts(name).base_name:
      found[name] = first[key]
    first.setdefault(key, name)
  return found


def traced_params(names) -> list:
  """``names`` as parameters, each twin variant marked slow."""
  twin_of = twins(names)
  return [pytest.param(n, marks=pytest.mark.slow) if n in twin_of else n
          for n in names]
