"""Progress of long commands: what runs now, how far, and an ETA where one
is knowable.

Progress goes to stderr, so results on stdout stay clean for scripts. When
stderr is a terminal it is a live display (a bar and a line of detail,
erased when the command ends: the results follow); otherwise (a log, CI)
it is plain lines, one per phase and at most one every ``EVERY`` seconds
in between, each starting with the time since the command began.

``Task`` serves any command with a count of things to do; ``trial_watch``
shows a trial trained in a supervised child process, from the heartbeat
and status.json the child already writes (nothing is added to its
training loop); ``study_lines`` is a study's plain-line form.
"""

import contextlib
import functools
import threading
import time

EVERY = 10.0  # Seconds between plain lines within one phase.
STUDY_EVERY = 30.0  # Seconds between a study's plain count lines.


@functools.cache
def console():
  """The console progress is drawn on: stderr."""
  from rich.console import Console

  return Console(stderr=True)


def is_live(out) -> bool:
  """A live display (a terminal that can move its cursor), or lines."""
  return out.is_terminal and not out.is_dumb_terminal


def clock(seconds: float) -> str:
  """'42 s', '3:05', '1:02:03'."""
  seconds = max(seconds, 0.0)
  if seconds < 60:
    return f'{seconds:.0f} s'
  minutes, secs = divmod(int(seconds), 60)
  hours, minutes = divmod(minutes, 60)
  return f'{hours}:{minutes:02d}:{secs:02d}' if hours else (
    f'{minutes}:{secs:02d}')


class _View:
  """The live display of a Task: one bar line, then its detail (wrapped)."""

  def __init__(self, task: 'Task'):
    from rich.spinner import Spinner

    self.task = task
    self.spinner = Spinner('dots', style='cyan')  # One: it animates.

  def __rich_console__(self, console, options):
    from rich.cells import cell_len
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    task, width = self.task, options.max_width
    numbers = '  '.join(task.numbers())
    # A short bar: at 80 columns the words say more than the bar.
    bar = min(24, width // 8) if task.total and width >= 60 else 0
    # What is left is the description's: cut short rather than squeezing
    # the numbers.
    room = width - 2 - (bar + 1 if bar else 0) - cell_len(numbers) - 1
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(width=1, no_wrap=True)
    grid.add_column(width=max(room, 1), no_wrap=True, overflow='ellipsis')
    text = Text(task.label, style='bold')  # Not markup: paths have '['.
    text.append(f' · {task.text}')
    cells = [self.spinner, text]
    if bar:
      grid.add_column(width=bar, no_wrap=True)
      cells.append(ProgressBar(task.total, min(task.completed, task.total)))
    grid.add_column(no_wrap=True, justify='right')
    cells.append(numbers)
    grid.add_row(*cells)
    yield grid
    if task.detail:
      yield Text('  ' + task.detail, style='dim')


class Task:
  """A long command's progress, as a context manager.

  Args:
    label: what runs ('validate nadamw').
    total, unit: the size of the work ('7 workloads'); None: unknown.
    eta: estimate the time left from the rate so far (for units of similar
      cost only).
  """

  def __init__(self, label: str, total: float | None = None,
               unit: str = '', eta: bool = False, out=None,
               every: float = EVERY):
    self.label, self.total, self.unit, self.eta = label, total, unit, eta
    self.out = out or console()
    self.every = every
    self.text, self.detail, self.completed = 'starting', '', 0.0
    self.started = time.monotonic()
    self._live = None
    self._last_line = -float('inf')
    self.numbers_fn = None  # Overrides numbers(): () -> list of str.

  def __enter__(self) -> 'Task':
    if is_live(self.out):
      from rich.live import Live

      self._live = Live(_View(self), console=self.out, transient=True,
                        refresh_per_second=4)
      self._live.start()
    return self

  def __exit__(self, *exc) -> None:
    if self._live is not None:
      self._live.stop()

  @property
  def live(self) -> bool:
    return self._live is not None

  def elapsed(self) -> float:
    return time.monotonic() - self.started

  def remaining(self) -> float | None:
    if not (self.eta and self.total and self.completed):
      return None
    rate = self.elapsed() / self.completed
    return rate * max(self.total - self.completed, 0)

  def numbers(self, with_elapsed: bool = True) -> list[str]:
    """'3/7 workloads', 'ETA 20 s' when knowable, then the time elapsed."""
    parts = self.numbers_fn() if self.numbers_fn else self._counts()
    return parts + [clock(self.elapsed())] if with_elapsed else parts

  def _counts(self) -> list[str]:
    parts = []
    if self.total:
      parts.append(f'{self.completed:g}/{self.total:g} {self.unit}'.strip())
    left = self.remaining()
    if left is not None:
      parts.append(f'ETA {clock(left)}')
    return parts

  def phase(self, text: str, completed: float | None = None,
            detail: str = '') -> None:
    """A new activity: always a line in a log."""
    self._set(text, completed, detail)
    self.say(force=True)

  def update(self, completed: float | None = None,
             detail: str | None = None, text: str | None = None) -> None:
    """More of the same activity: a line at most every ``every`` s."""
    self._set(text, completed, detail)
    self.say()

  def _set(self, text, completed, detail) -> None:
    if text is not None:
      self.text = text
    if completed is not None:
      self.completed = completed
    if detail is not None:
      self.detail = detail

  def say(self, force: bool = False) -> None:
    """The current state as a plain line (not in a terminal)."""
    if self.live:
      return
    now = self.elapsed()
    if not force and now - self._last_line < self.every:
      return
    self._last_line = now
    numbers = self.numbers(with_elapsed=False)
    extra = f' ({", ".join(numbers)})' if numbers else ''
    detail = f': {self.detail}' if self.detail else ''
    self.out.print(f'[{now:7.1f} s] {self.label}: {self.text}{extra}'
                   f'{detail}', markup=False, highlight=False,
                   soft_wrap=True)


@contextlib.contextmanager
def trial_watch(job, enabled: bool = True):
  """A ``supervisor.supervise`` watch for ``job``: called with each
  heartbeat reading, it shows the trial's phase, step, time and metric."""
  if not enabled:
    yield None
    return
  from algoperf import trial_watch as watch_lib

  with Task(f'{job.workload} trial {job.config.trial}') as shown:
    watch = watch_lib.TrialWatch(job, shown)
    yield watch
    watch.finish()


@contextlib.contextmanager
def study_lines(collect, out, every: float = STUDY_EVERY):
  """Plain lines for a study in a log: each trial as it changes phase or
  state, and a count every ``every`` seconds. ``collect()``: the rows."""
  from algoperf import study_progress

  lines = study_progress.StudyLines(collect, out, every)
  stop = threading.Event()

  def loop():
    while not stop.wait(1.0):
      lines.tick()

  lines.tick()  # What is planned, at once.
  thread = threading.Thread(target=loop, daemon=True)
  thread.start()
  try:
    yield
  finally:
    stop.set()
    thread.join()
    lines.tick(final=True)
