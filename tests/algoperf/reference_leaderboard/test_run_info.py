"""The run record and targets snapshot a leaderboard run keeps."""

import json

import pytest

from algoperf import registry
from algoperf.reference_leaderboard import run_info

BASES = list(registry.suite().base_workloads)


def test_changed_targets_refuse_to_resume(tmp_path):
  first, other = BASES[0], BASES[-1]
  logs = run_info.logs_dir(tmp_path)
  old = run_info.build_targets([first])
  old['workloads'][first]['validation_target_value'] = 0.5
  (tmp_path / run_info.TARGETS_FILE).write_text(json.dumps(old))
  new = run_info.build_targets([first, other])
  with pytest.raises(run_info.LeaderboardError,
                     match=f'targets of {first}'):
    run_info.merge_targets(logs, new, BASES)
  old['workloads'][first] = new['workloads'][first]
  (tmp_path / run_info.TARGETS_FILE).write_text(json.dumps(old))
  merged = run_info.merge_targets(logs, new, BASES)
  suite = registry.suite()
  assert merged['held_out_workloads'] == [suite.held_out_variant(first),
                                          suite.held_out_variant(other)]


def test_records_go_beside_the_logs_and_an_old_layout_is_kept(tmp_path):
  new = tmp_path / 'new'
  assert run_info.logs_dir(new) == new / 'logs'
  run_info.write(new / 'logs', {'sessions': []})
  assert (new / run_info.INFO_FILE).exists()  # Beside logs/, not in it.
  assert run_info.read(new / 'logs') == {'sessions': []}
  old = tmp_path / 'old'  # An earlier version's: files among the trials.
  (old / 'nadamw' / 'study_0').mkdir(parents=True)
  (old / run_info.INFO_FILE).write_text('{"sessions": [1]}')
  assert run_info.logs_dir(old) == old
  assert run_info.read(old) == {'sessions': [1]}
  run_info.write(old, {'sessions': [2]})
  assert json.loads((old / run_info.INFO_FILE).read_text()) == {
    'sessions': [2]}
  assert not (tmp_path / run_info.INFO_FILE).exists()
