"""Check a submission before running it: files, API, rules, a few steps.

Shows what it checks now on stderr (which workload, which call; the first
step of each workload as compiling), then prints SUCCESS, or a numbered
list of problems (file, function, what was expected, what was found). The
module is imported and trained for a few
steps of every CPU-suite workload on tiny synthetic data in a subprocess
with a time limit, on 8 simulated devices, under the sandbox (no network,
no processes, no evaluation files). Exit status 0 on success, 3 if the
submission has problems (algoperf/exit_codes.py).
"""


def add_arguments(parser):
  parser.add_argument('submission', metavar='SUBMISSION_DIR',
                      help='directory holding submission.py')
  parser.add_argument('--ruleset', choices=['external', 'self'],
                      default='external',
                      help='external: also check tuning_search_space.json')
  parser.add_argument('--workloads', default=None,
                      help='comma-separated workloads to train a few steps '
                      'on (default: the CPU suite)')
  parser.add_argument('--timeout', type=float, default=1200.0,
                      help='seconds for the whole check (default 1200)')
  parser.add_argument('--call-timeout', type=float, default=300.0,
                      help='seconds one submission call may take, first '
                      'compilation included (default 300)')


def run(args) -> int:
  import time

  from algoperf import progress
  from algoperf import registry
  from algoperf import validation
  from algoperf import validation_progress

  start = time.perf_counter()
  workloads = (args.workloads.split(',') if args.workloads
               else list(registry.suite().base_workloads))
  # Progress on stderr (erased in a terminal, lines in a log); the report
  # on stdout.
  path = validation.submission_file(args.submission)
  with progress.Task(f'validate {validation_progress.name(path)}',
                     total=len(workloads), unit='workloads') as task:
    watch = validation_progress.ValidationWatch(task, [path], workloads)
    report = validation.validate(
      args.submission, args.ruleset, workloads=workloads,
      timeout_s=args.timeout, call_timeout_s=args.call_timeout, watch=watch)
  print(report.format())
  print(f'({time.perf_counter() - start:.1f} s)')
  from algoperf import exit_codes

  return exit_codes.OK if report.ok else exit_codes.SUBMISSION
