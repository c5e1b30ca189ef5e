"""Bad command lines: one line on stderr, the exit status of the table in
algoperf/exit_codes.py, no traceback, nothing written (issue 16, items 6
and 9). In-process through ``cli.main``; nothing trains."""

import os

import pytest

from algoperf import cli
from algoperf import exit_codes
from tests.conftest import ALGOPERF_STYLE

SUB = str(ALGOPERF_STYLE)


def _run(*extra, name='ok', experiment='EXP'):
  return ('run', '--workload', 'mnist', '--submission', SUB, '--ruleset',
          'self', '--experiment-dir', experiment, '--name', name,
          '--synthetic-data', '8', *extra)


def _study(*extra, name='ok'):
  return ('study', '--workloads', 'mnist', '--submission', SUB,
          '--ruleset', 'self', '--experiment-dir', 'EXP', '--name', name,
          '--synthetic-data', '8', *extra)


# case -> (argv with EXP/TMP placeholders, exit code, fragment of stderr).
CASES = {
  'name_parent_escape': (_run(name='../../x'), exit_codes.USAGE,
                         "--name '../../x'"),
  'name_absolute': (_run(name='/tmp/abs'), exit_codes.USAGE, 'plain name'),
  'name_empty': (_run(name=''), exit_codes.USAGE, "--name ''"),
  'name_dot': (_run(name='.'), exit_codes.USAGE, 'plain name'),
  'name_dotdot': (_run(name='..'), exit_codes.USAGE, 'plain name'),
  'name_separator': (_run(name='a/b'), exit_codes.USAGE, 'plain name'),
  'name_hidden': (_run(name='.hidden'), exit_codes.USAGE, 'plain name'),
  'name_too_long': (_run(name='x' * 200), exit_codes.USAGE, 'plain name'),
  'name_backslash': (_run(name='a\\b'), exit_codes.USAGE, 'plain name'),
  'name_newline': (_run(name='a\nb'), exit_codes.USAGE, 'plain name'),
  'study_name_escape': (_study(name='../x'), exit_codes.USAGE,
                        'plain name'),
  'max_steps_zero': (_run('--max-steps', '0'), exit_codes.USAGE,
                     'expected an integer >= 1'),
  'max_steps_negative': (_run('--max-steps', '-5'), exit_codes.USAGE,
                         'expected an integer >= 1'),
  'max_steps_text': (_run('--max-steps', 'ten'), exit_codes.USAGE,
                     'expected an integer >= 1'),
  'trials_zero': (_run('--trials', '0'), exit_codes.USAGE,
                  'expected an integer >= 1'),
  'grace_negative': (_run('--grace-sec', '-1'), exit_codes.USAGE,
                     'expected seconds >= 0'),
  'grace_nan': (_run('--grace-sec', 'nan'), exit_codes.USAGE,
                'expected seconds >= 0'),
  'grace_infinite': (_run('--grace-sec', 'inf'), exit_codes.USAGE,
                     'expected seconds >= 0'),
  'synthetic_zero': (_run('--synthetic-data', '0'), exit_codes.USAGE,
                     'expected an integer >= 1'),
  'study_max_steps_zero': (_study('--max-steps', '0'), exit_codes.USAGE,
                           'expected an integer >= 1'),
  'study_studies_zero': (_study('--studies', '0'), exit_codes.USAGE,
                         'expected an integer >= 1'),
  'study_workers_zero': (_study('--max-workers', '0'), exit_codes.USAGE,
                         'expected an integer >= 1'),
  'study_eval_every_zero': (_study('--eval-every-steps', '0'),
                            exit_codes.USAGE, 'expected an integer >= 1'),
  'experiment_dir_is_a_file': (_run(experiment='TMP/file'),
                               exit_codes.INPUT, 'is a file'),
  'experiment_dir_under_a_file': (_run(experiment='TMP/file/sub'),
                                  exit_codes.INPUT, 'is a file'),
  'experiment_dir_read_only_fs': (_run(experiment='/proc/algoperf-x'),
                                  exit_codes.INFRASTRUCTURE,
                                  'cannot write there'),
  'unknown_workload': (('run', '--workload', 'mnsit', '--submission', SUB,
                        '--experiment-dir', 'EXP', '--name', 'x'),
                       exit_codes.INPUT, "Did you mean 'mnist'?"),
  'missing_submission': (('run', '--workload', 'mnist', '--submission',
                          'TMP/nothing', '--experiment-dir', 'EXP',
                          '--name', 'x'), exit_codes.SUBMISSION,
                         'no such file'),
  'data_dir_is_a_file': (_run('--data-dir', 'TMP/file'), exit_codes.INPUT,
                         'a file, expected the directory'),
  'data_prepare_without_names': (('data', 'prepare'), exit_codes.USAGE,
                                 'Name at least one workload'),
  'data_prepare_unknown': (('data', 'prepare', 'nope'), exit_codes.INPUT,
                           'nope'),
  'data_prepare_into_a_file': (('data', 'prepare', 'mnist', '--data-dir',
                                'TMP/file'), exit_codes.INPUT, 'is a file'),
  'data_prepare_read_only_fs': (('data', 'prepare', 'mnist', '--data-dir',
                                 '/proc/algoperf-x'),
                                exit_codes.INFRASTRUCTURE,
                                'cannot write there'),
  'status_of_a_file': (('status', 'TMP/file'), exit_codes.INPUT,
                       'no such directory'),
  'status_of_an_empty_dir': (('status', 'TMP'), exit_codes.INPUT,
                             'no trials found'),
  'score_missing_dir': (('score', 'TMP/none', '--output-dir', 'TMP/out'),
                        exit_codes.INPUT, 'not a directory'),
  'package_missing_dir': (('package', 'TMP/none', '-o', 'TMP/p.tar.gz'),
                          exit_codes.INPUT, 'no such experiment'),
  'docker_command_bad_name': (('docker-command', '--submission', SUB,
                               '--data-dir', 'TMP', '--results-dir', 'TMP',
                               '--name', '../x'), exit_codes.USAGE,
                              'plain name'),
  'new_bad_name': (('new', '../evil', '--dir', 'TMP'), exit_codes.INPUT,
                   'not a valid submission name'),
  'refine_missing_run': (('refine', 'TMP/none', '-o', 'TMP/s.json'),
                         exit_codes.INPUT, 'no such directory'),
}


