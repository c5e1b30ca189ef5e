"""The leaderboard page, generated from hand-written logs."""

import json
import types

import pytest

from algoperf.reference_leaderboard import run_info
from scoring.reference_leaderboard import page
from scoring.reference_leaderboard import readme
from scripts import cpu_leaderboard
from tests.conftest import CPU_0_3_LEADERBOARD
from tests.conftest import LEADERBOARDS
from tests.conftest import REPO
from tests.conftest import committed_leaderboards


def _eval_csv(path, column, rows):
  path.mkdir(parents=True)
  lines = [f'accumulated_submission_time,global_step,score,{column}']
  lines += [f'{t},{s},{t},{v}' for t, s, v in rows]
  (path / 'eval_measurements.csv').write_text('\n'.join(lines) + '\n')


def _logs(tmp_path, records_dir='.'):
  """Hand-written logs of three algorithms on mnist + mnist_relu; the run
  record and targets beside them (in them: an earlier version's layout)."""
  logs = tmp_path / 'logs'
  logs.mkdir()
  where = tmp_path if records_dir == '.' else logs
  targets = run_info.build_targets(['mnist'], 'cpu-0.3')
  (where / run_info.TARGETS_FILE).write_text(json.dumps(targets))
  machine = {'cpu_model': 'Test CPU', 'logical_cpus': 2, 'usable_cpus': 2,
             'memory_gib': 8.0, 'python': '3.11', 'git_commit': 'abc',
             'packages': {'jax': '0.0.1'}}
  session = {'started': '2025-01-02T03:04:05+00:00',
             'last_update': '2025-01-02T05:00:00+00:00',
             'command': 'cpu_leaderboard.py run', 'machine': machine}
  (where / run_info.INFO_FILE).write_text(json.dumps({
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


@pytest.mark.parametrize('records_dir', ['.', 'logs'])
def test_page_scores_by_time_and_steps_with_the_held_out_rule(tmp_path,
                                                             records_dir):
  logs = _logs(tmp_path, records_dir)
  out = tmp_path / 'board'
  assert cpu_leaderboard.main(['page', '--logs', str(logs), '--out',
                               str(out), '--no-screenshot']) == 0
  readme = (out / 'README.md').read_text()
  scores = [line for line in readme.splitlines()
            if line.startswith('| 1 |') or line.startswith('| 2 |')
            or line.startswith('| 3 |')]
  # By time fast wins (slow is 2x); by steps slow wins (fast is 2.5x).
  # Columns: rank, algorithm, score by time, its bootstrap interval over
  # studies, the score of each study alone, score by steps, counted.
  assert scores[0].startswith('| 1 | fast | 1.0000 | 1.00-1.00 | 1.00 | 0.5')
  assert scores[1].startswith('| 2 | slow | 0.6') and '| 1.0000 |' in (
    scores[1])
  assert scores[2].startswith(
    '| 3 | novariant | 0.0000 | 0.00-0.00 | 0.00 | 0.0000 | 0 / 1')
  assert (out / 'time' / 'score_uncertainty.csv').read_text().startswith(
    'submission,score,bootstrap_95_low,bootstrap_95_high,score_study_0\n'
    'fast,1.0')
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


def test_check_names_a_page_file_the_logs_do_not_give(tmp_path, capsys):
  logs = _logs(tmp_path)
  out = tmp_path / 'board'
  args = ['page', '--logs', str(logs), '--out', str(out)]
  assert cpu_leaderboard.main(args + ['--no-screenshot']) == 0
  scores = out / 'time' / 'scores.csv'
  scores.write_text(scores.read_text().replace('fast', 'quick'))
  (out / 'README.md').unlink()
  assert cpu_leaderboard.main(args + ['--check']) == 1
  said = capsys.readouterr().out
  assert 'README.md differs' in said and 'time/scores.csv differs' in said


def test_a_page_kept_in_a_folder_below_is_not_checked_as_this_pages(tmp_path):
  # docs/leaderboard/ holds the current page and an earlier version's page
  # in cpu-0.3/: that one's files (its run record and targets, its tables)
  # are not what this page's logs give, and must not make this page stale.
  logs = _logs(tmp_path)
  out = tmp_path / 'board'
  page.page(logs, out, screenshot=False, out=lambda *_: None)
  kept = out / 'cpu-0.3'
  (kept / 'time').mkdir(parents=True)
  for name in ('leaderboard_run.json', 'workload_targets.json'):
    (kept / name).write_text('{"kept": true}')
  (kept / 'time' / 'scores.csv').write_text('kept\n')
  (kept / 'README.md').write_text('# kept\n')
  assert page.stale_files(logs, out) == []
  # This page's own tables are still checked.
  (out / 'steps' / 'scoring_info.json').write_text('{}')
  assert page.stale_files(logs, out) == ['steps/scoring_info.json']


def test_a_page_packed_before_the_run_finished_says_so_at_the_top(tmp_path):
  logs = _logs(tmp_path)
  out = tmp_path / 'board'
  page.page(logs, out, screenshot=False, out=lambda *_: None)
  # Complete: every planned algorithm ran every base in every study.
  assert 'In progress' not in (out / 'README.md').read_text()
  assert 'In progress' not in (out / 'index.html').read_text()
  # A second planned study, an algorithm planned but not started, a base
  # missing and a trial still running (as `pack` between sittings finds).
  info_path = tmp_path / run_info.INFO_FILE
  info = json.loads(info_path.read_text())
  info.update(num_studies=2, algorithms=info['algorithms'] + ['later'])
  info_path.write_text(json.dumps(info))
  for trial in ('fast', 'slow'):
    _eval_csv(logs / trial / 'study_1' / 'mnist_relu_jax' / 'trial_1',
              'validation/accuracy', [(1.0, 50, 0.9)])
  (logs / 'slow' / 'study_1' / 'mnist_relu_jax' / 'trial_1' /
   'status.json').write_text(json.dumps({'status': 'running'}))
  page.page(logs, out, screenshot=False, out=lambda *_: None)
  readme = (out / 'README.md').read_text()
  [notice] = [line for line in readme.splitlines() if 'In progress' in line]
  # mnist is the only base: a study with just its variant lacks all of it.
  assert notice.startswith('> **In progress.** Not yet run: fast: study_1 '
                           '(none of it); slow: study_1 (none of it), 1 '
                           'unfinished trial; novariant: study_1 (none of '
                           'it); later (no logs).')
  assert 'provisional' in notice
  assert readme.index('In progress') < readme.index('## Scores')
  html = (out / 'index.html').read_text()
  assert '<strong>In progress.</strong> Not yet run: fast: study_1' in html
  assert html.index('In progress') < html.index('<h2>Scores')


def test_the_html_says_why_skipped_held_out_trials_have_no_logs(tmp_path):
  logs = _logs(tmp_path)
  out = tmp_path / 'board'
  page.page(logs, out, screenshot=False, out=lambda *_: None)
  assert 'not run on purpose' not in (out / 'index.html').read_text()
  info_path = tmp_path / run_info.INFO_FILE
  info = json.loads(info_path.read_text())
  info['held_out_skips'] = [
    {'algorithm': 'later', 'study': 0, 'workload': 'mnist_relu',
     'base': 'mnist', 'action': 'skip', 'reason': 'base missed'}]
  info_path.write_text(json.dumps(info))
  page.page(logs, out, screenshot=False, out=lambda *_: None)
  for name in ('index.html', 'steps.html'):
    html = (out / name).read_text()
    note = html.index('1 held-out variant trial was not run on purpose')
    # Under the held-out table, not elsewhere on the page.
    assert html.index('Held-out variants (v0.5 rule)') < note
    assert note < html.index('</section>', html.index('Held-out variants'))


def _notice_result(bases, trials):
  """The parts of a scored result the notice reads: algorithm x's
  (study, workload) trials; each base's held-out variant is base_variant."""
  return types.SimpleNamespace(
    profile=types.SimpleNamespace(base_workloads=bases,
                                  held_out=[f'{b}_variant' for b in bases]),
    targets=types.SimpleNamespace(base_of=lambda v: v.removesuffix('_variant')),
    pool=types.SimpleNamespace(trials={'x': [
      types.SimpleNamespace(study=study, workload=workload)
      for study, workload in trials]}))


def test_the_notice_names_the_bases_a_study_still_lacks():
  result = _notice_result(['a', 'b', 'c'], [
    ('study_0', 'a'), ('study_0', 'b'), ('study_0', 'c'),
    ('study_0', 'a_variant'), ('study_0', 'b_variant'),
    ('study_0', 'c_variant'),
    ('study_1', 'b'), ('study_1', 'b_variant'), ('study_1', 'c_variant')])
  info = {'num_studies': 2, 'algorithms': ['x']}
  notice = readme.in_progress(result, info, {'x': {'target_reached': 4}})
  assert notice.startswith('Not yet run: x: study_1 (a, c). ')
  info['num_studies'] = 1
  assert readme.in_progress(result, info, {}) == ''


def test_the_notice_counts_held_out_trials_still_to_decide():
  # A sitting stopped before the run decided the variant trials (they wait
  # for the other studies' base trials) has every base but is not final.
  result = _notice_result(['a', 'b'], [
    ('study_0', 'a'), ('study_0', 'b'), ('study_0', 'a_variant')])
  skip = {'algorithm': 'x', 'study': 0, 'workload': 'b_variant', 'base': 'b',
          'action': 'wait', 'reason': 'base trial of this study not finished'}
  info = {'num_studies': 1, 'algorithms': ['x'], 'held_out_skips': []}
  notice = readme.in_progress(result, info, {})
  assert notice.startswith('Not yet run: x: 1 held-out variant trial neither '
                           'run nor skipped. ')
  # A recorded wait is still open; a recorded skip (or another algorithm's)
  # is decided.
  info['held_out_skips'] = [skip]
  assert readme.in_progress(result, info, {}).startswith('Not yet run: x: 1')
  info['held_out_skips'] = [{**skip, 'action': 'skip'}]
  assert readme.in_progress(result, info, {}) == ''
  info['held_out_skips'] = [{**skip, 'action': 'skip', 'algorithm': 'y'}]
  assert readme.in_progress(result, info, {}) != ''


def test_there_is_a_committed_leaderboard_to_check():
  # The check below must not pass by finding no page at all.
  assert CPU_0_3_LEADERBOARD in committed_leaderboards()


@pytest.mark.parametrize('board', committed_leaderboards(),
                         ids=lambda board: board.relative_to(REPO).as_posix())
def test_the_committed_leaderboard_is_what_its_committed_logs_give(board):
  # Each committed page regenerates from its own logs/ alone, with the
  # commands its README gives.
  args = ['page', '--check']
  if board != LEADERBOARDS:
    args += ['--logs', str(board / 'logs'), '--out', str(board)]
  assert cpu_leaderboard.main(args) == 0


def test_a_page_kept_in_another_folder_names_that_folder_in_its_commands(
    tmp_path):
  # An earlier version's page, kept beside the current one, must tell how
  # to regenerate itself, not the current page.
  logs = _logs(tmp_path)
  kept = page.REPO / 'docs' / 'leaderboard' / 'cpu-0.3'
  out = tmp_path / 'board'
  page.page(logs, out, screenshot=False, out=lambda *_: None,
            display_dir=kept)
  text = (out / 'README.md').read_text()
  command = ('scripts/cpu_leaderboard.py page --logs '
             'docs/leaderboard/cpu-0.3/logs --out docs/leaderboard/cpu-0.3')
  assert command in text
  assert 'pack --logs docs/leaderboard/cpu-0.3/logs' in text
  assert 'targets export --logs docs/leaderboard/cpu-0.3/logs' in text
  # The default folder, or one outside the repository: the plain commands.
  page.page(logs, out, screenshot=False, out=lambda *_: None)
  text = (out / 'README.md').read_text()
  assert 'scripts/cpu_leaderboard.py page`' in text
  assert '--out docs/leaderboard' not in text
