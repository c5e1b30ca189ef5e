r"""Write a targets file: AlgoPerf's three-key format, or ours in full.

  algoperf targets export --workloads mnist,census_dlrm -o targets.json
  algoperf targets export --from docs/leaderboard/workload_targets.json \
      --logs docs/leaderboard/logs -o targets.json

`--format algoperf` (default) is what AlgoPerf's scoring/score_submissions.py
reads (--workload_targets): per workload only target_metric_name,
validation_target_value and step_hint. `--format full` adds our keys
(direction, test target, budget, base name). `--logs DIR` fits the file to a
logs directory as AlgoPerf's scoring needs it: held-out variants without
logs are left out; a base workload without logs is an error.
"""


def _names(text: str) -> tuple[str, ...]:
  return tuple(n.strip() for n in text.split(',') if n.strip())


def add_arguments(parser) -> None:
  from algoperf import registry
  from algoperf import targets_export

  verbs = parser.add_subparsers(dest='targets_command', metavar='VERB',
                                required=True)
  export = verbs.add_parser('export', help='write a workload_targets file',
                            description=__doc__,
                            formatter_class=_raw_formatter())
  source = export.add_mutually_exclusive_group()
  source.add_argument('--suite', default=registry.DEFAULT_SUITE,
                      choices=sorted(registry.suites()),
                      help='the suite whose facts to export (default: '
                      f'{registry.DEFAULT_SUITE})')
  source.add_argument('--from', dest='source', metavar='JSON',
                      help='a targets file to convert instead (e.g. the one '
                      'trials ran against)')
  export.add_argument('--rules', choices=registry.RULES, default=None,
                      help='v0.5 lists the suite\'s held-out variants; v0.6 '
                      'none (default; suite facts only)')
  export.add_argument('--benchmark-version', metavar='V', default=None,
                      help='an earlier benchmark version of the suite')
  export.add_argument('--workloads', type=_names, default=None,
                      metavar='W[,W...]',
                      help='base workloads to keep (default: all)')
  export.add_argument('--logs', metavar='DIR', default=None,
                      help='fit to the logs there: drop held-out variants '
                      'without logs, refuse base workloads without logs')
  export.add_argument('--format', choices=targets_export.FORMATS,
                      default='algoperf',
                      help='algoperf: the three keys AlgoPerf reads '
                      '(default); full: ours')
  export.add_argument('-o', '--output', metavar='JSON', default=None,
                      help='file to write (atomically; default: stdout)')


def _raw_formatter():
  import argparse

  return argparse.RawDescriptionHelpFormatter


def run(args) -> int:
  from algoperf import targets_export

  document = targets_export.export(targets_export.ExportRequest(
    suite=args.suite, rules=args.rules,
    benchmark_version=args.benchmark_version, workloads=args.workloads,
    source=args.source, logs=args.logs, format=args.format))
  targets_export.write(document, args.output)
  return 0
