"""`algoperf validate`'s progress, from the worker's progress file.

The worker (validation_worker.py) appends a JSON line as each submission
call starts; the parent reads the new lines a few times a second and shows
which submission and workload is being checked, which call runs, and the
first update_params of each workload as its own phase: compiling, which is
most of a validation's 40-80 s on a CPU.
"""

import json

# The worker's own steps per workload (validation_worker.NUM_STEPS); not
# imported: that module imports JAX.
_STEPS = 6


class ValidationWatch:
  """Feeds a ``progress.Task`` (total: submissions x workloads)."""

  def __init__(self, task, paths, workloads):
    self.task = task
    self.paths = [str(p) for p in paths]
    self.workloads = list(workloads)
    self.offset = 0  # Bytes of the progress file already read.
    self.seen: set = set()  # (submission, workload) pairs started.

  def starting(self, pending, path: str) -> None:
    """A worker process starts (JAX imports: a few seconds)."""
    del path
    self.offset = 0
    done = self._index(pending[0], None) if pending else 0
    self.task.phase('starting the checker', completed=done,
                    detail='a subprocess importing JAX and the submission')

  def poll(self, path: str) -> None:
    """Reads the lines appended to ``path`` since the last poll."""
    try:
      with open(path) as f:
        f.seek(self.offset)
        text = f.read()
    except OSError:
      return
    lines = text.split('\n')
    self.offset += len(text) - len(lines[-1])  # A partial last line waits.
    for line in lines[:-1]:
      try:
        self._show(json.loads(line))
      except (ValueError, KeyError, TypeError):
        continue  # Not ours (the file is the harness's own), or cut short.

  def _index(self, submission: str, workload) -> int:
    """How many workloads are done before this one."""
    sub = self.paths.index(submission) if submission in self.paths else 0
    work = (self.workloads.index(workload) if workload in self.workloads
            else 0)
    return sub * len(self.workloads) + work

  def _show(self, event: dict) -> None:
    call, workload, step = event['call'], event['workload'], event['step']
    # One submission: the label names it; the text leads with what runs.
    name = _name(event['submission']) if len(self.paths) > 1 else ''
    done = self._index(event['submission'], workload)
    if call == '<import>':
      self.task.phase(f'{name}: importing' if name else 'importing',
                      completed=done,
                      detail='the submission module, its API checked')
      return
    where = f'{name} on {workload}' if name else workload
    first = (event['submission'], workload) not in self.seen
    self.seen.add((event['submission'], workload))
    if first or call in ('get_batch_size', 'init_optimizer_state'):
      detail = ('building the model and data, then init_optimizer_state'
                if call != 'init_optimizer_state'
                else 'init_optimizer_state')
      self.task.phase(f'{where}: setting up', completed=done, detail=detail)
    elif call == 'update_params' and step == 0:
      self.task.phase(f'{where}: compiling', completed=done,
                      detail='the first update_params traces and compiles')
    elif call == 'prepare_for_eval':
      self.task.update(done, 'prepare_for_eval', f'{where}: checking')
    else:
      self.task.update(done, f'{call}, step {step + 1} of {_STEPS}',
                       f'{where}: training')


def name(submission) -> str:
  """'nadamw' for .../nadamw/submission.py or .../nadamw."""
  return _name(str(submission))


def _name(submission: str) -> str:
  parts = submission.rstrip('/').split('/')
  return parts[-2] if parts[-1] == 'submission.py' and len(parts) > 1 else (
    parts[-1])
