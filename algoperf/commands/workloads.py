"""List the registered workloads with their targets and budgets."""


def add_arguments(parser):
  parser.add_argument('--details', action='store_true',
                      help='also show parameter counts, data sizes, the '
                      'standard error at each target and the worst-case '
                      'self-tuning study time')
  parser.add_argument('--suite', default='cpu', choices=['cpu', 'algoperf'],
                      help='which suite to list (default: cpu; algoperf: '
                      'AlgoPerf\'s eight families and their variants)')


def run(args) -> int:
  from algoperf import registry
  from algoperf import workload_info

  suite = registry.suite(args.suite)
  rows = [workload_info.describe(name, details=args.details)
          for name in workload_info.listing_order(suite)]
  workload_info.print_table(rows, details=args.details)
  print(workload_info.scored_set_line(suite))
  if args.details:
    for line in workload_info.study_time_lines(suite):
      print(line)
  return 0
