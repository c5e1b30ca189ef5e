"""The PEP 578 sandbox: what a submission may not do, refused with
file:line and kept even when the submission swallows the error (issue 16,
item 7). In-process: the policy is active only inside each test."""

import os
import textwrap

import pytest

from algoperf import sandbox

SOURCE = '''
import json, os, pathlib, shutil, socket, subprocess, signal
import numpy as np

def net_connect(tmp): socket.create_connection(('127.0.0.1', 9), timeout=1)
def net_raw_connect(tmp):
  s = socket.socket()
  try:
    s.connect(('127.0.0.1', 9))
  finally:
    s.close()
def net_bind(tmp):
  s = socket.socket()
  try:
    s.bind(('127.0.0.1', 0))
  finally:
    s.close()
def net_sendto(tmp):
  s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
  try:
    s.sendto(b'x', ('127.0.0.1', 9))
  finally:
    s.close()
def net_dns(tmp): socket.getaddrinfo('example.org', 80)
def net_gethostbyname(tmp): socket.gethostbyname('example.org')
def proc_subprocess(tmp): subprocess.run(['true'])
def proc_popen_shell(tmp): subprocess.Popen('true', shell=True).wait()
def proc_os_system(tmp): os.system('true')
def proc_os_popen(tmp): os.popen('true').read()
def proc_execv(tmp): os.execv('/bin/true', ['true'])
def proc_posix_spawn(tmp): os.posix_spawn('/bin/true', ['true'], {})
def proc_fork(tmp): os.fork()
def proc_kill_self(tmp): os.kill(os.getpid(), signal.SIGKILL)
def proc_killpg(tmp): os.killpg(os.getpgid(0), signal.SIGKILL)
def write_open(tmp): open(os.path.join(tmp, 'outside', 'x'), 'w')
def write_append(tmp): open(os.path.join(tmp, 'outside', 'x'), 'a')
def write_os_open(tmp): os.open(os.path.join(tmp, 'outside', 'x'),
                                os.O_CREAT | os.O_WRONLY)
def write_pathlib(tmp): pathlib.Path(tmp, 'outside', 'y').write_text('x')
def write_json_dump(tmp):
  with open(os.path.join(tmp, 'outside', 'z'), 'w') as f:
    json.dump({}, f)
def write_numpy_save(tmp): np.save(os.path.join(tmp, 'outside', 'a.npy'),
                                   np.zeros(3))
def write_mkdir(tmp): os.mkdir(os.path.join(tmp, 'outside', 'd'))
def write_remove(tmp): os.remove(os.path.join(tmp, 'outside', 'keep'))
def write_rename_out(tmp): os.rename(os.path.join(tmp, 'trial', 'f'),
                                     os.path.join(tmp, 'outside', 'f'))
def write_symlink(tmp): os.symlink('/etc', os.path.join(tmp, 'outside', 'l'))
def write_chmod(tmp): os.chmod(os.path.join(tmp, 'outside', 'keep'), 0o777)
def write_rmtree(tmp): shutil.rmtree(os.path.join(tmp, 'outside'))
def write_copyfile(tmp): shutil.copyfile(os.path.join(tmp, 'trial', 'f'),
                                         os.path.join(tmp, 'outside', 'c'))
def write_via_symlink_in_trial(tmp):
  os.symlink(os.path.join(tmp, 'outside'), os.path.join(tmp, 'trial', 'esc'))
  open(os.path.join(tmp, 'trial', 'esc', 'x'), 'w')
def read_validation_file(tmp):
  open(os.path.join(tmp, 'data', 'd', '1.0.0',
                    'd-validation.array_record-00000-of-00001'), 'rb').read()
def read_test_file_numpy(tmp):
  np.fromfile(os.path.join(tmp, 'data', 'd', '1.0.0',
                           'd-test.array_record-00000-of-00001'))
def cache_read(tmp): open(os.path.join(tmp, 'cache', 'entry'), 'rb').read()
def cache_write(tmp): open(os.path.join(tmp, 'cache', 'stash'), 'wb')
def cache_list(tmp): os.listdir(os.path.join(tmp, 'cache'))
def swallowed_write(tmp):
  try:
    open(os.path.join(tmp, 'outside', 'x'), 'w')
  except PermissionError:
    pass

def allowed_trial_write(tmp): open(os.path.join(tmp, 'trial', 'ok'), 'w')
def allowed_tmp_write(tmp): open(os.path.join(tmp, 'scratch', 'ok'), 'w')
def allowed_train_read(tmp):
  open(os.path.join(tmp, 'data', 'd', '1.0.0',
                    'd-train.array_record-00000-of-00001'), 'rb').read()
def allowed_devnull(tmp): open(os.devnull, 'w').write('x')
def allowed_own_source_read(tmp): open(__file__).read()
def allowed_jax_cache_use(tmp):
  from jax._src import lru_cache
  cache = lru_cache.LRUCache(os.path.join(tmp, 'cache'), max_size=-1)
  cache.put('program', b'compiled')
  assert cache.get('program') == b'compiled'
'''

