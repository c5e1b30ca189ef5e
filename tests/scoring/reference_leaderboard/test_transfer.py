"""The transfer check, from hand-written logs of AlgoPerf's configuration."""

import dataclasses
import json
import math

from algoperf.reference_leaderboard import run_info
from scoring.reference_leaderboard import page
from scoring.reference_leaderboard import transfer
from scripts import cpu_leaderboard
from tests.scoring.reference_leaderboard.test_page import _eval_csv
from tests.scoring.reference_leaderboard.test_page import _logs


def _result(tmp_path, bests_by_study):
  logs = tmp_path / 'logs'
  logs.mkdir()
  (tmp_path / run_info.TARGETS_FILE).write_text(
    json.dumps(run_info.build_targets(['mnist'], 'cpu-0.3')))
  info = {'ruleset': 'self', 'rules': 'v0.5',
          'num_studies': len(bests_by_study),
          'sessions': [{'started': '2025-01-02T03:04:05+00:00',
                        'last_update': '2025-01-02T05:00:00+00:00'}]}
  for study, best in enumerate(bests_by_study):
    where = logs / transfer.ALGORITHM / f'study_{study}'
    _eval_csv(where / 'mnist_jax/trial_1', 'validation/accuracy',
              [(1.0, 100, 0.5), (2.0, 200, best), (3.0, 300, 0.6)])
    _eval_csv(where / 'mnist_relu_jax/trial_1', 'validation/accuracy',
              [(1.0, 100, 0.99)])
  return page.score(logs, tmp_path, info, 'score')


def test_two_of_three_studies_reaching_pass_and_the_table_shows_why(
    tmp_path):
  # mnist's target is 0.9435: studies 0 and 2 reach it, study 1 misses.
  check = transfer.check(_result(tmp_path, [0.99, 0.90, 0.95]), page.REPO)
  [row] = check.workloads
  assert row.best_by_study == {'study_0': 0.99, 'study_1': 0.90,
                               'study_2': 0.95}
  assert row.reached_by_study == {'study_0': True, 'study_1': False,
                                  'study_2': True}
  assert check.studies_passing == 2 and check.passes
  # The target's seeds: the committed cpu-0.3 protocol summaries of mnist.
  assert len(row.seed_bests) == 3
  assert all(0.9 < v < 1 for v in row.seed_bests)
  assert row.standard_error.endswith('% abs !')  # 750 examples: ~0.9%.
  text = '\n'.join(transfer.markdown(check))
  assert '**passes**: 1 of 1 in study_0, 0 of 1 in study_1' in text
  assert '| 0.9900 reached | 0.9000 missed | 0.9500 reached |' in text
  # The seeds are the version's own: cpu-0.3's page, not the current one.
  assert 'median of (docs/targets.md)' in text
  current = dataclasses.replace(check, version='cpu-1.0')
  assert 'median of (docs/targets/cpu-1.0.md)' in '\n'.join(
    transfer.markdown(current))


def test_one_study_of_three_fails(tmp_path):
  check = transfer.check(_result(tmp_path, [0.99, 0.90, 0.91]), page.REPO)
  assert check.studies_passing == 1 and not check.passes
  assert '**fails**' in '\n'.join(transfer.markdown(check))


def test_a_study_without_the_workloads_trial_says_no_logs(tmp_path):
  # An interim page: study 1 has not trained mnist yet (only its variant).
  result = _result(tmp_path, [0.99, 0.95])
  result.pool.trials[transfer.ALGORITHM] = [
    t for t in result.pool.trials[transfer.ALGORITHM]
    if not (t.study == 'study_1' and t.workload == 'mnist')]
  check = transfer.check(result, page.REPO)
  [row] = check.workloads
  assert row.best_by_study == {'study_0': 0.99}
  assert check.reached_in('study_1') == 0
  assert '| 0.9900 reached | no logs |' in '\n'.join(transfer.markdown(check))


def test_logs_without_the_configuration_have_no_check(tmp_path):
  result = _result(tmp_path, [0.99])
  result.pool.trials['other'] = result.pool.trials.pop(transfer.ALGORITHM)
  assert transfer.check(result, page.REPO) is None
  assert math.isnan(transfer._best([math.nan], 'max'))


def test_the_page_has_the_section_when_the_logs_have_the_configuration(
    tmp_path):
  logs = _logs(tmp_path)
  out = tmp_path / 'board'
  assert cpu_leaderboard.main(['page', '--logs', str(logs), '--out',
                               str(out), '--no-screenshot']) == 0
  assert '## Transfer check' not in (out / 'README.md').read_text()
  _eval_csv(logs / transfer.ALGORITHM / 'study_0/mnist_jax/trial_1',
            'validation/accuracy', [(1.0, 100, 0.99)])
  assert cpu_leaderboard.main(['page', '--logs', str(logs), '--out',
                               str(out), '--no-screenshot']) == 0
  text = (out / 'README.md').read_text()
  assert '## Transfer check' in text and '**passes**' in text


def test_the_section_points_to_the_versions_ablation_once_committed(
    tmp_path):
  from algoperf.target_setting import protocol

  result = _result(tmp_path, [0.99])
  page_path = protocol.VERSIONS['cpu-0.3'].transfer_ablation
  assert page_path == 'docs/targets/transfer_ablation.md'
  assert protocol.VERSIONS['cpu-1.0'].transfer_ablation == (
    'docs/targets/cpu-1.0/transfer_ablation.md')
  # cpu-0.3 has no ablation: no line.
  check = transfer.check(result, page.REPO)
  assert check.ablation_page is None
  assert 'Why it misses' not in '\n'.join(transfer.markdown(check))
  # A repository holding it: the section names it.
  repo = tmp_path / 'repo'
  (repo / page_path).parent.mkdir(parents=True)
  (repo / page_path).write_text('# ablation\n')
  check = transfer.check(result, repo)
  assert check.ablation_page == page_path
  assert f'({page_path})' in '\n'.join(transfer.markdown(check))
