"""`page`: the leaderboard, generated from the packed logs only.

Scores the logs twice with the scoring package (by time: the ``score``
column; by steps: ``global_step``), under the self-tuning ruleset and v0.5
rules with the held-out variants of the run's targets snapshot (beside the
logs, with the run record), and writes into the output directory:

  README.md                      scores by time and steps, per-workload
                                 tables, held-out trials skipped, trial
                                 outcomes, targets, hardware, software
  index.html / steps.html        the HTML leaderboard by time / by steps
  performance_profile.png        profiles by time (_steps.png: by steps)
  screenshot.png                 index.html in headless Chromium
  time/, steps/                  scores.csv, time_to_targets.csv,
                                 performance_profile.csv, speedups.csv,
                                 per-algorithm summaries, scoring_info.json

Dates, hardware and versions come from the run record in the logs, never
from the machine regenerating the page, so regenerating changes nothing
but the screenshot's pixels.
"""

import dataclasses
import os
import pathlib

from algoperf import records
from algoperf.reference_leaderboard import run_info
from algoperf.reference_leaderboard.run_info import LeaderboardError
from scoring import leaderboard
from scoring import outputs
from scoring import pipeline
from scoring import plots
from scoring.reference_leaderboard import readme
from scoring.reference_leaderboard import transfer

# Where the protocol's run summaries are (the transfer check's seeds).
REPO = pathlib.Path(__file__).resolve().parents[2]
REFERENCE = 'nadamw'  # AlgoPerf's baseline; speedups are relative to it.
BY = {'score': 'time', 'global_step': 'steps'}
SCREENSHOT_WIDTH = 1280


def score(logs: pathlib.Path, out_dir: pathlib.Path, info: dict,
          time_col: str):
  """Scores the packed logs; paths and dates in the result are stable."""
  targets = run_info.record_path(logs, run_info.TARGETS_FILE)
  if not targets.exists():
    raise LeaderboardError(f'{targets} not found; `pack` copies it beside '
                           'the logs from the experiment directory `run` '
                           'wrote.')
  options = pipeline.ScoreOptions(
    targets=str(targets), ruleset=info['ruleset'], rules=info['rules'],
    time_col=time_col, expected_studies=info['num_studies'],
    reference_submission=REFERENCE if (logs / REFERENCE).is_dir() else None)
  result = pipeline.score_experiments(_display(logs), options)
  # As the page shows them: relative to it, dated by the logs.
  result.root = os.path.relpath(logs, out_dir)
  source = os.path.relpath(targets, out_dir)
  result.targets = dataclasses.replace(result.targets, source=source)
  result.options = dataclasses.replace(result.options, targets=source)
  result.targets_how = f'{source} (the targets the trials ran against)'
  result.created = run_info.last_update(info)
  return result


def _display(path: pathlib.Path) -> str:
  """``path`` relative to the working directory when it is below it."""
  relative = os.path.relpath(path)
  return path.as_posix() if relative.startswith('..') else relative


def trial_outcomes(logs: pathlib.Path) -> dict[str, dict[str, int]]:
  """algorithm -> status -> number of trials (from status.json)."""
  counts = {}
  for path in sorted(logs.glob('*/study_*/*_jax/trial_*/' + records.STATUS)):
    algorithm = path.relative_to(logs).parts[0]
    status = records.read_json(path).get('status', 'unknown')
    by_status = counts.setdefault(algorithm, {})
    by_status[status] = by_status.get(status, 0) + 1
  return counts


