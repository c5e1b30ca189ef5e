"""Rows of `algoperf workloads`: facts from the registry, details on demand."""

import math

from algoperf import console
from algoperf import registry


def describe(name: str, details: bool = False) -> dict:
  """One row of facts for ``algoperf workloads``.

  Facts come from the suite file alone (no JAX); ``details`` builds the
  workload to count its parameters and name its data.
  """
  facts = registry.facts(name)
  row = {
    'workload': name,
    'base': facts.base_name or '',
    'metric': f'{facts.target_metric_name} ({facts.metric_direction})',
    'val target': facts.validation_target_value,
    'test target': facts.test_target_value,
    'budget s': facts.max_allowed_runtime_sec,
    'eval every s': facts.eval_period_time_sec,
    'step hint': facts.step_hint,
    'provisional': 'yes' if facts.targets_are_provisional else 'no',
  }
  if details:
    import jax

    workload = registry.make_workload(name)
    params, _ = workload.init_model_fn(jax.random.PRNGKey(0))
    row['params'] = sum(math.prod(x.shape) for x in jax.tree.leaves(params))
    row['train/val/test'] = (
      f'{workload.num_train_examples}/{workload.num_validation_examples}/'
      f'{workload.num_test_examples}'
    )
    builder = workload.dataset_builder
    row['dataset'] = builder.name if builder else ''
  return row


# Column -> priority (0 stays; larger numbers leave narrow terminals first).
_PRIORITY = {'workload': 0, 'val target': 1, 'budget s': 1, 'metric': 2,
             'test target': 2, 'params': 2, 'base': 3, 'step hint': 3,
             'train/val/test': 3, 'dataset': 4, 'eval every s': 4,
             'provisional': 5}


def table(rows: list[dict], details: bool = False):
  """A FittedTable of ``describe`` rows."""
  from algoperf import tables

  columns = [tables.Column(name, priority=_PRIORITY.get(name, 3),
                           justify='left' if name in (
                             'workload', 'base', 'metric', 'dataset')
                           else 'right')
             for name in rows[0]]
  return tables.FittedTable(
    columns, [[str(v) for v in row.values()] for row in rows],
    title='Workloads' + (' (details)' if details else ''))


def print_table(rows: list[dict], details: bool = False) -> None:
  console.console().print(table(rows, details))
