"""A study's progress as plain lines, for logs (``progress.study_lines``).

In a terminal the study shows its live table; in a log a table redrawn
every second would be noise, so each trial gets a line when it starts,
compiles, trains and ends (with its best metric and step), and a count of
the trials per state comes every ``every`` seconds and at the end.
"""

import time

from algoperf import live_state
from algoperf import records
from algoperf import trial_table

_QUIET = ('pending', 'skipped')
_STEADY = (live_state.TRAINING, live_state.EVALUATING)


class StudyLines:
  def __init__(self, collect, out, every: float):
    self.collect, self.out, self.every = collect, out, every
    self.started = time.monotonic()
    self.seen: dict = {}  # Trial key -> the state or phase last printed.
    self.first = True
    self.counted_at = self.started

  def tick(self, final: bool = False) -> None:
    rows = self.collect()
    for row in rows:
      self._trial_line(row)
    now = time.monotonic()
    if self.first or final or now - self.counted_at >= self.every:
      self.first = False
      self.counted_at = now
      self._say(f'study: {_count(rows)}')

  def _trial_line(self, row: dict) -> None:
    key = (row['experiment'], row['study'], row['workload'], row['trial'])
    shown = row['phase'] or row['state']
    before = self.seen.get(key)
    self.seen[key] = shown
    if shown == before or shown in _QUIET or (
        before in _STEADY and shown in _STEADY):
      return
    if self.first and records.is_final({'status': row['state']}):
      return  # Finished before this command: the final table has it.
    self._say(f'{row["workload"]} study {row["study"]} trial '
              f'{row["trial"]}: {_describe(shown, row)}')

  def _say(self, text: str) -> None:
    elapsed = time.monotonic() - self.started
    self.out.print(f'[{elapsed:7.1f} s] {text}', markup=False,
                   highlight=False, soft_wrap=True)


def _describe(shown: str, row: dict) -> str:
  if shown == live_state.COMPILING:
    return 'compiling the first step'
  if shown in _STEADY:
    return 'training'
  if shown in (live_state.STARTING, records.RUNNING):
    return 'started'
  best = trial_table.best_text(row)
  message = f'; {row["message"]}' if row.get('message') else ''
  return (f'{shown} at step {row["step"]}, best {best} (target '
          f'{trial_table.target_text(row)}){message}')


def _count(rows: list[dict]) -> str:
  counts = {}
  for row in rows:
    counts[row['state']] = counts.get(row['state'], 0) + 1
  done = sum(n for s, n in counts.items()
             if records.is_final({'status': s}))
  listed = ', '.join(f'{n} {s}' for s, n in sorted(counts.items()))
  return f'{done} of {len(rows)} trials finished ({listed})'
