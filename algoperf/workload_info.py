"""Facts about registered workloads, read from the workload classes."""

import math

from algoperf import console


def describe(workload_cls, details: bool = False) -> dict:
  """One row of facts for ``algoperf workloads``."""
  w = workload_cls
  row = {
    'workload': w.name,
    'base': w.base_name or '',
    'metric': f'{w.target_metric_name} ({w.metric_direction})',
    'val target': w.validation_target_value,
    'test target': w.test_target_value,
    'budget s': w.max_allowed_runtime_sec,
    'eval every s': w.eval_period_time_sec,
    'step hint': w.step_hint,
    'provisional': 'yes' if w.targets_are_provisional else 'no',
  }
  if details:
    import jax

    workload = w()
    params, _ = workload.init_model_fn(jax.random.PRNGKey(0))
    row['params'] = sum(math.prod(x.shape) for x in jax.tree.leaves(params))
    row['train/val/test'] = (
      f'{w.num_train_examples}/{w.num_validation_examples}/'
      f'{w.num_test_examples}'
    )
    row['dataset'] = w.dataset_builder.name if w.dataset_builder else ''
  return row


def print_table(rows: list[dict], details: bool = False) -> None:
  from rich.table import Table

  table = Table(title='Workloads' + (' (details)' if details else ''))
  for column in rows[0]:
    table.add_column(column, justify='right' if column != 'workload' else 'left')
  for row in rows:
    table.add_row(*(str(v) for v in row.values()))
  console.console().print(table)
