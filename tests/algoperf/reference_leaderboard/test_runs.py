"""Leaderboard runs (tiny, synthetic data), then pack and page, by the CLI."""

import csv
import json
import shutil

import pytest

from algoperf import records
from algoperf import registry
from algoperf.reference_leaderboard import held_out
from algoperf.reference_leaderboard import run_info
from algoperf.reference_leaderboard import runs
from algoperf.reference_leaderboard.held_out import SKIP
from scripts import cpu_leaderboard
from tests.conftest import finish_trial

# The current suite's first family (a small MLP) and its held-out variant.
BASE = registry.suite().base_workloads[0]
VARIANT = registry.suite().held_out_variant(BASE)
SMOKE = ['--workloads', BASE, '--max-steps', '2', '--synthetic-data',
         '64', '--no-progress']


def _run(exp, *args) -> int:
  studies = [] if '--studies' in args else ['--studies', '1']
  return cpu_leaderboard.main(['run', '--experiment-dir', str(exp), *SMOKE,
                               *studies, *args])


# End to end (real trials, 20-40 s on 2 cores): in the slow set, to keep
# CI's fast suite within its time (docs/design.md §13).
@pytest.mark.slow
def test_run_pack_page_end_to_end(tmp_path, monkeypatch, capsys):
  exp, out = tmp_path / 'exp', tmp_path / 'board'
  # Pretend nadamw reached the base (synthetic data cannot): its held-out
  # trial runs, lion's is skipped.
  real = held_out.trial_reached
  monkeypatch.setattr(held_out, 'trial_reached',
                      lambda trial_dir, facts: '/nadamw/' in str(trial_dir))
  assert _run(exp, '--algorithms', 'nadamw,lion') == 0
  printed = capsys.readouterr().out
  assert f'nadamw {VARIANT} study 0 trial 1: max_steps' in printed
  assert f'lion {VARIANT}' not in printed.split('held-out')[0]
  assert (exp / f'logs/nadamw/study_0/{VARIANT}_jax/trial_1').is_dir()
  assert not (exp / f'logs/lion/study_0/{VARIANT}_jax').exists()
  # Only the algorithms in logs/ (AlgoPerf's scorer reads each entry as a
  # submission); the run record and targets beside it.
  assert sorted(p.name for p in (exp / 'logs').iterdir()) == ['lion',
                                                             'nadamw']
  info = json.loads((exp / run_info.INFO_FILE).read_text())
  [skip] = info['held_out_skips']
  assert (skip['algorithm'], skip['workload'], skip['action']) == (
    'lion', VARIANT, SKIP)
  assert info['sessions'][0]['machine']['logical_cpus'] >= 1

  # A rerun trains nothing and adds no session.
  monkeypatch.setattr(held_out, 'trial_reached', real)
  assert _run(exp, '--algorithms', 'nadamw,lion') == 0
  assert '0 trial(s) run' in capsys.readouterr().out
  assert len(json.loads((exp / run_info.INFO_FILE).read_text())[
    'sessions']) == 1

  checkpoint = exp / f'logs/lion/study_0/{BASE}_jax/trial_1/checkpoint'
  checkpoint.mkdir()
  (checkpoint / 'state').write_text('x')
  assert cpu_leaderboard.main(['pack', '--experiment-dir', str(exp),
                               '--logs', str(out / 'logs')]) == 0
  packed = {p.name for p in (out / 'logs').rglob('*') if p.is_file()}
  assert {'eval_measurements.csv', 'status.json', 'hparams.json',
          'flags_0.json', 'meta_data_0.json', 'study.json'} <= packed
  assert not packed & {'grad_norms.csv', 'measurements.csv', 'state',
                       run_info.INFO_FILE, run_info.TARGETS_FILE}
  assert (out / run_info.INFO_FILE).exists()
  assert (out / run_info.TARGETS_FILE).exists()
  assert (out / 'logs/nadamw/.algoperf/study.json').exists()
  # The packed logs and records, copied into a new experiment directory
  # (the next machine): a run there trains nothing.
  moved = tmp_path / 'moved'
  shutil.copytree(out / 'logs', moved / 'logs')
  for name in (run_info.INFO_FILE, run_info.TARGETS_FILE):
    shutil.copyfile(out / name, moved / name)
  capsys.readouterr()
  assert _run(moved, '--algorithms', 'nadamw,lion') == 0
  assert '0 trial(s) run' in capsys.readouterr().out

  assert cpu_leaderboard.main(['page', '--logs', str(out / 'logs'),
                               '--out', str(out), '--no-screenshot']) == 0
  readme = (out / 'README.md').read_text()
  # Score, its interval over studies, each study's score, by steps.
  assert '| nadamw | 0.0000 | 0.00-0.00 | 0.00 | 0.0000 |' in readme
  assert '| lion | 0.0000 | 0.00-0.00 | 0.00 | 0.0000 |' in readme
  assert 'Smoke run' in readme
  assert f'| lion | 0 | {VARIANT} | skip: base missed' in readme
  for by in ('time', 'steps'):
    with open(out / by / 'scores.csv') as f:
      rows = list(csv.DictReader(f))
    assert {r['submission'] for r in rows} == {'nadamw', 'lion'}
    assert all(float(r['score']) == 0.0 for r in rows)
  for name in ('index.html', 'steps.html', 'performance_profile.png',
               'performance_profile_steps.png'):
    assert (out / name).stat().st_size > 1000, name


