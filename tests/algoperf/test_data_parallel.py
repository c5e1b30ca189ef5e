"""Data parallelism over local devices gives the same training as one."""

import json
import os
import subprocess
import sys

import numpy as np

from tests.conftest import REPO

_SCRIPT = r'''
import json, sys
import jax
sys.path.insert(0, {repo!r})
from algoperf import runner
from tests.conftest import load_fixture_submission
from algoperf import registry
workload = registry.make_workload('mnist')
workload.use_synthetic_data(64)
# No budget: a loaded machine must not end the 12 steps early.
workload.override_facts(eval_every_steps=1, max_allowed_runtime_sec=1e9)
config = runner.RunConfig(experiment_dir={out!r}, experiment_name='dp',
                          max_steps=12, progress=False)
result = runner.run_trial(workload, load_fixture_submission(), config)
from algoperf import records
import pathlib
rows = records.read_rows_csv(pathlib.Path(result.trial_dir) /
                             'eval_measurements.csv')
print(json.dumps({{'devices': len(jax.devices()),
                  'losses': [r['train/loss'] for r in rows]}}))
'''


def _run(tmp_path, devices: int) -> dict:
  env = dict(os.environ)
  env['XLA_FLAGS'] = f'--xla_force_host_platform_device_count={devices}'
  env['JAX_PLATFORMS'] = 'cpu'
  out = tmp_path / f'dev{devices}'
  script = _SCRIPT.format(repo=str(REPO), out=str(out))
  proc = subprocess.run([sys.executable, '-c', script], env=env,
                        capture_output=True, text=True, timeout=300,
                        check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return json.loads(proc.stdout.strip().splitlines()[-1])


def test_four_devices_match_one(tmp_path):
  one = _run(tmp_path, 1)
  four = _run(tmp_path, 4)
  assert one['devices'] == 1 and four['devices'] == 4
  assert len(one['losses']) == len(four['losses']) == 12
  np.testing.assert_allclose(four['losses'], one['losses'], rtol=1e-5)
