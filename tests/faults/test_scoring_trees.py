"""Malformed experiment trees: scoring warns naming the path, excludes or
repairs only the affected trial, and never changes another submission's
times (issue 16, item 5). Fast: files only, no JAX."""

import json
import math
import os

import pytest

from scoring import pipeline
from tests.scoring import synthetic

REACH = {'alpha': 2, 'beta': 3, 'alpha_tweak': 2}
VICTIM = 'victim'


def _trial(root, workload='alpha', trial=2):
  return root / VICTIM / 'study_0' / f'{workload}_jax' / f'trial_{trial}'


def _rewrite(root, rows, workload='alpha', header=None):
  column = f'validation/{synthetic.METRIC[workload]}'
  header = header or f'accumulated_submission_time,global_step,score,{column}'
  path = _trial(root, workload) / 'eval_measurements.csv'
  path.write_text('\n'.join([header] + rows) + '\n')


def _metric(value, workload='alpha'):
  return lambda root: _rewrite(root, [f'{10 * (i + 1)},{i + 1},'
                                      f'{10 * (i + 1)},{value}'
                                      for i in range(6)], workload)


def _times(value, column='score'):
  def mutate(root):
    times = ['10', '20', value, '40', '50', '60']
    steps = [str(i + 1) for i in range(6)]
    if column == 'global_step':
      steps[2] = value
      times[2] = '30'
    _rewrite(root, [f'{t},{s},{t},0.95' for t, s in zip(times, steps)])
  return mutate


def _status(state):
  def mutate(root):
    (_trial(root) / 'status.json').write_text(json.dumps(
      {'status': state, 'message': 'the process died'}))
  return mutate


def _contended(root):
  (_trial(root) / 'status.json').write_text(json.dumps(
    {'status': 'target_reached', 'contended': True,
     'contention': 'attempt 0: other processes used 1.50 of the 2 usable '
                   'cores (over 25%)'}))


def _loop(*parts):
  def mutate(root):
    link = root.joinpath(*parts)
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(link, link)
  return mutate


def _file(*parts):
  def mutate(root):
    path = root.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('not a directory')
  return mutate


def _csv_text(text, mode='w'):
  def mutate(root):
    path = _trial(root) / 'eval_measurements.csv'
    if isinstance(text, bytes):
      path.write_bytes(text)
    else:
      path.write_text(text)
  return mutate


def _csv_is_directory(root):
  path = _trial(root) / 'eval_measurements.csv'
  path.unlink()
  path.mkdir()


def _csv_links_to(target):
  def mutate(root):
    path = _trial(root) / 'eval_measurements.csv'
    path.unlink()
    os.symlink(target, path)
  return mutate


def _csv_is_fifo(root):
  path = _trial(root) / 'eval_measurements.csv'
  path.unlink()
  os.mkfifo(path)


def _duplicate(root):
  os.symlink(root / VICTIM, root / 'victim_again')


def _meta_dir(root):
  (_trial(root) / 'meta_data_0.json').mkdir()


def _misplaced(root):
  synthetic.write_trial(root, VICTIM, 0, 'alpha', 3, [0.1] * 3)
  (root / VICTIM / 'study_0' / 'alpha_jax' / 'trial_3').rename(
    root / VICTIM / 'study_0' / 'trial_3')


def _unknown_workload(root):
  synthetic.write_trial(root, VICTIM, 0, 'zeta', 1, [0.1] * 3)


def _no_csv(root):
  (_trial(root) / 'eval_measurements.csv').unlink()


def _not_a_study(root):
  (root / VICTIM / 'notes').mkdir()


def _corrupt_status(root):
  (_trial(root) / 'status.json').write_text('{"status": ')


