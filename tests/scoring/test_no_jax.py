"""Scoring reads files only: it never imports JAX (nor pandas)."""

import pathlib
import subprocess
import sys
import textwrap

from tests.scoring import synthetic

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_scoring_with_plots_does_not_import_jax_or_pandas(tmp_path):
  synthetic.write_submission(tmp_path / 'exp', 's',
                             {'alpha': 1, 'beta': 1, 'alpha_tweak': 1})
  targets = synthetic.write_targets(tmp_path)
  code = textwrap.dedent(f'''
    import argparse, sys
    from scoring import cli_score
    parser = argparse.ArgumentParser()
    cli_score.add_arguments(parser)
    code = cli_score.run(parser.parse_args([
      {str(tmp_path / 'exp')!r}, '--workload-targets', {targets!r},
      '--output-dir', {str(tmp_path / 'out')!r}]))
    from scoring import cli_leaderboard, leaderboard, screenshot  # noqa
    from scoring import workload_targets
    workload_targets.load_targets('cpu_suite')  # The suites' facts.
    heavy = sorted(m for m in ('jax', 'jaxlib', 'flax', 'pandas')
                   if m in sys.modules)
    print('HEAVY', heavy, 'CODE', code)
  ''')
  done = subprocess.run([sys.executable, '-c', code], cwd=REPO,
                        capture_output=True, text=True, timeout=120,
                        check=False)
  assert done.returncode == 0, done.stderr
  assert 'HEAVY [] CODE 0' in done.stdout, done.stdout + done.stderr
