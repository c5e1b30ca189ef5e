"""How AlgoPerf's scoring code walks a logs directory, and where it fails.

The rules of ``scoring/score_submissions.py`` with ``scoring_utils.
get_experiment_df``, ``config.WorkloadConfig`` and ``performance_profile``
of mlcommons/submissions_algorithms (``OFFICIAL_COMMIT``), restated so that
tests can hold our outputs to them without running that code:

1. Every entry of the logs directory is a submission (``os.listdir``); a
   file raises NotADirectoryError, a directory without trials KeyError
   ('workload'). A submission also gathers its timestamped reruns
   ``<name>-YYYY-MM-DD-HH-MM-SS`` (which are also submissions of their own).
2. Every entry of a submission's directory is a study; a file raises
   NotADirectoryError. A study holding no directory adds nothing.
3. In a study, files are passed over and every directory is a workload;
   in a workload directory, entries whose names start with ``trial_<n>``
   are trials. A trial without eval_measurements.csv is passed over; one
   that is a file raises NotADirectoryError; an empty eval_measurements.csv
   raises EmptyDataError, one with a header but no evals ValueError.
4. A logged workload (name less ``_jax``/``_pytorch``) without a target
   raises KeyError; a metric whose direction its name does not tell
   (``registry.ALGOPERF_MINIMIZED``/``MAXIMIZED``) ValueError.
5. The profiles need every base workload, and every held-out one when the
   targets list any, logged by some submission (KeyError otherwise).
6. The targets file's workload entries hold exactly
   ``registry.ALGOPERF_TARGET_KEYS`` (TypeError otherwise), and every base
   and held-out workload has one.

``check`` returns every place a directory breaks them (fatal) or where the
official code reads it but scores otherwise than we do (not fatal).
"""

import dataclasses
import os
import re

from algoperf import registry

OFFICIAL_REPOSITORY = 'mlcommons/submissions_algorithms'
OFFICIAL_COMMIT = '12c8e4ea93dc41a1ff6abc3debba9accd8ac1e3a'
_TIMESTAMP = r'-\d{4}(-\d{2}){5}'
_TRIAL = re.compile(r'trial_(\d+)')  # re.match: a prefix, as theirs.
_FRAMEWORK = re.compile(r'_(jax|pytorch)$')
EVAL_CSV = 'eval_measurements.csv'


@dataclasses.dataclass(frozen=True)
class Finding:
  path: str
  problem: str  # what the official code does there.
  fatal: bool  # it raises (True), or scores otherwise than ours (False).

  def __str__(self):
    return f'{self.path}: {self.problem}'


def submission_paths(logs: str, submission: str) -> list[str]:
  """The directories read as ``submission``, in the official (glob) order:
  the directory itself and its timestamped reruns, as ``logs`` lists them.
  """
  own = os.path.join(logs, submission)
  pattern = re.compile(re.escape(own) + _TIMESTAMP)
  return [os.path.join(logs, name) for name in os.listdir(logs)
          if os.path.join(logs, name) == own
          or pattern.match(os.path.join(logs, name))]


def logged_workloads(logs: str) -> dict[str, list[str]]:
  """Workload (no framework suffix) -> the trial files read, officially."""
  found = {}
  for submission in os.listdir(logs):
    for experiment in submission_paths(logs, submission):
      for trial_csv, workload in _trial_files(experiment):
        found.setdefault(workload, []).append(trial_csv)
  return found


def _trial_files(experiment: str):
  """(eval_measurements.csv path, workload) of each trial read."""
  if not os.path.isdir(experiment):
    return
  for study in os.listdir(experiment):
    study_path = os.path.join(experiment, study)
    if not os.path.isdir(study_path):
      continue
    for workload in os.listdir(study_path):
      workload_path = os.path.join(study_path, workload)
      if not os.path.isdir(workload_path):
        continue
      for trial in os.listdir(workload_path):
        path = os.path.join(workload_path, trial, EVAL_CSV)
        if _TRIAL.match(trial) and os.path.isfile(path):
          yield path, _FRAMEWORK.sub('', workload)


