"""`algoperf data prepare` and `algoperf run` as a user calls them."""

from algoperf import records
from tests.algoperf.conftest import run_cli as algoperf
from tests.conftest import ALGOPERF_STYLE

AP_COLUMNS = {
  'accumulated_eval_time', 'accumulated_logging_time',
  'accumulated_submission_time', 'global_step', 'preemption_count', 'score',
  'total_duration', 'train/accuracy', 'train/loss', 'validation/accuracy',
  'validation/loss', 'validation/num_examples', 'test/accuracy', 'test/loss',
  'test/num_examples',
}



def test_prepare_is_idempotent(mnist_data_dir):
  proc = algoperf('data', 'prepare', 'mnist', '--data-dir', mnist_data_dir)
  assert proc.returncode == 0, proc.stderr
  assert 'already prepared' in proc.stdout
  # Progress on stderr, a plain line per dataset (not a terminal).
  assert 'data prepare: preparing mnist_digits (0/1 datasets): for mnist' in (
    proc.stderr), proc.stderr


def test_run_writes_algoperf_layout(mnist_data_dir, tmp_path):
  args = ('run', '--workload', 'mnist', '--submission', ALGOPERF_STYLE,
          '--ruleset', 'self', '--max-steps', '30', '--experiment-dir',
          tmp_path, '--name', 'cli', '--data-dir', mnist_data_dir,
          '--no-progress')
  proc = algoperf(*args)
  assert proc.returncode == 0, proc.stderr
  trial = records.trial_dir(tmp_path, 'cli', 0, 'mnist', 1)
  names = {p.name for p in trial.iterdir()}
  assert {'eval_measurements.csv', 'hparams.json', 'meta_data_0.json',
          'flags_0.json', 'status.json'} <= names
  rows = records.read_rows_csv(trial / 'eval_measurements.csv')
  assert AP_COLUMNS <= set(rows[0])
  assert rows[-1]['global_step'] == 30
  status = records.read_json(trial / 'status.json')
  assert status['status'] == records.MAX_STEPS
  meta = records.read_json(trial / 'meta_data_0.json')
  assert meta['num_devices'] >= 1 and meta['software_versions']['jax']
  # Running the same trial again refuses instead of overwriting.
  again = algoperf(*args)
  assert again.returncode == 1
  assert 'already holds a finished trial' in again.stderr


def test_run_progress_in_a_log_is_plain_lines(mnist_data_dir, tmp_path):
  """Not a terminal: timestamped lines on stderr, one per phase (the
  first step as its own compiling phase), the end with the best value and
  its step; the table on stdout has the best beside the last."""
  proc = algoperf('run', '--workload', 'mnist', '--submission',
                  ALGOPERF_STYLE, '--ruleset', 'self', '--max-steps', '30',
                  '--experiment-dir', tmp_path, '--name', 'log',
                  '--data-dir', mnist_data_dir)
  assert proc.returncode == 0, proc.stderr
  lines = [line for line in proc.stderr.splitlines() if 'mnist trial 1' in
           line]
  assert all(line.startswith('[') and ' s] mnist trial 1: ' in line
             for line in lines), proc.stderr
  text = '\n'.join(lines)
  # The warm-up process (off the clock) is a phase too: no silent seconds.
  for phase in (': warming up', ': starting (', ': compiling (',
                ': ended: max_steps ('):
    assert phase in text, (phase, proc.stderr)
  assert 'step 30, best ' in text and ' @ ' in text, proc.stderr
  assert 'best @ step' in proc.stdout and 'last' in proc.stdout
  assert '\r' not in proc.stderr  # No live bar redrawn in a log.


def test_missing_data_names_the_prepare_command(tmp_path):
  proc = algoperf('run', '--workload', 'mnist', '--submission',
                  ALGOPERF_STYLE, '--ruleset', 'self', '--experiment-dir',
                  tmp_path / 'exp', '--name', 'x', '--data-dir',
                  tmp_path / 'empty', '--no-progress')
  assert proc.returncode == 1
  assert 'algoperf data prepare mnist' in proc.stderr
  assert not (tmp_path / 'exp').exists()


def test_unknown_workload_suggests_closest(tmp_path):
  proc = algoperf('run', '--workload', 'mnsit', '--submission',
                  ALGOPERF_STYLE, '--experiment-dir', tmp_path, '--name', 'x')
  assert proc.returncode == 1
  assert "Did you mean 'mnist'?" in proc.stderr


def test_failing_submission_exits_nonzero_with_reason(mnist_data_dir,
                                                      tmp_path):
  source = ALGOPERF_STYLE.joinpath('submission.py').read_text()
  broken = tmp_path / 'broken'
  broken.mkdir()
  broken.joinpath('submission.py').write_text(source.replace(
    '  optimizer_state, opt_update_fn = optimizer_state\n',
    '  raise ValueError("bad update")\n'))
  proc = algoperf('run', '--workload', 'mnist', '--submission', broken,
                  '--ruleset', 'self', '--experiment-dir', tmp_path / 'exp',
                  '--name', 'x', '--data-dir', mnist_data_dir,
                  '--no-progress')
  assert proc.returncode == 3  # exit_codes.SUBMISSION
  assert 'update_params raised ValueError: bad update' in proc.stderr
