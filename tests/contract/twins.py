"""Which workloads the contract tests may run once for several.

Two workloads are twins when they build the same model (flax modules
compare by their settings) from inputs of the same shapes and dtypes, with
the same loss and target metric: a new family on other data that reuses a
family's model and variants (fashion_resnet and digits_resnet,
fashion_resnet_silu and digits_resnet_silu) trains and traces exactly as
its twin does on the synthetic arrays those contract tests use. Those tests
run the first of each set (in the suite file's order) in the fast suite
and the others in the slow one. The data side's tests (the input queue,
the prepared data) run every base in the fast suite: there twins differ.
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
  """name -> the earlier workload it is a twin of."""
  first, found = {}, {}
  for name in names:
    key = _signature(name)
    if key in first:
      found[name] = first[key]
    first.setdefault(key, name)
  return found


def synthetic_params(names, variants_slow: bool = False) -> list:
  """``names`` as parameters, each twin marked slow (and each variant, if
  ``variants_slow``: the compiled tests run variants in the slow set)."""
  twin_of = twins(names)
  return [pytest.param(n, marks=pytest.mark.slow)
          if n in twin_of or (variants_slow and registry.facts(n).base_name)
          else n for n in names]
