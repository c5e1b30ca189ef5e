"""Bundle an experiment's logs and the submission's source for hand-in.

Writes a .tar.gz with every file of the experiment(s), the source of each
submission their flags_<n>.json name, package_info.json and a manifest of
sha256 checksums; `algoperf score FILE.tar.gz` verifies them and refuses a
package that was changed afterwards.
"""


def add_arguments(parser):
  parser.add_argument('experiment_dir', metavar='EXPERIMENT_DIR',
                      help='--experiment-dir of `algoperf run`/`study`, or '
                      'one experiment inside it')
  parser.add_argument('-o', '--output', required=True, metavar='FILE',
                      help='package to write, e.g. results.tar.gz')
  parser.add_argument('--submission', action='append', default=None,
                      metavar='DIR', help='submission source to include '
                      '(default: the paths in the logs\' flags files)')


def run(args) -> int:
  from algoperf import packaging

  info = packaging.create_package(args.experiment_dir, args.output,
                                  args.submission)
  print(f'Wrote {args.output}: {info["num_files"]} files from experiment(s) '
        f'{", ".join(info["experiments"])} and submission(s) '
        f'{", ".join(info["submissions"].values()) or "none"}, with sha256 '
        'checksums in MANIFEST.sha256.')
  return 0
