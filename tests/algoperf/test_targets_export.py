"""`algoperf targets export`: AlgoPerf's three-key format, or ours in full."""

import dataclasses
import json
import os
import pathlib

import pytest

from algoperf import cli
from algoperf import registry
from algoperf import targets_export
from algoperf.targets_export import ExportRequest
from algoperf.targets_export import TargetsExportError
from scoring import workload_targets

REPO = pathlib.Path(__file__).resolve().parents[2]
REFERENCE = pathlib.Path(os.environ.get(
  'ALGOPERF_REFERENCE_DIR', REPO.parent / 'shared' / 'reference'))
OFFICIAL_V05 = (REFERENCE / 'algoperf_v05_external_pool4'
                / 'workload_targets_v05.json')
# Two families of the current suite: their bases, held-out variants, and
# a variant of the first that is not held out.
_SUITE = registry.suite()
FIRST, OTHER = _SUITE.base_workloads[0], _SUITE.base_workloads[-1]
FIRST_HELD_OUT = _SUITE.held_out_variant(FIRST)
OTHER_HELD_OUT = _SUITE.held_out_variant(OTHER)
FIRST_OTHER_VARIANT = next(v for v in _SUITE.variants(FIRST)
                           if v != FIRST_HELD_OUT)


@dataclasses.dataclass(frozen=True)
class AlgoperfTarget:
  """AlgoPerf's scoring/config.py WorkloadTarget: these fields, no other."""

  target_metric_name: str
  validation_target_value: float
  step_hint: int


def _as_algoperf_reads_it(document: dict) -> dict:
  """AlgoPerf's loader: ``WorkloadTarget(**entry)`` per entry (TypeError on
  any other key), the lists, and every listed workload's entry."""
  workloads = {n: AlgoperfTarget(**e) for n, e in
               document['workloads'].items()}
  listed = document['base_workloads'] + document['held_out_workloads']
  assert all(w in workloads for w in listed)
  return workloads


def test_algoperf_format_has_three_keys_and_scores_as_ours():
  ours = targets_export.export(ExportRequest(format='full'))
  theirs = targets_export.export(ExportRequest())
  assert set(_as_algoperf_reads_it(theirs)) == set(ours['workloads'])
  for name, entry in theirs['workloads'].items():
    assert list(entry) == list(registry.ALGOPERF_TARGET_KEYS), name
  read_ours = workload_targets.parse_targets(ours, 'full')
  read_theirs = workload_targets.parse_targets(theirs, 'algoperf')
  assert read_theirs.workloads == {
    n: dataclasses.replace(t, max_allowed_runtime_sec=None, base_name=None)
    for n, t in read_ours.workloads.items()}
  assert read_theirs.base_workloads == read_ours.base_workloads


@pytest.mark.skipif(not OFFICIAL_V05.exists(),
                    reason=f'{OFFICIAL_V05} not found (ALGOPERF_REFERENCE_DIR)')
def test_algoperf_suite_at_v05_is_the_official_file():
  official = json.loads(OFFICIAL_V05.read_text())
  ours = targets_export.export(ExportRequest(
    suite='algoperf', rules='v0.5', benchmark_version='0.5'))
  assert ours['base_workloads'] == official['base_workloads']
  assert ours['held_out_workloads'] == official['held_out_workloads']
  shared = set(ours['workloads']) & set(official['workloads'])
  assert set(official['base_workloads'] + official['held_out_workloads']) \
    <= shared
  for name in shared:
    assert ours['workloads'][name] == official['workloads'][name], name


@pytest.mark.parametrize('metric, direction, message', [
  ('perplexity', 'min', 'cannot tell'),
  ('accuracy', 'min', 'would maximize it'),
])
def test_a_metric_algoperf_would_read_otherwise_is_refused(metric, direction,
                                                           message):
  document = {'benchmark_version': 't', 'base_workloads': ['w'],
              'held_out_workloads': [],
              'workloads': {'w': {'target_metric_name': metric,
                                  'metric_direction': direction,
                                  'validation_target_value': 1.0,
                                  'step_hint': 10}}}
  with pytest.raises(TargetsExportError, match=message) as info:
    targets_export.algoperf_document(document, 'test.json')
  assert '--format full' in str(info.value)


def _logs(root: pathlib.Path, *workloads: str) -> str:
  for workload in workloads:
    trial = root / 'sub' / 'study_0' / f'{workload}_jax' / 'trial_1'
    trial.mkdir(parents=True)
    (trial / 'eval_measurements.csv').write_text('score\n1.0\n')
  return str(root)


def test_fit_to_logs_drops_held_out_without_logs(tmp_path):
  logs = _logs(tmp_path, FIRST, FIRST_HELD_OUT, OTHER)
  fitted = targets_export.export(ExportRequest(
    rules='v0.5', workloads=(FIRST, OTHER), logs=logs))
  assert fitted['base_workloads'] == [FIRST, OTHER]
  assert fitted['held_out_workloads'] == [FIRST_HELD_OUT]
  assert OTHER_HELD_OUT in fitted['workloads']  # Harmless there.


def test_fit_to_logs_refuses_bases_and_unknown_workloads(tmp_path):
  logs = _logs(tmp_path / 'a', FIRST)
  with pytest.raises(TargetsExportError, match=f'{OTHER}; AlgoPerf'):
    targets_export.export(ExportRequest(workloads=(FIRST, OTHER),
                                        logs=logs))
  logs = _logs(tmp_path / 'b', FIRST, FIRST_OTHER_VARIANT)
  with pytest.raises(TargetsExportError,
                     match=f'logs of {FIRST_OTHER_VARIANT}'):
    targets_export.export(ExportRequest(
      source=str(_full_file(tmp_path, (FIRST,))), logs=logs))


def _full_file(tmp_path, bases) -> pathlib.Path:
  document = registry.targets_document(rules='v0.5', workloads=list(bases))
  path = tmp_path / 'full.json'
  path.write_text(json.dumps(document))
  return path


def test_cli_writes_the_file_or_says_what_is_wrong(tmp_path, capsys):
  out = tmp_path / 'targets.json'
  assert cli.main(['targets', 'export', '--workloads', f'{FIRST},{OTHER}',
                   '-o', str(out)]) == 0
  written = json.loads(out.read_text())
  assert written['base_workloads'] == [FIRST, OTHER]
  assert os.listdir(tmp_path) == ['targets.json']  # No temp file left.
  assert cli.main(['targets', 'export', '--from', str(out), '--rules',
                   'v0.5']) == 1
  assert 'Drop them, or drop --from' in capsys.readouterr().err