def _argv(argv, tmp_path):
  return [a.replace('EXP', str(tmp_path / 'exp')).replace('TMP',
                                                          str(tmp_path))
          for a in argv]


@pytest.mark.parametrize('case', sorted(CASES))
def test_bad_command_line_is_one_line_and_its_exit_code(case, tmp_path,
                                                        capsys):
  (tmp_path / 'file').write_text('a file, not a directory')
  argv, code, fragment = CASES[case]
  try:
    got = cli.main(_argv(argv, tmp_path))
  except SystemExit as e:  # argparse: usage errors.
    got = e.code
  err = capsys.readouterr().err
  assert got == code, err
  assert fragment in err, err
  assert 'Traceback' not in err
  assert not (tmp_path / 'exp').exists() or case.startswith('experiment')
  assert sorted(os.listdir(tmp_path)) == ['file'] or case.startswith((
    'experiment', 'new', 'data_prepare'))


def test_item_6_name_never_writes_outside_the_experiment_dir(tmp_path,
                                                            capsys):
  outside = tmp_path / 'x'
  for name in ('../x', str(outside), ''):
    code = cli.main(_argv(_run(name=name, experiment='TMP/exp/inner'),
                          tmp_path))
    assert code == exit_codes.USAGE
  assert not outside.exists() and not (tmp_path / 'exp').exists()
  assert 'Traceback' not in capsys.readouterr().err


def test_item_9_max_steps_zero_and_negative_are_refused(tmp_path, capsys):
  for value in ('0', '-5'):
    with pytest.raises(SystemExit) as exited:
      cli.main(_argv(_run('--max-steps', value), tmp_path))
    assert exited.value.code == exit_codes.USAGE
  assert 'expected an integer >= 1' in capsys.readouterr().err
