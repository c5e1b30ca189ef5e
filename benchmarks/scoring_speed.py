"""How fast `algoperf score` scores the published v0.5 pool (1,438 logs).

Prints, over --repeats runs (median and best), wall time from process start:
  * to scores.csv written, without plots (goal: under 1 s);
  * to the process exit, without plots;
  * to the process exit, with the PNG/PDF plots (goal: under 2.5 s);
and, measured in the same command as baselines: a bare Python start, and
pandas.read_csv over the same files (how AlgoPerf's own scoring reads them,
before any scoring). The load average is printed: other processes on the
machine inflate wall times; the CPU times (user + sys of the scoring
process) are what a quiet machine's wall time approaches.

  .venv/bin/python benchmarks/scoring_speed.py [--pool DIR] [--repeats 5]
"""

import argparse
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_POOL = pathlib.Path(os.environ.get(
  'ALGOPERF_REFERENCE_DIR', REPO.parent / 'shared' / 'reference')
) / 'algoperf_v05_external_pool4' / 'logs'


def _child_cpu() -> float:
  usage = resource.getrusage(resource.RUSAGE_CHILDREN)
  return usage.ru_utime + usage.ru_stime


def _score_once(pool: pathlib.Path, plots: bool) -> tuple[float, ...]:
  """Of one `algoperf score` process: (s to scores.csv, s to exit, CPU s,
  CPU s to scores.csv)."""
  with tempfile.TemporaryDirectory() as out:
    command = [sys.executable, '-m', 'algoperf.cli', 'score', str(pool),
               '--workload-targets', 'algoperf_v05', '--output-dir', out]
    if not plots:
      command.append('--no-plots')
    cpu = _child_cpu()
    start_wall = time.time()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, check=True, capture_output=True,
                          text=True, env={**os.environ,
                                          'ALGOPERF_SCORING_TIMING': '1'})
    total = time.perf_counter() - start
    to_scores = os.stat(os.path.join(out, 'scores.csv')).st_mtime - start_wall
  cpu_to_scores = float(done.stderr.split('timing: scores.csv written at ')[1]
                        .split()[0])
  return to_scores, total, _child_cpu() - cpu, cpu_to_scores


def _python_start() -> float:
  start = time.perf_counter()
  subprocess.run([sys.executable, '-c', 'pass'], check=True)
  return time.perf_counter() - start


def _pandas_read(pool: pathlib.Path) -> float:
  code = ('import pathlib, pandas\n'
          f'for p in pathlib.Path({str(pool)!r}).rglob('
          '"eval_measurements.csv"): pandas.read_csv(p)\n')
  start = time.perf_counter()
  subprocess.run([sys.executable, '-c', code], check=True)
  return time.perf_counter() - start


def _line(label: str, values: list[float], goal: float | None = None) -> str:
  median, best = statistics.median(values), min(values)
  verdict = ''
  if goal is not None:
    verdict = f'  goal < {goal:g} s: {"met" if median < goal else "MISSED"}'
  return f'{label:<42} median {median:6.3f} s   best {best:6.3f} s{verdict}'


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--pool', type=pathlib.Path, default=DEFAULT_POOL)
  parser.add_argument('--repeats', type=int, default=5)
  args = parser.parse_args()
  if not args.pool.is_dir():
    print(f'Pool not found at {args.pool}; pass --pool or set '
          'ALGOPERF_REFERENCE_DIR.', file=sys.stderr)
    return 2
  n_logs = sum(1 for _ in args.pool.rglob('eval_measurements.csv'))
  _score_once(args.pool, plots=False)  # warm the page cache
  no_plots = [_score_once(args.pool, plots=False)
              for _ in range(args.repeats)]
  with_plots = [_score_once(args.pool, plots=True)
                for _ in range(args.repeats)]
  bare = [_python_start() for _ in range(args.repeats)]
  pandas_read = [_pandas_read(args.pool) for _ in range(max(1, args.repeats
                                                                // 2))]
  load = ', '.join(f'{x:.2f}' for x in os.getloadavg())
  print(f'Scoring {n_logs} logs in {args.pool} ({os.cpu_count()} CPUs, '
        f'load average {load})')
  print(_line('start -> scores.csv (no plots)', [r[0] for r in no_plots],
              1.0))
  print(_line('start -> exit (no plots, all files)',
              [r[1] for r in no_plots]))
  print(_line('start -> exit (with PNG + PDF plots)',
              [r[1] for r in with_plots], 2.5))
  print(_line('CPU time, start -> scores.csv', [r[3] for r in no_plots]))
  print(_line('CPU time, whole run, no plots', [r[2] for r in no_plots]))
  print(_line('CPU time, whole run, with plots', [r[2] for r in with_plots]))
  print(_line('baseline: bare python start', bare))
  print(_line('baseline: pandas.read_csv of every log', pandas_read))
  ratio = statistics.median(pandas_read) / statistics.median(
    [r[0] for r in no_plots])
  print(f'scores.csv is ready {ratio:.1f}x faster than pandas alone reads '
        'the logs.')
  return 0


if __name__ == '__main__':
  sys.exit(main())
