"""`run_study` in-process: trials, skipping finished ones, the status table."""

import json
import platform
import subprocess
import sys

import pytest

from algoperf import cli
from algoperf import console
from algoperf import records
from algoperf import study
from algoperf import study_driver
from algoperf import study_status
from tests.conftest import ALGOPERF_STYLE


@pytest.fixture
def wide_console(monkeypatch):
  """A 200-column table, whatever COLUMNS the machine sets: these tests
  are about what a row says (tests/algoperf/test_tables.py fits widths)."""
  monkeypatch.setenv('COLUMNS', '200')
  console.console.cache_clear()
  yield
  console.console.cache_clear()


def test_study_runs_then_skips_finished_trials(tmp_path, capsys,
                                              wide_console):
  spec = study.StudySpec(
    submission=str(ALGOPERF_STYLE), workloads=('mnist',),
    experiment_dir=str(tmp_path), name='s', ruleset='self', num_studies=2,
    max_steps=3, synthetic_data=64, checkpoint_every_sec=None)
  first = study_driver.run_study(spec, backend='inline', progress=False)
  assert sorted(s['status'] for s in first.values()) == ['max_steps'] * 2
  plan = records.read_json(records.study_plan_path(tmp_path / 's'))
  seeds = [t['rng_seed'] for t in plan['trials']]
  assert len(set(seeds)) == 2
  for t in plan['trials']:
    flags = records.read_json(records.trial_dir(
      tmp_path, 's', t['study'], 'mnist', 1) / 'flags_0.json')
    assert flags['rng_seed'] == t['rng_seed']
    assert flags['budget_multiplier'] == 3.0
  again = study_driver.run_study(spec, backend='inline', progress=False)
  assert sorted(s['status'] for s in again.values()) == ['skipped'] * 2
  assert not (tmp_path / 's' / '.algoperf' / 'lock.owner.json').exists()
  capsys.readouterr()
  assert cli.main(['status', str(tmp_path)]) == 0
  out = capsys.readouterr().out
  # The caption counts states; the metric column names the target metric.
  assert '2 max_steps' in out and ' accuracy ' in out


def test_status_marks_a_trial_whose_process_died_as_interrupted(tmp_path):
  dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                        capture_output=True, text=True, check=True)
  trial = records.trial_dir(tmp_path, 'x', 0, 'mnist', 1)
  trial.mkdir(parents=True)
  trial.joinpath(records.STATUS).write_text(json.dumps({
    'status': 'running', 'host': platform.node(), 'pid': int(dead.stdout),
    'study': 0, 'trial': 1, 'workload': 'mnist', 'global_step': 7,
    'budget': 60, 'target_metric': 'validation/accuracy',
    'target_value': 0.9, 'best_metric': 0.5,
    'last_eval': {'accumulated_submission_time': 6.0,
                  'total_duration': 9.0}}))
  [row] = study_status.collect(tmp_path)
  assert row['state'] == study_status.INTERRUPTED
  assert (row['step'], row['best'], row['used']) == (7, 0.5, 6.0)


def test_study_progress_in_a_log_is_plain_lines(tmp_path, capsys):
  """Not a terminal: a count of the plan at once, a line per trial as it
  ends (its best value and step), a final count; the table on stdout."""
  spec = study.StudySpec(
    submission=str(ALGOPERF_STYLE), workloads=('mnist',),
    experiment_dir=str(tmp_path), name='log', ruleset='self', num_studies=1,
    max_steps=3, synthetic_data=64, checkpoint_every_sec=None)
  study_driver.run_study(spec, backend='inline', progress=True)
  captured = capsys.readouterr()
  lines = captured.err.splitlines()
  assert lines[0].endswith('study: 0 of 1 trials finished (1 pending)'), lines
  assert any(' s] mnist study 0 trial 1: max_steps at step 3, best ' in line
             and '(target ≥' in line for line in lines), lines
  assert lines[-1].endswith('study: 1 of 1 trials finished (1 max_steps)')
  assert 'best @ step' in captured.out


def test_status_flags_a_trial_measured_under_contention(tmp_path, capsys):
  for trial, contended in ((1, True), (2, False)):
    path = records.trial_dir(tmp_path, 'x', 0, 'mnist', trial)
    path.mkdir(parents=True)
    path.joinpath(records.STATUS).write_text(json.dumps({
      'status': 'budget_exhausted', 'study': 0, 'trial': trial,
      'workload': 'mnist', 'contended': contended}))
  rows = study_status.collect(tmp_path)
  assert [r['contended'] for r in rows] == [True, False]
  capsys.readouterr()
  assert cli.main(['status', str(tmp_path)]) == 0
  out = capsys.readouterr().out
  # One time carries the mark; the caption says what it means.
  assert out.count('! /') == 1, out
  assert '1 measured under contention' in out, out
