"""The fault campaign's cases, for docs/reliability.md and its count.

``python -m tests.faults.catalog`` prints the table (area, case, expected,
observed); tests/faults/test_catalog.py checks the page lists every case.
"""

from tests.faults import test_cli_inputs
from tests.faults import test_data
from tests.faults import test_packages
from tests.faults import test_sandbox
from tests.faults import test_scoring_trees
from tests.faults import test_supervisor

OBSERVED = 'as expected'
# Named tests that are cases of their own (not rows of a table above).
NAMED = [
  ('supervisor', 'test_item_1_oom_kill_of_the_child_is_a_failure',
   'child SIGKILLed from outside: failed, "killed by SIGKILL (the kernel\'s '
   'out-of-memory killer...)", exit 3'),
  ('supervisor', 'test_os__exit_at_import_cannot_end_the_cli',
   'os._exit(0) while the CLI imports the submission: SubmissionError, '
   'exit 3'),
  ('supervisor', 'test_hanging_or_exiting_run_is_stopped_and_recorded',
   'fixtures infinite_loop and exits_process through `algoperf run` on '
   'real mnist: timeout exit 4 / failed exit 3; earlier trial untouched'),
  ('resume', 'test_kill_loop_resumes_to_the_unkilled_records',
   'the CLI SIGKILLed at 20 seeded moments (compile, steps, evals, '
   'checkpoint writes), rerun each time: eval records equal an unkilled '
   'run\'s; the lock is recovered each time'),
  ('resume', 'test_sigkilled_trials_resume_to_the_uninterrupted_result',
   'five study drivers SIGKILLed after checkpoints, one at start: rerun '
   'recovers the locks and resumes exactly'),
  ('disk', 'test_item_9_disk_full_during_a_trial',
   'experiment dir on a 2 MiB tmpfs: failed "no space left", exit 5, '
   'status.json valid, no traceback'),
  ('disk', 'test_item_9_read_only_experiment_dir',
   'experiment dir on a read-only mount: one line, exit 5, nothing written'),
  ('data', 'test_item_8_corrupted_data_fails_the_trial_not_running',
   'validation split truncated under a run: failed (reason data, '
   'resumable), exit 1, names --force'),
  ('data', 'test_force_repairs_what_verify_found',
   '`data prepare --force` repairs; `data verify` then passes'),
  ('data', 'test_data_prepared_before_manifests_loads_then_is_adopted',
   'data without a manifest loads with a warning; `data prepare` writes '
   'one'),
  ('locks', 'test_held_lock_is_refused_with_host_pid_and_age',
   'second writer in the same process: refused with host, PID, age'),
  ('locks', 'test_lock_held_by_another_process_is_refused',
   'writer in another live process: refused; after it is killed, taken '
   'over with a note'),
  ('locks', 'test_item_4_dead_owner_is_recovered_saying_so',
   'owner file of a dead PID (this host or another): recovered, note '
   'printed'),
  ('locks', 'test_unreadable_owner_file_is_replaced_silently',
   'owner file empty/garbage/not a dict: lock taken, no note (4 cases)'),
  ('locks', 'test_lock_is_released_when_the_block_raises',
   'an exception inside the locked block releases the lock'),
  ('locks', 'test_item_3_run_is_refused_while_another_writer_holds_the_lock',
   '`algoperf run` while a study holds the lock: exit 1, nothing written'),
  ('locks', 'test_hidden_lock_dir_that_is_a_file_is_an_error',
   '`.algoperf` is a file: exit 5, one line'),
  ('packages', 'test_too_many_members_are_refused',
   'more members than the limit: refused'),
  ('packages', 'test_item_10_gzip_bomb_is_refused_before_it_is_read',
   '2 GiB of zeros in a few MB: refused from the header, RSS +<200 MB'),
  ('packages', 'test_item_10_package_respects_the_umask',
   'package written with umask 027: mode 0640'),
  ('records', 'test_item_10_trial_records_respect_the_umask',
   'status.json etc. written with umask 027: mode 0640'),
  ('sandbox', 'test_harness_code_is_never_judged',
   'a write outside by harness code during a policy: allowed'),
  ('sandbox', 'test_item_7_validate_reports_a_socket_and_a_subprocess',
   'validator worker: subprocess at import reported with file:line'),
  ('scoring', 'test_item_5_infinite_metric_never_reaches_the_target',
   '+inf accuracy in every eval: workload missed, warning names lines'),
  ('cli', 'test_item_6_name_never_writes_outside_the_experiment_dir',
   '--name ../x, absolute, empty: exit 2, nothing written anywhere'),
  ('cli', 'test_item_9_max_steps_zero_and_negative_are_refused',
   '--max-steps 0 / -5: exit 2'),
]


def rows() -> list[tuple[str, str, str]]:
  """(area, case, expected) for every case."""
  out = []
  for case, (_argv, code, fragment) in test_cli_inputs.CASES.items():
    out.append(('cli', case, f'exit {code}, one line with "{fragment}"'))
  for case, (_, kind, where) in test_scoring_trees.CASES.items():
    expected = (f'warning "{kind}" naming {where}' if kind else
                'no traceback, no warning needed')
    out.append(('scoring', case, expected + '; other scores unchanged'))
  for case, (_, fragment) in test_packages.CASES.items():
    out.append(('packages', case, f'refused: "{fragment}"'))
  for case in test_sandbox.REFUSED:
    out.append(('sandbox', case, 'refused with file:line, kept if '
                'swallowed'))
  for case in test_sandbox.ALLOWED:
    out.append(('sandbox', case, 'allowed'))
  for case, (_, check, fragment) in test_data.CASES.items():
    out.append(('data', case, f'{check}: DataError "{fragment}", names '
                '`data prepare mnist --force`'))
  for case, (*_, status, code, fragment) in test_supervisor.CASES.items():
    out.append(('supervisor', case,
                f'{status or "refused before writing"}, exit {code}, '
                f'"{fragment}"'))
  out += NAMED
  return out


def table() -> str:
  lines = ['| area | case | expected | observed |', '|---|---|---|---|']
  lines += [f'| {a} | `{c}` | {e.replace("|", "/")} | {OBSERVED} |'
            for a, c, e in rows()]
  return '\n'.join(lines)


if __name__ == '__main__':
  print(table())
  print(f'\n{len(rows())} cases.')
