"""scripts/cpu_leaderboard.py: run (tiny, synthetic data), pack and page."""

import csv
import json

import pytest

from algoperf import registry

from scripts import cpu_leaderboard
from scripts.reference_leaderboard import held_out
from scripts.reference_leaderboard import run_info
from scripts.reference_leaderboard.held_out import RUN
from scripts.reference_leaderboard.held_out import SKIP
from scripts.reference_leaderboard.held_out import WAIT

SMOKE = ['--workloads', 'mnist', '--max-steps', '2', '--synthetic-data',
         '64', '--no-progress']


@pytest.mark.parametrize('reached, study, n, action', [
  ({0: True}, 0, 1, RUN),
  ({0: False}, 0, 1, SKIP),
  ({}, 0, 1, WAIT),
  # Base missed in study 0 only: its median over 3 may still be finite.
  ({0: False}, 0, 3, WAIT),
  ({0: False, 1: True}, 0, 3, WAIT),
  ({0: False, 1: True, 2: True}, 0, 3, RUN),  # median finite: needed.
  ({0: False, 1: False}, 0, 3, SKIP),  # 2 of 3 missed: median infinite.
  ({0: False, 1: False}, 2, 3, SKIP),
  ({0: True, 1: False}, 0, 3, RUN),
  ({0: False, 1: True}, 1, 2, SKIP),  # 1 of 2: the median averages inf.
])
def test_held_out_trial_is_skipped_only_when_the_base_median_is_infinite(
    reached, study, n, action):
  assert held_out.decide(reached, study, n).action == action


def test_every_cpu_suite_family_has_a_registered_held_out_variant():
  from algoperf import registry

  for base in registry.suite().base_workloads:
    assert registry.facts(held_out.variant(base)).base_name == base


def _run(exp, *args) -> int:
  studies = [] if '--studies' in args else ['--studies', '1']
  return cpu_leaderboard.main(['run', '--experiment-dir', str(exp), *SMOKE,
                               *studies, *args])


def test_run_pack_page_end_to_end(tmp_path, monkeypatch, capsys):
  exp, out = tmp_path / 'exp', tmp_path / 'board'
  # Pretend nadamw reached mnist (synthetic data cannot): its held-out
  # trial runs, lion's is skipped.
  real = held_out.trial_reached
  monkeypatch.setattr(held_out, 'trial_reached',
                      lambda path, target: '/nadamw/' in path)
  assert _run(exp, '--algorithms', 'nadamw,lion') == 0
  printed = capsys.readouterr().out
  assert 'nadamw mnist_relu study 0 trial 1: max_steps' in printed
  assert 'lion mnist_relu' not in printed.split('held-out')[0]
  assert (exp / 'nadamw/study_0/mnist_relu_jax/trial_1').is_dir()
  assert not (exp / 'lion/study_0/mnist_relu_jax').exists()
  info = json.loads((exp / run_info.INFO_FILE).read_text())
  [skip] = info['held_out_skips']
  assert (skip['algorithm'], skip['workload'], skip['action']) == (
    'lion', 'mnist_relu', SKIP)
  assert info['sessions'][0]['machine']['logical_cpus'] >= 1

  # A rerun trains nothing and adds no session.
  monkeypatch.setattr(held_out, 'trial_reached', real)
  assert _run(exp, '--algorithms', 'nadamw,lion') == 0
  assert '0 trial(s) run' in capsys.readouterr().out
  assert len(json.loads((exp / run_info.INFO_FILE).read_text())[
    'sessions']) == 1

  checkpoint = exp / 'lion/study_0/mnist_jax/trial_1/checkpoint'
  checkpoint.mkdir()
  (checkpoint / 'state').write_text('x')
  assert cpu_leaderboard.main(['pack', '--experiment-dir', str(exp),
                               '--logs', str(out / 'logs')]) == 0
  packed = {p.name for p in (out / 'logs').rglob('*') if p.is_file()}
  assert {'eval_measurements.csv', 'status.json', 'hparams.json',
          'flags_0.json', 'meta_data_0.json', run_info.INFO_FILE,
          run_info.TARGETS_FILE} <= packed
  assert not packed & {'grad_norms.csv', 'measurements.csv', 'state'}

  assert cpu_leaderboard.main(['page', '--logs', str(out / 'logs'),
                               '--out', str(out), '--no-screenshot']) == 0
  readme = (out / 'README.md').read_text()
  assert '| nadamw | 0.0000 | 0.0000 |' in readme
  assert '| lion | 0.0000 | 0.0000 |' in readme
  assert 'Smoke run' in readme
  assert '| lion | 0 | mnist_relu | skip: base missed' in readme
  for by in ('time', 'steps'):
    with open(out / by / 'scores.csv') as f:
      rows = list(csv.DictReader(f))
    assert {r['submission'] for r in rows} == {'nadamw', 'lion'}
    assert all(float(r['score']) == 0.0 for r in rows)
  for name in ('index.html', 'steps.html', 'performance_profile.png',
               'performance_profile_steps.png'):
    assert (out / name).stat().st_size > 1000, name


