"""One lock for every writer (issue 16, items 3 and 4)."""

import json
import os
import platform
import subprocess
import sys

import pytest

from algoperf import cli
from algoperf import exit_codes
from algoperf import experiment_lock
from tests.conftest import ALGOPERF_STYLE
from tests.conftest import REPO


def _dead_pid() -> int:
  done = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                        capture_output=True, text=True, check=True)
  return int(done.stdout)


def _owner(directory, **fields):
  path = directory / experiment_lock.OWNER_FILE
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps({'host': platform.node(), 'pid': _dead_pid(),
                              'started': 0, 'command': 'x', **fields}))


def test_held_lock_is_refused_with_host_pid_and_age(tmp_path):
  with experiment_lock.experiment_lock(tmp_path):
    with pytest.raises(experiment_lock.ExperimentLockedError) as refused:
      with experiment_lock.experiment_lock(tmp_path):
        pass
  text = str(refused.value)
  assert f'process {os.getpid()}' in text and platform.node() in text
  assert 's ago' in text


def test_lock_held_by_another_process_is_refused(tmp_path):
  holder = subprocess.Popen(
    [sys.executable, '-c', 'import sys, time\n'
     'from algoperf import experiment_lock\n'
     'with experiment_lock.experiment_lock(sys.argv[1]):\n'
     '  print("held", flush=True); time.sleep(60)\n', str(tmp_path)],
    cwd=REPO, stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == 'held'
    with pytest.raises(experiment_lock.ExperimentLockedError,
                       match=f'process {holder.pid} on host'):
      with experiment_lock.experiment_lock(tmp_path):
        pass
  finally:
    holder.kill()
    holder.wait()
  with experiment_lock.experiment_lock(tmp_path) as held:  # Kernel freed it.
    assert f'process {holder.pid}' in held.recovered


@pytest.mark.parametrize('owner, says', [
  ({}, 'recovered the lock left by process'),
  ({'host': 'elsewhere'}, 'on host elsewhere'),
])
def test_item_4_dead_owner_is_recovered_saying_so(tmp_path, owner, says):
  _owner(tmp_path, **owner)
  notes = []
  with experiment_lock.experiment_lock(tmp_path, notes.append):
    pass
  assert says in notes[0]


@pytest.mark.parametrize('garbage', ['', '{', '[1, 2]', 'null'])
def test_unreadable_owner_file_is_replaced_silently(tmp_path, garbage):
  path = tmp_path / experiment_lock.OWNER_FILE
  path.parent.mkdir(parents=True)
  path.write_text(garbage)
  notes = []
  with experiment_lock.experiment_lock(tmp_path, notes.append):
    assert json.loads(path.read_text())['pid'] == os.getpid()
  assert notes == []


def test_lock_is_released_when_the_block_raises(tmp_path):
  with pytest.raises(ValueError):
    with experiment_lock.experiment_lock(tmp_path):
      raise ValueError('boom')
  with experiment_lock.experiment_lock(tmp_path) as held:
    assert held.recovered is None


def test_item_3_run_is_refused_while_another_writer_holds_the_lock(
    tmp_path, capsys):
  with experiment_lock.experiment_lock(tmp_path / 'exp' / 'busy'):
    code = cli.main(['run', '--workload', 'mnist', '--submission',
                     str(ALGOPERF_STYLE), '--ruleset', 'self',
                     '--experiment-dir', str(tmp_path / 'exp'), '--name',
                     'busy', '--synthetic-data', '8', '--max-steps', '1'])
  err = capsys.readouterr().err
  assert code == exit_codes.INPUT
  assert 'is being written by process' in err and 'Traceback' not in err
  assert not (tmp_path / 'exp' / 'busy' / 'study_0').exists()


def test_hidden_lock_dir_that_is_a_file_is_an_error(tmp_path, capsys):
  (tmp_path / 'exp' / 'x').mkdir(parents=True)
  (tmp_path / 'exp' / 'x' / '.algoperf').write_text('a file')
  code = cli.main(['run', '--workload', 'mnist', '--submission',
                   str(ALGOPERF_STYLE), '--ruleset', 'self',
                   '--experiment-dir', str(tmp_path / 'exp'), '--name', 'x',
                   '--synthetic-data', '8', '--max-steps', '1'])
  assert code == exit_codes.INFRASTRUCTURE
  assert 'Traceback' not in capsys.readouterr().err
