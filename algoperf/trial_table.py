"""The table of trials that `run`, `study` and `status` print.

Rows are ``study_status`` rows (read from status.json, the study plan and,
for running trials, the heartbeat). Each trial shows its best validation
metric and the step it was reached at beside the last one, since the last
eval is not the result a reader looks for. Columns leave the table by
priority when the terminal is narrow (``tables.FittedTable``): workload,
study, trial and state always stay; each experiment (and submission) gets
its own table, named in its title.
"""

import math

from algoperf import records
from algoperf import tables
from algoperf.tables import Cell
from algoperf.tables import Column

# Shorter names of states for narrow terminals (the caption's counts keep
# the full ones).
_SHORT_STATES = {records.TARGET_REACHED: 'reached',
                 records.BUDGET_EXHAUSTED: 'budget spent',
                 records.TRAINING_COMPLETE: 'complete',
                 'interrupted': 'interrupt.'}
_COLORS = {records.TARGET_REACHED: 'green', records.ERROR: 'red',
           records.DIVERGED: 'red', records.FAILED: 'red',
           records.TIMEOUT: 'red', 'interrupted': 'magenta',
           records.RUNNING: 'cyan', 'pending': 'dim'}

# (key, Column); cells come from _cells. Lower priority numbers stay.
_COLUMNS = (
  ('workload', Column('workload')),
  ('study', Column('study', justify='right')),  # Shown: tells rows apart.
  ('trial', Column('trial', justify='right')),
  # Shortened ('budget spent') before step or time leave the table.
  ('state', Column('state', shorten_priority=4)),
  ('step', Column('step', priority=3, justify='right')),
  ('best', Column('best @ step', priority=1, justify='right',
                  short_header='best')),
  ('last', Column('last', priority=2, justify='right')),
  ('target', Column('target', priority=2, justify='right')),
  ('time', Column('time / budget', priority=3, justify='right',
                  short_header='time')),
  ('eta', Column('ETA', priority=5, justify='right')),
  ('metric', Column('metric', priority=7)),
  ('message', Column('message', priority=8, wrap=True, below=True)),
)


def render(rows: list[dict], title: str = 'Trials'):
  """The tables of ``rows``: one per experiment (and submission), titled
  with their names, so that no column is spent on them."""
  from rich.console import Group

  return Group(*tables_of(rows, title))


def tables_of(rows: list[dict], title: str) -> list[tables.FittedTable]:
  groups = {}
  for r in rows:
    groups.setdefault((r.get('experiment'), r.get('submission')), []).append(r)
  return [_table(group, _title(title, *key)) for key, group in
          groups.items()]


def _table(rows: list[dict], title: str) -> tables.FittedTable:
  """A FittedTable of ``rows``, with a caption counting trials per state."""
  keys = [k for k, _ in _COLUMNS if _shown(k, rows)]
  columns = [c for k, c in _COLUMNS if k in keys]
  cells = [_cells(r) for r in rows]
  return tables.FittedTable(
    columns, [[c[k] for k in keys] for c in cells], title=title,
    caption=_counts(rows),
    labels=[_label(r, 'study' in keys) for r in rows])


def _label(r: dict, with_study: bool) -> str:
  """What names a row under the table: 'mnist study 1 trial 1' when the
  table has more than one study (trial numbers repeat across studies)."""
  study = f' study {r["study"]}' if with_study else ''
  return f'{r["workload"]}{study} trial {r["trial"]}'


def _shown(key: str, rows: list[dict]) -> bool:
  """Study only when it tells trials apart; message and ETA when a trial
  has one."""
  if key == 'study':
    return len({r.get(key) for r in rows}) > 1
  if key == 'message':
    return any(r.get('message') for r in rows)
  if key == 'eta':  # Only running trials have one.
    return any(r.get('eta') is not None for r in rows)
  return True


def _title(title: str, experiment, submission) -> str:
  for key, value in (('experiment', experiment),
                     ('submission', submission)):
    if value:
      title += f' · {key} {value}'
  return title


def _counts(rows: list[dict]) -> str:
  counts = {}
  for r in rows:
    counts[r['state']] = counts.get(r['state'], 0) + 1
  caption = ', '.join(f'{n} {s}' for s, n in sorted(counts.items()))
  contended = sum(bool(r.get('contended')) for r in rows)
  if contended:
    caption += (f'; {CONTENDED_MARK}: {contended} measured under contention '
                '(other work on the machine; see status.json)')
  return caption


def _cells(r: dict) -> dict:
  color = _COLORS.get(r['state'], 'yellow')
  state = r['phase'] or r['state']  # Running: starting, compiling, ...
  return {
    'workload': f'[bold]{r["workload"]}[/bold]',
    'study': str(r['study']), 'trial': str(r['trial']),
    'state': Cell(f'[{color}]{state}[/{color}]',
                  f'[{color}]{_SHORT_STATES.get(state, state)}[/{color}]'),
    'step': ('-' if r['step'] is None or r['state'] == 'pending'
             else str(r['step'])),  # A pending trial has taken no step.
    'best': _best(r), 'last': _value(r.get('last')),
    'target': target_text(r), 'time': _time(r),
    'eta': '-' if r['eta'] is None else f'≤{seconds(r["eta"])}',
    'metric': _metric(r), 'message': _escape(r.get('message') or ''),
  }


def _value(value) -> str:
  if not isinstance(value, (int, float)) or math.isnan(value):
    return '-'
  return f'{value:.4f}'


def _best(r: dict):
  value = _value(r.get('best'))
  if value == '-' or r.get('best_step') is None:
    return value
  return Cell(best_text(r), value)


def best_text(r: dict) -> str:
  """'0.9360 @ 340': the best validation metric and its step."""
  value = _value(r.get('best'))
  if value == '-' or r.get('best_step') is None:
    return value
  return f'{value} @ {r["best_step"]}'


def target_text(r: dict) -> str:
  """'≥0.9435' (maximised) or '≤1.85' (minimised)."""
  if r.get('target') is None:
    return '-'
  sign = '≤' if r.get('direction') == 'min' else '≥'
  return f'{sign}{r["target"]}'


def _metric(r: dict) -> str:
  metric = r.get('metric') or '-'
  return metric.split('/', 1)[-1]


# Marks a time measured beside other work (contention.py): no column of its
# own, so that it never leaves a narrow table.
CONTENDED_MARK = '!'


def _time(r: dict):
  used, budget = seconds(r.get('used')), seconds(r.get('budget'))
  if r.get('contended'):
    used += f'[yellow]{CONTENDED_MARK}[/yellow]'
  return Cell(f'{used} / {budget}', used)


def seconds(value) -> str:
  if value is None or (isinstance(value, float) and math.isnan(value)):
    return '-'
  return f'{value:.0f} s' if value >= 10 else f'{value:.1f} s'


def _escape(text: str) -> str:
  from rich.markup import escape

  return escape(text)
