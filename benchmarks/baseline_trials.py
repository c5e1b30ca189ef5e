"""One self-tuning baseline trial as a user runs it, and what it measured.

Shared by eval_share.py and rerun_spread.py: ``algoperf run`` (the
supervised child, its warm-up off the clock first) trains
reference_algorithms/nadamw under the self-tuning rules on the prepared
data; the figures come from the trial's own files (status.json and
eval_measurements.csv), read as scoring reads them.
"""

import dataclasses
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from algoperf import clock  # noqa: E402
from algoperf import records  # noqa: E402
from algoperf import registry  # noqa: E402
from algoperf import runner  # noqa: E402

BASELINE = REPO / 'reference_algorithms' / 'nadamw'


@dataclasses.dataclass(frozen=True)
class Trial:
  status: str
  steps_to_target: int | None  # Step of the first eval at the target.
  time_to_target: float | None  # Submission time at that eval.
  loop_wall: float  # The timed loop's wall time (the clock's self-check).
  accumulators: dict  # Seconds per clock accumulator.
  compile_seconds: float  # Compilation charged to the submission's time.
  eval_compile_seconds: float  # Compilation (or cache loads) in evals.
  evals: int
  steps: int
  contended: bool
  load: float  # Load average when the trial ended.

  @property
  def eval_share(self) -> float:
    return self.accumulators[clock.EVAL] / self.loop_wall

  @property
  def compile_share(self) -> float:
    return self.compile_seconds / self.accumulators[clock.SUBMISSION]


def run(workload_name: str, experiment_dir: pathlib.Path, name: str,
        seed: int = 0) -> Trial:
  """Runs the baseline once; a failed run raises with its output."""
  cli = pathlib.Path(sys.executable).parent / 'algoperf'
  done = subprocess.run(
    [str(cli), 'run', '--workload', workload_name, '--submission',
     str(BASELINE), '--ruleset', 'self', '--experiment-dir',
     str(experiment_dir), '--name', name, '--rng-seed', str(seed),
     '--no-progress'], capture_output=True, text=True, check=False)
  found = sorted((experiment_dir / name).rglob(records.STATUS))
  if done.returncode != 0 and not found:
    raise RuntimeError(f'algoperf run {workload_name} failed '
                       f'(exit {done.returncode}):\n{done.stderr[-2000:]}')
  [status_path] = found
  status = records.read_json(status_path)
  rows = records.read_rows_csv(status_path.parent / records.EVAL_MEASUREMENTS)
  goals = runner.goal_evals(registry.make_workload(workload_name), rows)
  hit = rows[goals.validation] if goals.validation is not None else None
  def compiled(accumulator):
    return sum(m['compilation'].get(accumulator, {}).get('seconds', 0)
               for m in status.get('measurements', []))
  return Trial(
    status=status['status'],
    steps_to_target=None if hit is None else int(hit['global_step']),
    time_to_target=(None if hit is None
                    else float(hit['accumulated_submission_time'])),
    loop_wall=status['clock_self_check']['loop_wall_time'],
    accumulators=status['accumulators'],
    compile_seconds=compiled(clock.SUBMISSION),
    eval_compile_seconds=compiled(clock.EVAL), evals=len(rows),
    steps=int(status['global_step']), contended=bool(status.get('contended')),
    load=os.getloadavg()[0])
