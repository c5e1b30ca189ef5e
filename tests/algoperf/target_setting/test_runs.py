"""Target-setting runs: planning, resuming, refusing a stale winner."""

import pytest

from algoperf import records
from algoperf import registry
from algoperf.target_setting import runs


def test_a_finished_seed_run_of_another_winner_is_refused(tmp_path):
  workload = registry.make_workload('census_dlrm')
  first = {'learning_rate': 0.1, 'one_minus_beta1': 0.1,
           'weight_decay': 1e-4, 'warmup_factor': 0.05,
           'label_smoothing': 0.0, 'dropout_rate': 0.0}
  [job] = runs.rerun_jobs(workload, 'nesterov', first, 1, tmp_path)
  job.trial_dir.mkdir(parents=True)
  records.write_json(job.trial_dir / records.HPARAMS,
                     job.config.hyperparameters)
  records.write_json(job.trial_dir / records.STATUS,
                     {'status': records.MAX_STEPS})
  done = []
  assert runs.execute([job], 1, lambda j, s: done.append(j)) == 0
  assert done == []  # The same point, finished: reused, not rerun.

  # Re-tuning picked another winner: the old seed run must not count.
  [other] = runs.rerun_jobs(workload, 'nesterov',
                            dict(first, learning_rate=0.2), 1, tmp_path)
  assert other.trial_dir == job.trial_dir
  with pytest.raises(SystemExit, match='Move .* aside'):
    runs.execute([other], 1, lambda j, s: done.append(j))
  assert done == []
