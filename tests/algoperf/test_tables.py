"""Every table at 80 and 120 columns: names and numbers whole, lines within
the width, and a note naming the columns left out."""

import io
import re

import pytest
from rich.console import Console

from algoperf import registry
from algoperf import study_status
from algoperf import trial_table
from algoperf import workload_info
from algoperf.data import catalog

WIDTHS = (80, 120)


def _status(workload, study, trial, state, **extra):
  return {'workload': workload, 'study': study, 'trial': trial,
          'status': state, 'submission': f'/home/me/{extra.pop("sub")}',
          'target_metric': 'validation/accuracy', 'target_value': 0.9773,
          'metric_direction': 'max', 'budget': 45.0, 'global_step': 375,
          'best_metric': 0.98125, 'best_step': 351,
          'last_eval': {'validation/accuracy': 0.97125,
                        'accumulated_submission_time': 19.75,
                        'total_duration': 31.5},
          'message': 'validation/accuracy 0.9813 met target 0.9773 at eval '
                     '11 (step 351); both targets met by step 375, after '
                     '19.8 s of submission time.', **extra}


def _trial_rows():
  """Trials of two submissions and experiments, every kind of state, the
  suite's longest workload names, a minimised metric."""
  long_name = max(registry.names(), key=len)
  rows = [
    study_status.row_of(_status('digits_resnet', 0, 1, 'target_reached',
                                sub='nadamw')),
    study_status.row_of(_status(long_name, 1, 12, 'budget_exhausted',
                                sub='schedule_free_adamw',
                                target_metric='validation/loss',
                                metric_direction='min', target_value=1.9466,
                                best_metric=1.95312, best_step=1280,
                                global_step=1334)),
    study_status.row_of(_status('mnist', 2, 3, 'running', sub='nadamw',
                                pid=None)),
    study_status.row_of({'workload': 'census_dlrm', 'study': 0, 'trial': 2,
                         'status': 'pending', 'submission': 'x/nadamw'}),
  ]
  rows[0]['experiment'], rows[1]['experiment'] = 'mine', 'theirs'
  rows[2]['experiment'] = rows[3]['experiment'] = 'mine'
  rows[2]['phase'] = 'compiling'
  return rows


def _render(renderable, width: int) -> list[str]:
  out = io.StringIO()
  Console(file=out, width=width, color_system=None).print(renderable)
  return out.getvalue().splitlines()


def _whole(text: str, lines: list[str]) -> bool:
  return any(text in line for line in lines)


def _check(table, rows_cells, names, width):
  """Every shown cell and every name whole in one line; each left-out
  column named in the note; no line over the width."""
  lines = _render(table, width)
  assert all(len(line.rstrip()) <= width for line in lines), lines
  layout = table.layout(Console(width=width), width)
  for cells in rows_cells:
    for i in layout.shown:
      text = re.sub(r'\[/?[a-z ]+\]', '', str(cells[i]))
      if not table.columns[i].wrap:
        assert _whole(text, lines), (text, lines)
  for name in names:
    assert _whole(name, lines), (name, lines)
  left_out = [c.header for i, c in enumerate(table.columns)
              if i not in layout.shown]
  if left_out:
    note = ' '.join(lines)
    assert f'Left out to fit {width} columns' in note
    for header in left_out:
      assert header in note
  return lines, layout


@pytest.mark.parametrize('width', WIDTHS)
def test_trial_tables_keep_names_numbers_and_best_step(width):
  rows = _trial_rows()
  mine, theirs = trial_table.tables_of(rows, 'Trials')
  # One table per experiment and submission, both named in its title.
  lines, layout = _check(theirs, theirs.rows, [
    max(registry.names(), key=len), 'experiment theirs',
    'submission schedule_free_adamw'], width)
  shown = [theirs.columns[i].header for i in layout.shown]
  # Even beside the suite's longest workload name: the best value and the
  # step it was reached at.
  assert {'workload', 'trial', 'state', 'best @ step'} <= set(shown)
  assert _whole('1.9531 @ 1280', lines)
  if 'message' not in shown:  # Under the table instead, whole words.
    assert _whole('trial 12: validation/accuracy 0.9813', lines)
  lines, layout = _check(mine, mine.rows, [
    'digits_resnet', 'mnist', 'census_dlrm', 'experiment mine',
    'submission nadamw'], width)
  shown = [mine.columns[i].header for i in layout.shown]
  # Typical names: best and its step beside the last value and the target.
  assert {'study', 'best @ step', 'last', 'target'} <= set(shown)
  for number in ('0.9812 @ 351', '0.9712', '≥0.9773'):
    assert _whole(number, lines), (number, lines)
  assert _whole('compiling', lines)  # A running trial's phase.
  if width == 80:  # The message goes below, named with its study (trial
    # numbers repeat across studies).
    assert 'message' not in shown
    assert _whole('digits_resnet study 0 trial 1: validation/', lines)


@pytest.mark.parametrize('width', WIDTHS)
def test_workloads_table(width):
  rows = [workload_info.describe(name) for name in registry.names()]
  table = workload_info.table(rows)
  _check(table, table.rows, registry.names(), width)


@pytest.mark.parametrize('width', WIDTHS)
def test_data_tables(width):
  rows = [{'dataset': 'shakespeare_chars', 'workloads':
           'shakespeare_lm, shakespeare_lm_post_ln, shakespeare_lm_glu_tanh',
           'splits': 'train 91234, validation 4567, test 4567',
           'size MB': '12.3', 'status': 'already prepared (verified)',
           'seconds': '0.4'},
          {'dataset': 'digits', 'workloads': 'mnist, digits_resnet',
           'splits': 'train 4000, validation 500, test 500',
           'size MB': '3.1', 'status': 'prepared', 'seconds': '12.0'}]
  table = catalog.table(rows, 'Prepared data in /home/me/.cache/data')
  _check(table, table.rows, ['shakespeare_chars', 'digits'], width)


def test_nothing_is_left_out_when_it_fits():
  lines = _render(trial_table.render(_trial_rows(), 'Trials'), 400)
  assert not _whole('Left out', lines)
  assert _whole('20 s / 45 s', lines) and _whole('≤', lines)  # ETA.