def test_held_out_trial_of_a_missed_study_waits_for_the_median(
    tmp_path, monkeypatch, capsys):
  # Base reached in studies 1 and 2 only: the variant of study 0 is needed
  # (the base median is finite) but only known to be once study 2 is done.
  monkeypatch.setattr(held_out, 'trial_reached',
                      lambda path, target: '/study_0/' not in path)
  assert _run(tmp_path, '--algorithms', 'nadamw', '--studies', '3') == 0
  ran = [line.split(': ')[0] for line in capsys.readouterr().out.splitlines()
         if line.startswith('nadamw ')]
  assert ran == ['nadamw mnist study 0 trial 1',
                 'nadamw mnist study 1 trial 1',
                 'nadamw mnist_relu study 1 trial 1',
                 'nadamw mnist study 2 trial 1',
                 'nadamw mnist_relu study 0 trial 1',
                 'nadamw mnist_relu study 2 trial 1']
  info = json.loads((tmp_path / run_info.INFO_FILE).read_text())
  assert info['held_out_skips'] == []


def _eval_csv(path, column, rows):
  path.mkdir(parents=True)
  lines = [f'accumulated_submission_time,global_step,score,{column}']
  lines += [f'{t},{s},{t},{v}' for t, s, v in rows]
  (path / 'eval_measurements.csv').write_text('\n'.join(lines) + '\n')


