"""What contention looks like in a trial's own figures: the evidence for
``algoperf/contention.py``'s thresholds (docs/design.md §6).

The same 400-step mnist trial (synthetic data, the AlgoPerf-style fixture
submission, in this process) runs beside 0, 1, ... CPU hogs (one busy
Python process per core), interleaved over ``--repeats`` rounds. Per run
it prints what status.json recorded: the share of the usable cores other
processes used, our CPU per wall second, the time our threads waited for
a core, the steps/s of submission time relative to the same round's
hog-free run, and whether the trial was flagged. A threshold is sound
when the hog-free runs sit below it and a run whose steps/s visibly
dropped sits above it.

  python benchmarks/contention_threshold.py [--repeats 2] [--max-hogs N]
"""

import argparse
import contextlib
import os
import pathlib
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from algoperf import contention  # noqa: E402
from algoperf import records  # noqa: E402
from algoperf import registry  # noqa: E402
from algoperf import runner  # noqa: E402
from algoperf import submission as submission_lib  # noqa: E402

STEPS = 400
FIXTURE = REPO / 'tests' / 'fixtures' / 'algoperf_style'


@contextlib.contextmanager
def cpu_hogs(count: int):
  hogs = [subprocess.Popen([sys.executable, '-c', 'while True: pass'])
          for _ in range(count)]
  try:
    time.sleep(0.5 if hogs else 0)  # Spinning before the clock starts.
    yield
  finally:
    for hog in hogs:
      hog.kill()
      hog.wait()


def trial(tmp: str, name: str) -> tuple[float, dict, bool]:
  """(steps/s of submission time, the machine record, flagged)."""
  workload = registry.make_workload('mnist', max_allowed_runtime_sec=10**9)
  workload.use_synthetic_data(256)
  config = runner.RunConfig(
    experiment_dir=tmp, experiment_name=name, max_steps=STEPS,
    eval_every_steps=100, checkpoint_every_sec=None, progress=False)
  result = runner.run_trial(workload, submission_lib.load_submission(FIXTURE),
                            config)
  status = records.read_json(pathlib.Path(result.trial_dir) / records.STATUS)
  rate = STEPS / status['accumulators']['accumulated_submission_time']
  return rate, status['measurements'][-1]['machine'], status['contended']


def main() -> int:
  cores = len(contention.usable_cores())
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--repeats', type=int, default=2)
  parser.add_argument('--max-hogs', type=int, default=cores)
  args = parser.parse_args()
  print(f'{cores} usable cores; thresholds: others_share > '
        f'{contention.OTHERS_SHARE}, steal_share > {contention.STEAL_SHARE}; '
        f'load average at start {os.getloadavg()[0]:.1f}')
  print(f'{"round":>5s} {"hogs":>4s} {"others":>6s} {"cpu/wall":>8s} '
        f'{"waited":>6s} {"steps/s":>8s} {"rel":>5s} {"load":>4s} flagged')
  with tempfile.TemporaryDirectory() as tmp:
    for r in range(args.repeats):
      quiet = None
      for hogs in range(args.max_hogs + 1):
        with cpu_hogs(hogs):
          rate, m, flagged = trial(tmp, f'r{r}h{hogs}')
        quiet = quiet or rate
        waited = m['waited_per_wall']
        print(f'{r:5d} {hogs:4d} {m["others_share"]:6.2f} '
              f'{m["cpu_per_wall"]:8.2f} '
              f'{"-" if waited is None else f"{waited:.2f}":>6s} '
              f'{rate:8.0f} {rate / quiet:5.2f} '
              f'{m["load_average_end"]:4.1f} {"yes" if flagged else "no"}',
              flush=True)
  return 0


if __name__ == '__main__':
  sys.exit(main())
