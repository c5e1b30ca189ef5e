"""The run record and targets snapshot a leaderboard run keeps."""

import json

import pytest

from algoperf import registry
from algoperf.reference_leaderboard import run_info

BASES = list(registry.suite().base_workloads)


def test_changed_targets_refuse_to_resume(tmp_path):
  old = run_info.build_targets(['mnist'])
  old['workloads']['mnist']['validation_target_value'] = 0.5
  (tmp_path / run_info.TARGETS_FILE).write_text(json.dumps(old))
  new = run_info.build_targets(['mnist', 'digits_vit'])
  with pytest.raises(run_info.LeaderboardError, match='targets of mnist'):
    run_info.merge_targets(tmp_path, new, BASES)
  old['workloads']['mnist'] = new['workloads']['mnist']
  (tmp_path / run_info.TARGETS_FILE).write_text(json.dumps(old))
  merged = run_info.merge_targets(tmp_path, new, BASES)
  assert merged['held_out_workloads'] == ['mnist_relu', 'digits_vit_glu']