def _logs(tmp_path):
  """Hand-written logs of three algorithms on mnist + mnist_relu."""
  logs = tmp_path / 'logs'
  logs.mkdir()
  targets = run_info.build_targets(['mnist'])
  (logs / run_info.TARGETS_FILE).write_text(json.dumps(targets))
  machine = {'cpu_model': 'Test CPU', 'logical_cpus': 2, 'usable_cpus': 2,
             'memory_gib': 8.0, 'python': '3.11', 'git_commit': 'abc',
             'packages': {'jax': '0.0.1'}}
  session = {'started': '2025-01-02T03:04:05+00:00',
             'last_update': '2025-01-02T05:00:00+00:00',
             'command': 'cpu_leaderboard.py run', 'machine': machine}
  (logs / run_info.INFO_FILE).write_text(json.dumps({
    'ruleset': 'self', 'rules': 'v0.5', 'num_studies': 1,
    'algorithms': ['fast', 'slow', 'novariant'], 'sessions': [session],
    'held_out_skips': [], 'max_steps': None, 'synthetic_data': None}))
  column = 'validation/accuracy'
  # fast: 2 s but 500 steps; slow: 4 s but 200 steps; novariant is the
  # fastest on mnist but misses mnist_relu, which disqualifies its mnist.
  # Times stay inside mnist's self-tuning budget; 0.99 beats its targets.
  for name, (t, steps), variant_value in (
      ('fast', (2.0, 500), 0.99), ('slow', (4.0, 200), 0.99),
      ('novariant', (1.6, 300), 0.5)):
    trial = logs / name / 'study_0'
    _eval_csv(trial / 'mnist_jax/trial_1', column,
              [(t / 2, steps // 2, 0.5), (t, steps, 0.99)])
    _eval_csv(trial / 'mnist_relu_jax/trial_1', column,
              [(2.0, 100, variant_value)])
  return logs


def test_page_scores_by_time_and_steps_with_the_held_out_rule(tmp_path):
  logs = _logs(tmp_path)
  out = tmp_path / 'board'
  assert cpu_leaderboard.main(['page', '--logs', str(logs), '--out',
                               str(out), '--no-screenshot']) == 0
  readme = (out / 'README.md').read_text()
  scores = [line for line in readme.splitlines()
            if line.startswith('| 1 |') or line.startswith('| 2 |')
            or line.startswith('| 3 |')]
  # By time fast wins (slow is 2x); by steps slow wins (fast is 2.5x).
  assert scores[0].startswith('| 1 | fast | 1.0000 | 0.5')
  assert scores[1].startswith('| 2 | slow | 0.6') and '| 1.0000 |' in (
    scores[1])
  assert scores[2].startswith('| 3 | novariant | 0.0000 | 0.0000 | 0 / 1')
  assert '~~1.6 s~~ (held-out variant missed)' in readme
  assert '| fast | 500 steps |' in readme and '**200 steps**' in readme
  assert 'No status.json' in readme  # hand-written logs have none.
  assert '| Test CPU | 2 (2) | 8.0 GiB | 0.0.1 |' in readme
  assert '2025-01-02 03:04 to 2025-01-02 05:00' in readme
  assert 'Smoke run' not in readme
  # Regenerating gives the same files (dates come from the logs).
  before = {p: p.read_bytes() for p in out.rglob('*') if p.is_file()}
  assert cpu_leaderboard.main(['page', '--logs', str(logs), '--out',
                               str(out), '--no-screenshot']) == 0
  assert before == {p: p.read_bytes() for p in out.rglob('*')
                    if p.is_file()}


def test_bad_options_are_one_clear_error(tmp_path, capsys):
  assert _run(tmp_path, '--algorithms', 'nadamw,nope') == 1
  err = capsys.readouterr().err
  assert 'Unknown algorithm(s) nope' in err and 'lion' in err
  assert cpu_leaderboard.main(['run', '--experiment-dir', str(tmp_path),
                               '--workloads', 'mnist_relu']) == 1
  assert 'mnist->mnist_relu' in capsys.readouterr().err
  assert cpu_leaderboard.main(['page', '--logs', str(tmp_path / 'none'),
                               '--out', str(tmp_path / 'o')]) == 1
  assert 'leaderboard_run.json not found' in capsys.readouterr().err


def test_changed_targets_refuse_to_resume(tmp_path):
  old = run_info.build_targets(['mnist'])
  old['workloads']['mnist']['validation_target_value'] = 0.5
  (tmp_path / run_info.TARGETS_FILE).write_text(json.dumps(old))
  new = run_info.build_targets(['mnist', 'digits_vit'])
  with pytest.raises(run_info.LeaderboardError, match='targets of mnist'):
    run_info.merge_targets(tmp_path, new, list(registry.suite().base_workloads))
  old['workloads']['mnist'] = new['workloads']['mnist']
  (tmp_path / run_info.TARGETS_FILE).write_text(json.dumps(old))
  merged = run_info.merge_targets(tmp_path, new, list(registry.suite().base_workloads))
  assert merged['held_out_workloads'] == ['mnist_relu', 'digits_vit_glu']


def test_forget_sets_one_family_aside_and_lets_run_resume(tmp_path, capsys):
  from algoperf import records
  from scripts.reference_leaderboard import forget
  from scripts.reference_leaderboard import readme

  bases = ['mnist', 'census_dlrm']
  records.write_json(tmp_path / run_info.TARGETS_FILE,
                     run_info.build_targets(bases))
  skips = [{'algorithm': 'nadamw', 'study': 0, 'base': b,
            'workload': held_out.variant(b), 'action': SKIP, 'reason': 'r'}
           for b in bases]
  run_info.write(tmp_path, {'sessions': [
    {'started': '2026-01-01T00:00:00+00:00', 'command': 'run A'}],
    'held_out_skips': skips})
  for workload in ('mnist', 'census_dlrm', 'census_dlrm_embed_init'):
    trial = tmp_path / 'nadamw' / 'study_0' / f'{workload}_jax' / 'trial_1'
    trial.mkdir(parents=True)
    (trial / records.STATUS).write_text('{"status": "budget_exhausted"}')

  assert cpu_leaderboard.main(
    ['forget', '--workloads', 'census_dlrm', '--experiment-dir',
     str(tmp_path)]) == 0
  assert '2 trial(s) of census_dlrm, census_dlrm_embed_init' in (
    capsys.readouterr().out)
  left = sorted(p.name for p in tmp_path.glob('*/study_*/*_jax'))
  assert left == ['mnist_jax']
  kept = list(tmp_path.glob(f'{forget.FORGOTTEN_DIR}/*/nadamw/study_0/'
                            'census_dlrm*_jax/trial_1/status.json'))
  assert len(kept) == 2  # Moved, not deleted.
  info = run_info.read(tmp_path)
  assert [s['base'] for s in info['held_out_skips']] == ['mnist']
  [record] = info['forgotten']
  assert record['trials'] == 2
  assert record['command'].endswith('forget --workloads census_dlrm '
                                    f'--experiment-dir {tmp_path}')

  # The new targets of the family now merge; mnist's must still match.
  new = run_info.build_targets(bases)
  new['workloads']['census_dlrm']['validation_target_value'] = 0.1
  merged = run_info.merge_targets(tmp_path, new, list(registry.suite().base_workloads))
  assert merged['base_workloads'] == bases
  assert merged['workloads']['census_dlrm']['validation_target_value'] == 0.1
  # The page's Reproduce section lists `forget` between the runs.
  info['sessions'].append({'started': '2099-01-01T00:00:00+00:00',
                           'command': 'run B'})
  text = readme._reproduce(info)
  assert text.index('run A') < text.index('forget --workloads') < (
    text.index('run B'))
  assert 'set aside 2 trial(s)' in text

  assert cpu_leaderboard.main(
    ['forget', '--workloads', 'census_dlrm_embed_init', '--experiment-dir',
     str(tmp_path)]) == 1
  assert 'takes CPU-suite base workloads' in capsys.readouterr().err
