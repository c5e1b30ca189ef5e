"""`forget`: set one family's trials aside after its targets were re-set."""

import pytest

from algoperf import registry
from algoperf.reference_leaderboard import held_out
from algoperf.reference_leaderboard import run_info
from algoperf.reference_leaderboard.held_out import SKIP
from scripts import cpu_leaderboard

BASES = list(registry.suite().base_workloads)
# Two families of the current suite: one kept, one set aside.
KEPT, FORGOTTEN = BASES[0], BASES[-1]


# The trials in <experiment_dir>/logs/ with the run record and targets
# beside it; or, as earlier versions wrote it, among the algorithms.
@pytest.mark.parametrize('logs_dir', ['logs', '.'])
def test_forget_sets_one_family_aside_and_lets_run_resume(tmp_path, capsys,
                                                          logs_dir):
  from algoperf import records
  from algoperf.reference_leaderboard import forget
  from scoring.reference_leaderboard import readme

  logs = tmp_path / logs_dir
  bases = [KEPT, FORGOTTEN]
  variant = held_out.variant(FORGOTTEN)
  records.write_json(tmp_path / run_info.TARGETS_FILE,
                     run_info.build_targets(bases))
  skips = [{'algorithm': 'nadamw', 'study': 0, 'base': b,
            'workload': held_out.variant(b), 'action': SKIP, 'reason': 'r'}
           for b in bases]
  records.write_json(tmp_path / run_info.INFO_FILE, {'sessions': [
    {'started': '2026-01-01T00:00:00+00:00', 'command': 'run A'}],
    'held_out_skips': skips})
  for workload in (KEPT, FORGOTTEN, variant):
    trial = logs / 'nadamw' / 'study_0' / f'{workload}_jax' / 'trial_1'
    trial.mkdir(parents=True)
    (trial / records.STATUS).write_text('{"status": "budget_exhausted"}')

  assert cpu_leaderboard.main(
    ['forget', '--workloads', FORGOTTEN, '--experiment-dir',
     str(tmp_path)]) == 0
  assert f'2 trial(s) of {FORGOTTEN}, {variant}' in (
    capsys.readouterr().out)
  assert run_info.logs_dir(tmp_path) == logs
  left = sorted(p.name for p in logs.glob('*/study_*/*_jax'))
  assert left == [f'{KEPT}_jax']
  kept = list(tmp_path.glob(f'{forget.FORGOTTEN_DIR}/*/nadamw/study_0/'
                            f'{FORGOTTEN}*_jax/trial_1/status.json'))
  assert len(kept) == 2  # Moved, not deleted.
  info = run_info.read(logs)
  assert [s['base'] for s in info['held_out_skips']] == [KEPT]
  [record] = info['forgotten']
  assert record['trials'] == 2
  assert record['command'].endswith(f'forget --workloads {FORGOTTEN} '
                                    f'--experiment-dir {tmp_path}')

  # The new targets of the family now merge; the kept one's must match.
  new = run_info.build_targets(bases)
  new['workloads'][FORGOTTEN]['validation_target_value'] = 0.1
  merged = run_info.merge_targets(logs, new, BASES)
  assert merged['base_workloads'] == bases
  assert merged['workloads'][FORGOTTEN]['validation_target_value'] == 0.1
  # The page's Reproduce section lists `forget` between the runs.
  info['sessions'].append({'started': '2099-01-01T00:00:00+00:00',
                           'command': 'run B'})
  text = readme._reproduce(info)
  assert text.index('run A') < text.index('forget --workloads') < (
    text.index('run B'))
  assert 'set aside 2 trial(s)' in text

  assert cpu_leaderboard.main(
    ['forget', '--workloads', variant, '--experiment-dir',
     str(tmp_path)]) == 1
  assert 'takes CPU-suite base workloads' in capsys.readouterr().err
