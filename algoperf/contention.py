"""Was the machine busy while a trial was measured? (docs/design.md §6)

The runner samples the machine when its clock starts and when the trial
ends (two reads of a few /proc files: nothing per step) and records, in
status.json, what a reader needs to judge the measurement:

- the trial process's CPU time (every thread) beside the loop's wall time;
- the CPU time other processes used on the cores this process may run on
  (``/proc/stat``, per core, minus our own), and the steal time there (a
  virtual machine's vCPU waiting for its host);
- how long this process's threads waited for a core while runnable
  (``/proc/self/task/*/schedstat``): the delay contention caused;
- the load average, the usable cores and the CPU model.

A trial is flagged ``contended`` when other processes used more than
``OTHERS_SHARE`` of its usable cores, or the host stole more than
``STEAL_SHARE`` of their time. ``benchmarks/contention_threshold.py``
measured these figures for trials idle and beside CPU hogs; the thresholds
and why they were chosen are in docs/design.md §6. Where ``/proc`` is
missing (not Linux), the figures are None and nothing is flagged.
"""

import dataclasses
import functools
import os
import platform
import time

# Flag a trial when other processes used more than this share of its
# usable cores on average, or the host stole more than STEAL_SHARE of them.
OTHERS_SHARE = 0.25
STEAL_SHARE = 0.05
_TICK = os.sysconf('SC_CLK_TCK') if hasattr(os, 'sysconf') else 100


@dataclasses.dataclass(frozen=True)
class Sample:
  """The machine at one moment, as this process sees it."""

  wall: float  # time.monotonic()
  process_cpu: float  # User + system seconds of every thread of ours.
  cores: tuple  # (busy, total, steal) seconds summed over usable cores.
  waited: float | None  # Seconds our threads waited runnable for a core.
  load: float | None  # The 1-minute load average.


def usable_cores() -> list[int]:
  try:
    return sorted(os.sched_getaffinity(0))
  except AttributeError:  # Not Linux.
    return list(range(os.cpu_count() or 1))


def _core_times(cores: list[int]) -> tuple | None:
  """(busy, total, steal) seconds since boot over ``cores``; None: no
  /proc/stat."""
  wanted = {f'cpu{c}' for c in cores}
  busy = total = steal = 0
  try:
    with open('/proc/stat') as f:
      for line in f:
        fields = line.split()
        if not fields or fields[0] not in wanted:
          continue
        # user nice system idle iowait irq softirq steal (guest counted in
        # user already).
        values = [int(v) for v in fields[1:9]]
        total += sum(values)
        busy += sum(values) - values[3] - values[4]
        steal += values[7]
  except (OSError, ValueError, IndexError):
    return None
  return busy / _TICK, total / _TICK, steal / _TICK


def _waited() -> float | None:
  """Seconds our live threads spent runnable but waiting for a core."""
  waited = 0
  try:
    tasks = os.listdir('/proc/self/task')
  except OSError:
    return None
  for task in tasks:
    try:
      with open(f'/proc/self/task/{task}/schedstat') as f:
        waited += int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
      continue  # The thread ended meanwhile.
  return waited / 1e9


def _load() -> float | None:
  try:
    return os.getloadavg()[0]
  except OSError:
    return None


def sample() -> Sample:
  times = os.times()
  return Sample(wall=time.monotonic(), process_cpu=times.user + times.system,
                cores=_core_times(usable_cores()), waited=_waited(),
                load=_load())


@functools.cache
def cpu_model() -> str:
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        if line.startswith('model name'):
          return line.split(':', 1)[1].strip()
  except OSError:
    pass
  return platform.processor()


def judge(start: Sample, end: Sample) -> dict:
  """What status.json records about the measurement between two samples."""
  wall = max(end.wall - start.wall, 1e-9)
  cpu = end.process_cpu - start.process_cpu
  cores = usable_cores()
  found = {
    'wall_time': wall, 'process_cpu_time': cpu, 'cpu_per_wall': cpu / wall,
    'usable_cores': len(cores), 'cpu_model': cpu_model(),
    'load_average_start': start.load, 'load_average_end': end.load,
    'others_cpu_per_wall': None, 'others_share': None, 'steal_share': None,
    'waited_per_wall': None,
  }
  if start.waited is not None and end.waited is not None:
    found['waited_per_wall'] = max(end.waited - start.waited, 0.0) / wall
  if start.cores is not None and end.cores is not None:
    busy, total, steal = (b - a for a, b in zip(start.cores, end.cores))
    others = max(busy - cpu, 0.0) / wall
    found.update(others_cpu_per_wall=others,
                 others_share=others / len(cores),
                 steal_share=steal / total if total > 0 else 0.0)
  found.update(verdict(found))
  return found


def verdict(found: dict) -> dict:
  """{'contended': bool, 'contention': why (empty when not)}."""
  reasons = []
  if (found.get('others_share') or 0.0) > OTHERS_SHARE:
    reasons.append(
      f'other processes used {found["others_cpu_per_wall"]:.2f} of the '
      f'{found["usable_cores"]} usable cores (over {OTHERS_SHARE:.0%})')
  if (found.get('steal_share') or 0.0) > STEAL_SHARE:
    reasons.append(f'the host stole {found["steal_share"]:.0%} of the cores\' '
                   f'time (over {STEAL_SHARE:.0%})')
  return {'contended': bool(reasons), 'contention': '; '.join(reasons)}
