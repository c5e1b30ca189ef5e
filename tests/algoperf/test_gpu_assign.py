"""Each pool or Ray trial gets GPUs of its own and never preallocates past
them, checked on CPU with fake device lists (algoperf/gpu_assign.py)."""

import collections
import os
import threading

import pytest

from algoperf import gpu_assign
from algoperf.errors import AlgoperfError
from tests.algoperf.conftest import run_cli
from tests.conftest import ALGOPERF_STYLE


def test_visible_devices_are_kept_as_named():
  assert gpu_assign.host_gpus({'CUDA_VISIBLE_DEVICES': '3, 5'}) == ['3', '5']
  assert gpu_assign.host_gpus({'CUDA_VISIBLE_DEVICES': ''}) == []
  assert gpu_assign.host_gpus({'CUDA_VISIBLE_DEVICES': '-1'}) == []
  uuid = 'GPU-8f3c2a1e-0000-1111-2222-333344445555'
  assert gpu_assign.host_gpus({'CUDA_VISIBLE_DEVICES': uuid}) == [uuid]


def test_whole_gpus_are_visible_alone_and_keep_jax_defaults():
  assert gpu_assign.trial_env(['2', '3'], 2) == {
    'CUDA_VISIBLE_DEVICES': '2,3'}
  assert gpu_assign.trial_env([], 0) == {'CUDA_VISIBLE_DEVICES': ''}
  # Ray hands out integer ids.
  assert gpu_assign.trial_env([1], 1) == {'CUDA_VISIBLE_DEVICES': '1'}


@pytest.mark.parametrize('share', [0.5, 0.25, 1 / 3])
def test_a_share_caps_preallocation_at_the_share(share):
  env = gpu_assign.trial_env(['0'], share)
  fraction = float(env['XLA_PYTHON_CLIENT_MEM_FRACTION'])
  assert 0 < fraction <= share
  # The trials sharing one GPU stay within it together.
  assert int(1 // share) * fraction <= 1.0


def _hold_all(slots, trials):
  """``trials`` threads acquire at once, all holding until all have."""
  barrier = threading.Barrier(trials, timeout=30)
  got = [None] * trials

  def take(i):
    got[i] = slots.acquire()
    barrier.wait()

  threads = [threading.Thread(target=take, args=(i,)) for i in range(trials)]
  for t in threads:
    t.start()
  for t in threads:
    t.join(30)
  assert not any(t.is_alive() for t in threads)
  return got


def test_concurrent_trials_get_disjoint_whole_gpus():
  slots = gpu_assign.GpuSlots(['0', '1', '2', '3'], 2)
  assert slots.capacity == 2
  got = _hold_all(slots, 2)
  assert sorted(d for g in got for d in g) == ['0', '1', '2', '3']
  assert all(len(g) == 2 for g in got)


def test_shares_spread_over_gpus_and_never_exceed_them():
  slots = gpu_assign.GpuSlots(['0', '1'], 0.5)
  assert slots.capacity == 4
  got = _hold_all(slots, 4)
  assert collections.Counter(d for g in got for d in g) == {'0': 2, '1': 2}


def test_a_released_gpu_goes_to_the_next_trial():
  slots = gpu_assign.GpuSlots(['7'], 1)
  first = slots.acquire()
  waiter_got = []
  waiter = threading.Thread(target=lambda: waiter_got.append(slots.acquire()))
  waiter.start()
  waiter.join(0.2)
  assert waiter.is_alive() and not waiter_got  # GPU 7 is taken.
  slots.release(first)
  waiter.join(30)
  assert waiter_got == [['7']]


def test_no_gpu_asked_means_none_given_and_no_limit():
  slots = gpu_assign.GpuSlots([], 0)
  assert slots.capacity is None
  assert slots.acquire() == []


@pytest.mark.parametrize('devices, num_gpus, says', [
  ([], 1, 'shows no GPU'),
  (['0'], 2, 'ask for at most 1'),
  (['0'], 1.5, 'a whole number of GPUs'),
  (['0'], -1, 'a whole number of GPUs'),
])
def test_impossible_requests_are_refused_clearly(devices, num_gpus, says):
  with pytest.raises(AlgoperfError, match=says):
    gpu_assign.GpuSlots(devices, num_gpus, environ={})


def test_a_gpu_machine_does_not_train_on_cpu_by_accident():
  with pytest.raises(AlgoperfError, match='JAX_PLATFORMS=cpu'):
    gpu_assign.GpuSlots(['0', '1'], 0, environ={})
  slots = gpu_assign.GpuSlots(['0', '1'], 0, environ={'JAX_PLATFORMS': 'cpu'})
  assert slots.acquire() == []


def test_a_pool_study_gives_each_trial_its_own_fake_gpu(tmp_path):
  """Two trials at once on the pool, 'GPUs' 4 and 6 (CUDA_VISIBLE_DEVICES;
  JAX here is CPU-only and ignores it): each trial's log names the one GPU
  it was given, and no GPU is given twice."""
  space = tmp_path / 'space.json'
  space.write_text('{"learning_rate": {"feasible_points": [0.001, 0.01]}}')
  result = run_cli(
    'study', '--submission', ALGOPERF_STYLE,
    '--workloads', 'mnist', '--trials', '2', '--backend', 'pool',
    '--num-gpus-per-trial', '1', '--num-cpus-per-trial', '0.5',
    '--synthetic-data', '64', '--max-steps', '1', '--search-space', space,
    '--experiment-dir', str(tmp_path), '--name', 'gpus', '--no-progress',
    env={**os.environ, 'CUDA_VISIBLE_DEVICES': '4,6', 'JAX_PLATFORMS': 'cpu'},
    timeout=600)
  assert result.returncode == 0, result.stderr + result.stdout
  logs = sorted(tmp_path.glob('gpus/**/trial_*/stderr.log'))
  assert len(logs) == 2
  given = sorted(log.read_text().splitlines()[0].split(
    "CUDA_VISIBLE_DEVICES='")[1].split("'")[0] for log in logs)
  assert given == ['4', '6']
