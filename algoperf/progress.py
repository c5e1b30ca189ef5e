"""A one-line live display per trial: step, metric vs target, time vs budget.

It is updated at evals only (off the clock, charged to logging time), so the
training loop itself pays nothing for it.
"""

import contextlib


@contextlib.contextmanager
def trial_progress(workload, budget: float, enabled: bool = True):
  """Yields an ``on_eval(row)`` callback that refreshes the display."""
  if not enabled:
    yield None
    return
  from rich.progress import BarColumn
  from rich.progress import Progress
  from rich.progress import TextColumn
  from rich.progress import TimeElapsedColumn

  metric = workload.target_metric_name
  target = workload.validation_target_value
  columns = (
    TextColumn('[bold]{task.fields[workload]}'),
    BarColumn(),
    TextColumn('{task.completed:>6.1f}/{task.total:.0f} s'),
    TextColumn('step {task.fields[step]:>6}'),
    TextColumn('val {task.fields[metric]} {task.fields[value]} '
               '(target {task.fields[target]})'),
    TextColumn('ETA {task.fields[eta]}'),
    TimeElapsedColumn(),
  )
  with Progress(*columns, transient=False) as progress:
    task = progress.add_task('', total=budget, workload=workload.name,
                             step=0, metric=metric, value='-', target=target,
                             eta='-')

    def on_eval(row):
      value = row.get(f'validation/{metric}')
      used = row['accumulated_submission_time']
      steps = row['global_step']
      progress.update(
        task, completed=min(used, budget), step=steps,
        value=f'{value:.4f}' if value is not None else '-',
        eta=f'<= {max(budget - used, 0):.0f} s')

    yield on_eval
