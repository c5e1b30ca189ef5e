"""`algoperf score` and `algoperf leaderboard` end to end on tiny logs."""

import os

from algoperf import cli
from tests.scoring import synthetic


def _experiment(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'baseline', {'alpha': 1, 'beta': 1,
                                               'alpha_tweak': 1})
  synthetic.write_submission(exp, 'other', {'alpha': 2, 'beta': 1,
                                            'alpha_tweak': 1})
  return str(exp), synthetic.write_targets(tmp_path)


def test_score_writes_outputs_atomically_and_prints_scores(tmp_path, capsys):
  exp, targets = _experiment(tmp_path)
  out = tmp_path / 'out'
  code = cli.main(['score', exp, '--workload-targets', targets,
                   '--output-dir', str(out)])
  assert code == 0
  printed = capsys.readouterr().out
  assert 'baseline  1.000000000000' in printed
  names = set(os.listdir(out))
  assert {'scores.csv', 'time_to_targets.csv', 'performance_profile.csv',
          'performance_profile.png', 'performance_profile.pdf',
          'speedups.csv', 'baseline_summary.csv', 'other_summary.csv',
          'scoring_info.json'} <= names
  assert not [n for n in names if n.startswith('.')]  # no temp files left
  lines = (out / 'scores.csv').read_text().splitlines()
  assert lines[0] == 'submission,score' and lines[1].startswith('baseline,')
  assert (out / 'performance_profile.png').read_bytes()[:4] == b'\x89PNG'


def test_bad_input_is_one_clear_error(tmp_path, capsys):
  code = cli.main(['score', str(tmp_path / 'missing'), '--output-dir',
                   str(tmp_path / 'out'), '--workload-targets',
                   'algoperf_v05'])
  assert code == 1
  err = capsys.readouterr().err
  assert err.startswith('algoperf score: error:') and 'missing' in err
  assert not (tmp_path / 'out').exists()


def test_leaderboard_page_is_self_contained(tmp_path, capsys):
  exp, targets = _experiment(tmp_path)
  out = tmp_path / 'lb'
  assert cli.main(['leaderboard', exp, '--workload-targets', targets,
                   '--output-dir', str(out)]) == 0
  page = (out / 'leaderboard.html').read_text()
  assert 'data:image/png;base64,' in page
  assert 'src="http' not in page and 'href="http' not in page
  assert 'benchmark test-1' in page and 'external tuning' in page
  markdown = (out / 'leaderboard.md').read_text()
  assert '| 1 | baseline | 1.0000 |' in markdown


def test_leaderboard_counts_base_workloads_and_lists_held_out(tmp_path,
                                                              capsys):
  exp, targets = _experiment(tmp_path)
  out = tmp_path / 'lb'
  assert cli.main(['leaderboard', exp, '--workload-targets', targets,
                   '--output-dir', str(out), '--no-curves']) == 0
  page = (out / 'leaderboard.html').read_text()
  assert '<td class="num">2 / 2</td>' in page
  assert 'Held-out variants (v0.5 rule)' in page
  assert 'alpha_<wbr>tweak' in page


def test_curves_by_steps_are_labelled_in_steps(tmp_path):
  from scoring import leaderboard
  from scoring import pipeline
  from scoring import plots

  exp, targets = _experiment(tmp_path)
  result = pipeline.score_experiments(exp, pipeline.ScoreOptions(
    targets=targets, time_col='global_step'))
  curves = leaderboard.best_trial_curves(result)
  assert curves['alpha']['baseline'][0][:2] == [100.0, 200.0]
  assert plots._time_unit(curves['alpha'], 'global_step') == ('steps', 1.0)
  assert plots._time_unit(curves['alpha']) == ('minutes', 60.0)


def test_score_prints_speedups_only_where_both_reached(tmp_path, capsys):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'fast', {'alpha': 1, 'beta': 1,
                                           'alpha_tweak': 1})
  synthetic.write_submission(exp, 'half', {'alpha': 2, 'beta': None,
                                           'alpha_tweak': 1})
  synthetic.write_submission(exp, 'none', {'alpha': None, 'beta': None,
                                           'alpha_tweak': None})
  targets = synthetic.write_targets(tmp_path)
  assert cli.main(['score', str(exp), '--workload-targets', targets,
                   '--output-dir', str(tmp_path / 'out'), '--no-plots']) == 0
  printed = capsys.readouterr().out
  assert ('Speedups over fast, the best-scoring submission, on the base '
          'workloads both reached:') in printed
  assert '  half: 0.667x on 1 of 2 (geometric-mean time ratio 1.500)' in (
    printed)
  assert ('  none: n/a: no base workload where both reached the target '
          '(missed by none on 2)') in printed
  rows = (tmp_path / 'out' / 'speedups.csv').read_text().splitlines()
  assert rows[0].startswith('submission,reference,geomean_runtime_ratio,'
                            'speedup,workloads_both_reached,note,alpha,beta,')
  assert rows[2].startswith('none,fast,,,0,no base workload')


def test_leaderboard_says_which_submission_is_the_reference(tmp_path,
                                                            capsys):
  exp, targets = _experiment(tmp_path)
  for named, phrase in ((None, 'baseline, the best-scoring submission'),
                        ('other', 'other, named as the reference')):
    out = tmp_path / f'lb_{named}'
    extra = ['--reference-submission', named] if named else []
    assert cli.main(['leaderboard', exp, '--workload-targets', targets,
                     '--output-dir', str(out), '--no-curves', *extra]) == 0
    assert f'Speedup over {phrase}:' in (out / 'leaderboard.html').read_text()
    assert f'Speedup over {phrase}:' in (out / 'leaderboard.md').read_text()