REFUSED = sorted(n.split('(')[0][4:] for n in SOURCE.splitlines()
                 if n.startswith('def ') and not n.startswith(
                   'def allowed'))
ALLOWED = sorted(n.split('(')[0][4:] for n in SOURCE.splitlines()
                 if n.startswith('def allowed'))


@pytest.fixture
def world(tmp_path):
  """A submission module and the directories a trial sees."""
  sub = tmp_path / 'submission'
  sub.mkdir()
  (sub / 'hostile.py').write_text(textwrap.dedent(SOURCE))
  for d in ('outside', 'trial', 'scratch', 'data/d/1.0.0', 'cache'):
    (tmp_path / d).mkdir(parents=True)
  (tmp_path / 'outside' / 'keep').write_text('keep')
  (tmp_path / 'cache' / 'entry').write_bytes(b'a compiled program')
  (tmp_path / 'trial' / 'f').write_text('f')
  for split in ('train', 'validation', 'test'):
    (tmp_path / 'data' / 'd' / '1.0.0' /
     f'd-{split}.array_record-00000-of-00001').write_bytes(bytes(64))
  import importlib.util

  spec = importlib.util.spec_from_file_location('hostile',
                                                sub / 'hostile.py')
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  sandbox.install(sandbox.Policy.create(
    [sub], [tmp_path / 'trial', tmp_path / 'scratch'], [tmp_path / 'data'],
    cache_roots=[tmp_path / 'cache']))
  yield module, tmp_path
  sandbox.install(None)


@pytest.mark.parametrize('case', REFUSED)
def test_submission_operation_is_refused_with_file_and_line(case, world):
  module, tmp = world
  try:
    getattr(module, case)(str(tmp))
  except PermissionError as e:
    assert str(e).startswith(sandbox.BLOCKED)
  [violation] = sandbox.violations()
  assert 'hostile.py:' in violation and '(refused)' in violation
  assert sorted(os.listdir(tmp / 'outside')) == ['keep']
  assert (tmp / 'trial' / 'f').exists()


@pytest.mark.parametrize('case', ALLOWED)
def test_trial_scratch_and_training_data_are_allowed(case, world):
  module, tmp = world
  getattr(module, case)(str(tmp))
  assert sandbox.violations() == []


def test_harness_code_is_never_judged(world):
  _, tmp = world
  (tmp / 'outside' / 'harness.txt').write_text('the harness may')
  assert sandbox.violations() == []


def test_item_7_validate_reports_a_socket_and_a_subprocess(tmp_path):
  """The validator's worker has the sandbox installed (no network, no
  processes); its report names file:line."""
  from algoperf import validation_worker

  sub = tmp_path / 'sub'
  sub.mkdir()
  (sub / 'submission.py').write_text('import subprocess\n'
                                     'subprocess.run(["true"])\n')
  sandbox.install_for_validation(sub / 'submission.py')
  try:
    validation_worker.GUARD.path = sub / 'submission.py'
    problems = validation_worker.validate_one(sub / 'submission.py', 'self',
                                              [])
  finally:
    sandbox.install(None)
  assert any(f'{sub / "submission.py"}:2: subprocess.Popen' in p
             for p in problems), problems