def page(logs_dir, out_dir, screenshot: bool = True,
         out=print, display_dir=None) -> list[pathlib.Path]:
  """Writes the page (see the module docstring); returns the files.

  ``display_dir``: where the page is meant to live, if not ``out_dir``
  (paths in it are relative to that; ``stale_files`` writes elsewhere).
  """
  logs = pathlib.Path(logs_dir)
  out_dir = pathlib.Path(out_dir)
  info = run_info.read(logs)
  shown = pathlib.Path(display_dir) if display_dir else out_dir
  results = {by: score(logs, shown, info, col) for col, by in BY.items()}
  outcomes = trial_outcomes(logs)
  notice = readme.in_progress(results['time'], info, outcomes)
  out_dir.mkdir(parents=True, exist_ok=True)
  written = []
  held_out_note = readme.not_run_note(info)
  for by, result in results.items():
    written += _write_scoring(result, out_dir, by, notice, held_out_note)
  if screenshot:
    written += _screenshot(out_dir / 'index.html', out_dir / 'screenshot.png',
                           _page_height(results['time']), out)
  targets = records.read_json(run_info.record_path(logs,
                                                    run_info.TARGETS_FILE))
  text = readme.render(results, info, outcomes, targets,
                       has_screenshot=(shown / 'screenshot.png').exists(),
                       transfer_check=transfer.check(results['time'], REPO),
                       location=_location(shown))
  written.append(out_dir / 'README.md')
  outputs.write_atomic(str(written[-1]), text)
  for line in results['time'].problems.summary_lines():
    out(line)
  if info.get('held_out_skips'):
    out(f'({len(info["held_out_skips"])} held-out trials were not run on '
        'purpose (see README.md): their workloads have fewer logs.)')
  out(f'Wrote {len(written)} files to {out_dir}.')
  return written


def _location(shown: pathlib.Path) -> str:
  """The page's folder as a repository path; the default one for a page
  outside the repository (its commands then read as `pack`'s and `page`'s
  defaults)."""
  try:
    return shown.resolve().relative_to(REPO).as_posix()
  except ValueError:
    return run_info.DEFAULT_LOCATION


# What --check compares: the text files `page` writes, which the logs
# determine: its README and each BY folder's tables (not the images, which
# embed the plotting library's rendering, nor an earlier version's page kept
# in a folder below).
CHECKED = ('README.md', *(f'{by}/*.{ext}' for by in BY.values()
                          for ext in ('csv', 'json')))


def stale_files(logs_dir, out_dir) -> list[str]:
  """The checked files of ``out_dir`` that regenerating from ``logs_dir``
  changes (missing ones included), relative to ``out_dir``."""
  import tempfile

  out_dir = pathlib.Path(out_dir)
  with tempfile.TemporaryDirectory() as tmp:
    fresh = pathlib.Path(tmp) / out_dir.name
    page(logs_dir, fresh, screenshot=False, out=lambda *_: None,
         display_dir=out_dir)
    names = sorted({p.relative_to(root).as_posix()
                    for root in (fresh, out_dir) for pattern in CHECKED
                    for p in root.glob(pattern)})
    return [n for n in names
            if not (out_dir / n).is_file() or not (fresh / n).is_file()
            or (out_dir / n).read_bytes() != (fresh / n).read_bytes()]


def _write_scoring(result, out_dir: pathlib.Path, by: str, notice: str,
                   held_out_note: str):
  """CSVs in out_dir/<by>/, the profile PNG and the HTML page."""
  directory = out_dir / by
  outputs.make_output_dir(str(directory))
  paths = [outputs.write_scores(result, str(directory))]
  paths += outputs.write_tables(result, str(directory))
  paths += outputs.write_summaries(result, str(directory))
  order = outputs.ranked(result)
  suffix = '' if by == 'time' else f'_{by}'
  profile = out_dir / f'performance_profile{suffix}.png'
  outputs.write_bytes_atomic(str(profile), plots.profile_figure(
    result, order, formats=('png',))['png'])
  inline = plots.profile_figure(result, order, formats=('png',), dpi=130)
  curves = plots.curves_figure(result, leaderboard.best_trial_curves(result),
                               order)
  html = out_dir / ('index.html' if by == 'time' else f'{by}.html')
  outputs.write_atomic(str(html), leaderboard.page(
    result, inline['png'], curves, notice=notice,
    held_out_note=held_out_note))
  return [pathlib.Path(p) for p in paths] + [profile, html]


def _page_height(result) -> int:
  """Pixels that fit index.html: Chromium shoots the window, not the page."""
  rows = -(-len(result.profile.base_workloads) // (
    4 if len(result.profile.base_workloads) > 6 else 3))
  return 1400 + 140 * len(result.profile.submissions) + 330 * rows


def _screenshot(html: pathlib.Path, png: pathlib.Path, height: int,
                out) -> list:
  from scoring import screenshot

  if screenshot.find_chromium() is None:
    out(f'warning: no Chromium found; {png} not regenerated (install it, '
        'e.g. `apt-get install -y chromium`, or set $CHROMIUM).')
    return []
  screenshot.screenshot(str(html), str(png), SCREENSHOT_WIDTH, height)
  return [png]
