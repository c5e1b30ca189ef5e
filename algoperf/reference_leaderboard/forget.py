"""Setting a workload family's trials aside after its targets were re-set.

`run` refuses to resume once a workload's registry targets differ from the
ones its trials ran against (they stopped at the old target). When only
some families were re-set, `forget` moves those families' trials (base
workload and held-out variant, every algorithm and study) into
``forgotten/<time>/`` beside the logs, drops their targets from the
snapshot and their held-out decisions from the run record, and notes what
it did there; the next `run` trains them again under the new targets.
Nothing is deleted.
"""

import pathlib
import shutil

from algoperf import experiment_lock
from algoperf import records
from algoperf.reference_leaderboard import held_out
from algoperf.reference_leaderboard import run_info
from algoperf.reference_leaderboard import runs

FORGOTTEN_DIR = 'forgotten'


def forget(experiment_dir, bases: list[str], command: str,
           out=print) -> int:
  """Sets aside the trials of ``bases`` and their variants; returns how many.

  Raises:
    LeaderboardError: no run record there, or a name that is not a base
      workload with a held-out variant.
  """
  exp = pathlib.Path(experiment_dir).absolute()
  logs = run_info.logs_dir(exp)
  info = run_info.read(logs)
  runs.check_bases(bases)
  family = set(bases) | {held_out.variant(b) for b in bases}
  when = run_info.now()
  moved = 0
  with experiment_lock.experiment_lock(exp):
    destination = exp / FORGOTTEN_DIR / when.replace(':', '')
    for workload_dir in sorted(logs.glob('*/study_*/*_jax')):
      if workload_dir.name.removesuffix('_jax') not in family:
        continue
      target = destination / workload_dir.relative_to(logs)
      target.parent.mkdir(parents=True, exist_ok=True)
      shutil.move(workload_dir, target)
      moved += len(list(target.glob('trial_*')))
    _drop_targets(run_info.record_path(logs, run_info.TARGETS_FILE), family)
    info['held_out_skips'] = [s for s in info['held_out_skips']
                              if s['base'] not in bases]
    info.setdefault('forgotten', []).append({
      'when': when, 'command': command, 'workloads': sorted(family),
      'trials': moved})
    run_info.write(logs, info)
  out(f'{moved} trial(s) of {", ".join(sorted(family))} moved to '
      f'{destination}; the next `run` trains them under the current targets.')
  return moved


def _drop_targets(path: pathlib.Path, family: set[str]) -> None:
  if not path.exists():
    return
  snapshot = records.read_json(path)
  snapshot['base_workloads'] = [w for w in snapshot['base_workloads']
                                if w not in family]
  snapshot['held_out_workloads'] = [w for w in snapshot['held_out_workloads']
                                    if w not in family]
  snapshot['workloads'] = {name: entry for name, entry
                           in snapshot['workloads'].items()
                           if name not in family}
  records.write_json(path, snapshot)