# End to end (real trials, 20-40 s on 2 cores): in the slow set, to keep
# CI's fast suite within its time (docs/design.md §13).
@pytest.mark.slow
def test_held_out_trial_of_a_missed_study_waits_for_the_median(
    tmp_path, monkeypatch, capsys):
  # Base reached in studies 1 and 2 only: the variant of study 0 is needed
  # (the base median is finite) but only known to be once study 2 is done.
  monkeypatch.setattr(
    held_out, 'trial_reached',
    lambda trial_dir, facts: '/study_0/' not in str(trial_dir))
  assert _run(tmp_path, '--algorithms', 'nadamw', '--studies', '3') == 0
  ran = [line.split(': ')[0] for line in capsys.readouterr().out.splitlines()
         if line.startswith('nadamw ')]
  assert ran == [f'nadamw {BASE} study 0 trial 1',
                 f'nadamw {BASE} study 1 trial 1',
                 f'nadamw {VARIANT} study 1 trial 1',
                 f'nadamw {BASE} study 2 trial 1',
                 f'nadamw {VARIANT} study 0 trial 1',
                 f'nadamw {VARIANT} study 2 trial 1']
  info = json.loads((tmp_path / run_info.INFO_FILE).read_text())
  assert info['held_out_skips'] == []


def test_bad_options_are_one_clear_error(tmp_path, capsys):
  assert _run(tmp_path, '--algorithms', 'nadamw,nope') == 1
  err = capsys.readouterr().err
  assert 'Unknown algorithm(s) nope' in err and 'lion' in err
  assert cpu_leaderboard.main(['run', '--experiment-dir', str(tmp_path),
                               '--workloads', VARIANT]) == 1
  assert f'{BASE}->{VARIANT}' in capsys.readouterr().err
  assert cpu_leaderboard.main(['page', '--logs', str(tmp_path / 'none'),
                               '--out', str(tmp_path / 'o')]) == 1
  assert 'leaderboard_run.json not found' in capsys.readouterr().err


def _finish_below_target(job) -> None:
  """A finished trial whose every eval missed the base target."""
  facts = registry.facts(BASE)
  missed = facts.validation_target_value + (
    0.1 if facts.metric_direction == 'min' else -0.1)
  finish_trial(job, facts.target_metric_name, [(2, missed)])


def test_decisions_are_on_record_when_a_sitting_stops_between_rounds(
    tmp_path, monkeypatch):
  # Trials are not trained here (the end-to-end tests above do): each one
  # is written finished below the target. The sitting is stopped (SIGTERM
  # is a KeyboardInterrupt at the CLI) in lion's round, so `run` never
  # reaches its end; nadamw's round, already over, decided its variant.
  def run_trials(plans, dispatch, on_done):
    [plan] = plans
    if plan.spec.name == 'lion':
      raise KeyboardInterrupt
    for job in plan.jobs:
      _finish_below_target(job)
      on_done(job, {'status': records.MAX_STEPS, 'global_step': 2})

  monkeypatch.setattr(runs.study_driver, 'run_trials', run_trials)
  options = runs.RunOptions(
    experiment_dir=str(tmp_path), algorithms=('nadamw', 'lion'),
    workloads=(BASE,), num_studies=1, max_steps=2, synthetic_data=64,
    progress=False)
  with pytest.raises(KeyboardInterrupt):
    runs.run(options, out=lambda line: None)
  info = json.loads((tmp_path / run_info.INFO_FILE).read_text())
  assert [(s['algorithm'], s['workload'], s['action'])
          for s in info['held_out_skips']] == [
    ('nadamw', VARIANT, SKIP), ('lion', VARIANT, held_out.WAIT)]