# case -> (mutation of the victim's tree, warning kind or None, fragment of
# the warned path).
CASES = {
  'metric_plus_inf': (_metric('inf'), 'infinite metric', 'trial_2'),
  'metric_minus_inf_minimized': (_metric('-inf', 'beta'), 'infinite metric',
                                 'beta_jax'),
  'metric_infinity_spelled_out': (_metric('Infinity'), 'infinite metric',
                                  'trial_2'),
  'metric_overflowing_literal': (_metric('1e999'), 'infinite metric',
                                 'trial_2'),
  'metric_nan': (_metric('nan'), 'nan metric', 'trial_2'),
  'metric_text': (_metric('abc'), 'bad value', 'trial_2'),
  'time_zero': (_times('0'), 'bad time', 'trial_2'),
  'time_negative': (_times('-5'), 'bad time', 'trial_2'),
  'time_infinite': (_times('inf'), 'bad time', 'trial_2'),
  'step_negative': (_times('-1', 'global_step'), 'bad time', 'trial_2'),
  'symlink_loop_submission': (_loop('loop'), None, 'loop'),
  'symlink_loop_study': (_loop(VICTIM, 'study_9'), 'unreadable directory',
                         'study_9'),
  'symlink_loop_workload': (_loop(VICTIM, 'study_0', 'alpha2_jax'),
                            'unreadable directory', 'alpha2_jax'),
  'symlink_loop_trial': (_loop(VICTIM, 'study_0', 'alpha_jax', 'trial_9'),
                         'unreadable directory', 'trial_9'),
  'file_as_study': (_file(VICTIM, 'study_5'), 'not a directory', 'study_5'),
  'file_as_trial': (_file(VICTIM, 'study_0', 'alpha_jax', 'trial_7'),
                    'not a directory', 'trial_7'),
  'folder_named_eval_measurements_csv': (_csv_is_directory, 'unreadable csv',
                                         'trial_2'),
  'csv_symlink_to_dev_zero': (_csv_links_to('/dev/zero'), 'unreadable csv',
                              'trial_2'),
  'csv_is_a_fifo': (_csv_is_fifo, 'unreadable csv', 'trial_2'),
  'csv_dangling_symlink': (_csv_links_to('/nonexistent/x.csv'),
                           'missing csv', 'trial_2'),
  'csv_empty': (_csv_text(''), 'empty csv', 'trial_2'),
  'csv_header_only': (_csv_text('score,global_step,validation/accuracy\n'),
                      'no evals', 'trial_2'),
  'csv_truncated_last_row': (
    _csv_text('score,global_step,validation/accuracy\n10,1,0.5\n20,2'),
    'truncated csv', 'trial_2'),
  'csv_short_middle_row': (
    _csv_text('score,global_step,validation/accuracy\n10,1\n20,2,0.5\n'),
    'malformed csv', 'trial_2'),
  'csv_binary_garbage': (_csv_text(bytes(range(256)) * 4),
                         'missing metric', 'trial_2'),
  'csv_invalid_utf8_cell': (
    _csv_text(b'score,global_step,validation/accuracy\n10,1,\xff\xfe\n'),
    'bad value', 'trial_2'),
  'csv_without_metric_column': (_csv_text('score,global_step\n10,1\n'),
                                'missing metric', 'trial_2'),
  'missing_csv': (_no_csv, 'missing csv', 'trial_2'),
  'symlinked_duplicate_submission': (_duplicate, 'duplicate submission',
                                     'victim_again'),
  'interrupted_trial': (_status('running'), 'unfinished trial', 'trial_2'),
  'failed_trial': (_status('failed'), 'unfinished trial', 'trial_2'),
  'timed_out_trial': (_status('timeout'), 'unfinished trial', 'trial_2'),
  'errored_trial': (_status('error'), 'unfinished trial', 'trial_2'),
  'contended_trial': (_contended, 'contended trial', 'trial_2'),
  'corrupt_status_json': (_corrupt_status, None, ''),
  'directory_named_meta_data': (_meta_dir, None, ''),
  'trial_directly_under_study': (_misplaced, 'misplaced trial', 'trial_3'),
  'unknown_workload_directory': (_unknown_workload, 'unknown workload',
                                 'zeta_jax'),
  'stray_directory_in_submission': (_not_a_study, 'unexpected directory',
                                    'notes'),
}


def _pool(tmp_path):
  root = tmp_path / 'logs'
  for name in ('good', VICTIM):
    synthetic.write_submission(root, name, REACH, studies=1, trials=2)
  return root, synthetic.write_targets(tmp_path)


def _score(root, targets):
  return pipeline.score_experiments(str(root), pipeline.ScoreOptions(
    targets=targets, ruleset='external', rules='v0.5'))


@pytest.mark.parametrize('case', sorted(CASES))
def test_malformed_tree_warns_and_leaves_other_scores_alone(case, tmp_path):
  root, targets = _pool(tmp_path)
  baseline = _score(root, targets).times['good']
  mutate, kind, fragment = CASES[case]
  mutate(root)
  result = _score(root, targets)  # Never a traceback.
  assert result.times['good'] == baseline
  if kind is not None:
    matching = [p for p in result.problems.items
                if p.kind == kind and fragment in p.path]
    assert matching, [str(p) for p in result.problems.items]
  else:
    assert not any(p.kind == 'unfinished trial'
                   for p in result.problems.items)
  for times in result.times.values():
    assert all(not math.isnan(t) for t in times.values()), case


def test_item_5_infinite_metric_never_reaches_the_target(tmp_path):
  """+inf on a maximized metric used to count as reaching it."""
  root, targets = _pool(tmp_path)
  for trial in (1, 2):
    path = _trial(root, trial=trial) / 'eval_measurements.csv'
    path.write_text('accumulated_submission_time,global_step,score,'
                    'validation/accuracy\n1,1,1,inf\n2,2,2,inf\n')
  result = _score(root, targets)
  assert result.times[VICTIM]['alpha'] == math.inf
  assert any(p.kind == 'infinite metric' and 'line(s) 2, 3' in p.detail
             for p in result.problems.items)