def check(logs: str, targets: dict, profiles: bool = True) -> list[Finding]:
  """Where ``logs`` and ``targets`` break the rules of the module docstring.

  Args:
    logs: the directory given as ``--submission_directory``.
    targets: the document given as ``--workload_targets``.
    profiles: with ``--compute_performance_profiles`` (rule 5).
  """
  findings = _check_targets(targets)
  for submission in os.listdir(logs):
    findings += _check_submission(logs, submission)
  logged = logged_workloads(logs)
  entries = targets.get('workloads', {})
  for workload, paths in sorted(logged.items()):
    entry = entries.get(workload)
    if entry is None:
      findings.append(Finding(paths[0], f'workload {workload!r} has no '
                              'target: KeyError', True))
    elif registry.algoperf_metric_direction(
        entry.get('target_metric_name', '')) is None:
      findings.append(Finding(paths[0], 'metric of unknown direction '
                              f'{entry.get("target_metric_name")!r}: '
                              'ValueError', True))
  if profiles:
    findings += _check_profiles(logs, targets, logged)
  return findings


def _check_targets(targets: dict) -> list[Finding]:
  findings = []
  for name, entry in targets.get('workloads', {}).items():
    if sorted(entry) != sorted(registry.ALGOPERF_TARGET_KEYS):
      findings.append(Finding(
        f'targets: {name}', f'keys {sorted(entry)} are not exactly '
        f'{list(registry.ALGOPERF_TARGET_KEYS)}: TypeError', True))
  listed = (list(targets.get('base_workloads', []))
            + list(targets.get('held_out_workloads', [])))
  for name in listed:
    if name not in targets.get('workloads', {}):
      findings.append(Finding(f'targets: {name}', 'listed without an entry '
                              'under "workloads": ValueError', True))
  return findings


def _check_submission(logs: str, submission: str) -> list[Finding]:
  path = os.path.join(logs, submission)
  if not os.path.isdir(path):
    return [Finding(path, 'a file where a submission is read: '
                    'NotADirectoryError', True)]
  findings = []
  if re.search(_TIMESTAMP + '$', submission):
    findings.append(Finding(path, 'a timestamped rerun, scored as a '
                            'submission of its own too (ours only merges '
                            'it)', False))
  trials = 0
  for experiment in submission_paths(logs, submission):
    if not os.path.isdir(experiment):
      continue  # A file: its own entry of ``logs`` says so.
    for study in os.listdir(experiment):
      study_path = os.path.join(experiment, study)
      if not os.path.isdir(study_path):
        findings.append(Finding(study_path, 'a file where a study is read: '
                                'NotADirectoryError', True))
        continue
      found, problems = _check_study(study_path)
      trials += found
      findings += problems
  if not trials:
    findings.append(Finding(path, 'no trial read for this submission: '
                            "KeyError('workload')", True))
  return findings


def _check_study(study_path: str) -> tuple[int, list[Finding]]:
  trials, findings = 0, []
  for workload in os.listdir(study_path):
    workload_path = os.path.join(study_path, workload)
    if not os.path.isdir(workload_path):
      continue
    for trial in filter(_TRIAL.match, os.listdir(workload_path)):
      trial_path = os.path.join(workload_path, trial)
      if not os.path.isdir(trial_path):
        findings.append(Finding(trial_path, 'a file where a trial is read: '
                                'NotADirectoryError', True))
        continue
      csv_path = os.path.join(trial_path, EVAL_CSV)
      if os.path.isfile(csv_path):
        trials += 1
        findings += _check_csv(csv_path)
  return trials, findings


def _check_csv(path: str) -> list[Finding]:
  with open(path, encoding='utf-8', errors='replace') as f:
    lines = [line for line in f.read().splitlines() if line.strip()]
  if not lines:
    return [Finding(path, 'empty: EmptyDataError', True)]
  if len(lines) == 1:
    return [Finding(path, 'a header but no evals: ValueError', True)]
  return []


def _check_profiles(logs: str, targets: dict, logged: dict) -> list[Finding]:
  findings = []
  bases = list(targets.get('base_workloads', []))
  held_out = list(targets.get('held_out_workloads', []))
  for name in bases + held_out:
    if name not in logged:
      findings.append(Finding(logs, f'no submission logged {name!r}, a '
                              'base or held-out workload: KeyError', True))
  if held_out:
    return findings
  for name in sorted(logged):
    base = next((b for b in bases if b in name), None)
    if name not in bases and base is not None:
      findings.append(Finding(
        logs, f'{name!r} logged but no held-out list: the official code '
        f'applies the held-out rule to it, and {base!r} of any submission '
        'without it is counted a miss (ours reads only base workloads)',
        False))
  return findings
