"""Leaderboard: a markdown table and one self-contained HTML page.

The page holds the scores, the per-workload times (misses and why marked),
the performance-profile plot and the training curves of each submission's
best trial per workload, all embedded (PNG as base64): one file to mail or
publish. Benchmark version, rules, ruleset and date are in its header.
"""

import base64
import html
import math

from scoring import outputs
from scoring import profiles
from scoring import time_to_target

_MARKS = {
  profiles.MISSED: ('miss', 'target missed'),
  profiles.NO_LOGS: ('none', 'no logs'),
  profiles.OVER_CUT: ('cut', '> 4x best'),
  profiles.HELD_OUT: ('held', 'held-out variant missed'),
  profiles.BASE_MISSED: ('held', 'base workload missed'),
}


def format_time(seconds: float, by_steps: bool = False) -> str:
  if math.isnan(seconds):
    return '-'
  if seconds == math.inf:
    return 'inf'
  if by_steps:
    return f'{seconds:,.0f} steps'
  if seconds < 120:
    return f'{seconds:.1f} s'
  if seconds < 2 * 3600:
    return f'{seconds / 60:.1f} min'
  return f'{seconds / 3600:.2f} h'


def best_trial_curves(result) -> dict:
  """workload -> submission -> (times, metric) of the best trial.

  The best trial reached the target in the least time over all studies;
  when none did, the one with the best metric value.
  """
  time_col = result.options.time_col
  curves = {}
  by_submission = time_to_target.group_trials(result.pool)
  for workload in result.targets.base_workloads:
    target = result.targets.workloads[workload]
    curves[workload] = {}
    for submission, by_workload in by_submission.items():
      trials = [t for ts in by_workload.get(workload, {}).values()
                for t in ts]
      best = _best_trial(trials, target, time_col)
      if best is not None:
        curves[workload][submission] = (best.columns[time_col], best.metric)
  return curves


def _best_trial(trials, target, time_col):
  reached = []
  for trial in trials:
    index = time_to_target.first_reaching_index(trial.metric, target)
    if index is not None:
      reached.append((trial.columns[time_col][index], trial.path, trial))
  if reached:
    return min(reached, key=lambda r: r[:2])[2]
  sign = 1 if target.direction == 'min' else -1
  scored = [(sign * v, t.path, t) for t in trials for v in t.metric
            if not math.isnan(v)]
  return min(scored, key=lambda r: r[:2])[2] if scored else None


def _cell(result, submission, workload):
  """(text, css class, title) of one per-workload time cell."""
  profile = result.profile
  by_steps = result.options.time_col == 'global_step'
  raw = profile.times[submission].get(workload, math.nan)
  status = profile.status[submission][workload]
  if status == profiles.OK:
    ratio = profile.ratios[submission].get(workload)  # None: a variant.
    if ratio is None:
      return format_time(raw, by_steps), 'ok', 'reached, within 4x'
    return (f'{format_time(raw, by_steps)}', 'best' if ratio == 1 else 'ok',
            f'{ratio:.2f}x the best')
  css, label = _MARKS[status]
  if status in (profiles.OVER_CUT, profiles.HELD_OUT,
                profiles.BASE_MISSED):
    return (f'{format_time(raw, by_steps)}', css, label)
  return (label, css, label)


def markdown(result) -> str:
  order = outputs.ranked(result)
  profile = result.profile
  lines = [
    (f'# Leaderboard (benchmark {result.targets.version_label}, '
     f'rules {result.rules}, {result.ruleset} tuning)'),
    '',
    (f'Scored {result.created} from `{result.root}`, by '
     f'`{result.options.time_col}`. Score = area under the performance '
     'profile on tau in [1, 4], divided by 3 (1.0 = fastest everywhere).'),
    '',
    (f'| rank | submission | score | interval | per study | speedup vs '
     f'{result.reference or "-"} |'),
    '|---:|---|---:|---:|---:|---:|',
  ]
  speedups = {r.submission: r for r in result.speedups}
  lines += [f'| {i} | {s} | {profile.scores[s]:.4f} | '
            f'{outputs.interval_text(result, s)} | '
            f'{outputs.per_study_text(result, s)} | '
            f'{speedup_cell(result, speedups.get(s), s)} |'
            for i, s in enumerate(order, start=1)]
  lines += ['', outputs.uncertainty_note(result)]
  if result.speedups:
    lines += ['', (f'Speedup over {outputs.reference_phrase(result)}: '
                   'geometric mean of the time ratios over the base '
                   'workloads both reached the target (how many, in '
                   'brackets); n/a where they reached none in common.')]
  lines += markdown_times(result, '## Time to target per workload',
                           profile.base_workloads)
  if profile.held_out:
    lines += markdown_times(result, '## Held-out variants (v0.5 rule)',
                             profile.held_out)
  lines += ['', ('Bold: fastest. Struck through: reached the target but '
                'does not count (over 4x the fastest, or its held-out '
                'variant / base workload missed).'), '']
  return '\n'.join(lines)


def markdown_times(result, title: str, workloads: list[str]) -> list[str]:
  """Lines of a markdown table of per-workload times (misses marked)."""
  lines = ['', title, '', '| submission | ' + ' | '.join(workloads) + ' |',
           '|---|' + '---:|' * len(workloads)]
  for s in outputs.ranked(result):
    cells = []
    for w in workloads:
      text, css, _ = _cell(result, s, w)
      text = f'**{text}**' if css == 'best' else text
      if css in ('cut', 'held'):
        text = f'~~{text}~~ ({_MARKS[result.profile.status[s][w]][1]})'
      cells.append(text)
    lines.append(f'| {s} | ' + ' | '.join(cells) + ' |')
  return lines


def _img(data: bytes, alt: str) -> str:
  encoded = base64.b64encode(data).decode('ascii')
  return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def _scores_table(result, colors) -> str:
  profile = result.profile
  speedups = {r.submission: r for r in result.speedups}
  rows = []
  for rank, s in enumerate(outputs.ranked(result), start=1):
    score = profile.scores[s]
    counted = sum(profile.status[s][w] == profiles.OK
                  for w in profile.base_workloads)
    speed_text = speedup_cell(result, speedups.get(s), s)
    rows.append(
      f'<tr><td class="num">{rank}</td>'
      f'<td><span class="dot" style="background:{colors[s]}"></span>'
      f'{html.escape(s)}</td>'
      f'<td><div class="score"><div class="bar"><div style="width:'
      f'{100 * score:.1f}%;background:{colors[s]}"></div></div>'
      f'<b>{score:.4f}</b></div></td>'
      f'<td class="num">{outputs.interval_text(result, s)}</td>'
      f'<td class="num">{outputs.per_study_text(result, s)}</td>'
      f'<td class="num">{counted} / {len(profile.base_workloads)}</td>'
      f'<td class="num">{speed_text}</td></tr>')
  reference = html.escape(result.reference or '-')
  note = (f'<p class="note">Speedup over '
          f'{html.escape(outputs.reference_phrase(result))}: geometric mean '
          'of the time ratios over the base workloads both reached the '
          'target (how many, in brackets); n/a where they reached none in '
          'common.</p>' if result.speedups else '')
  note += f'<p class="note">{html.escape(outputs.uncertainty_note(result))}</p>'
  return ('<table class="scores"><thead><tr><th>#</th><th>submission</th>'
          '<th>score</th><th class="num">interval</th>'
          '<th class="num">per study</th><th class="num">workloads counted'
          f'</th><th class="num">speedup vs {reference}</th></tr></thead>'
          '<tbody>' + ''.join(rows) + '</tbody></table>' + note)


def speedup_cell(result, row, name: str) -> str:
  """'0.49x (1 of 7)', 'n/a (none both reached)', 'reference' or '-'."""
  if name == result.reference:
    return 'reference'
  if row is None:
    return '-'
  if row.why_not:
    return 'n/a (none both reached)'
  return (f'{outputs.speedup_text(row)} ({len(row.per_workload)} of '
          f'{len(result.profile.base_workloads)})')


def _times_table(result, workloads: list[str]) -> str:
  # Let long workload names wrap at their underscores.
  head = ''.join(f'<th>{html.escape(w).replace("_", "_<wbr>")}</th>'
                 for w in workloads)
  rows = []
  for s in outputs.ranked(result):
    cells = ''.join(
      f'<td class="{css}" title="{html.escape(title)}">{html.escape(text)}'
      '</td>' for text, css, title in
      (_cell(result, s, w) for w in workloads))
    rows.append(f'<tr><th>{html.escape(s)}</th>{cells}</tr>')
  return (f'<div class="wide"><table class="times"><thead><tr><th></th>'
          f'{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


_LEGEND = (
  '<p class="legend"><span class="best">fastest</span> '
  '<span class="ok">counted</span> <span class="cut">over 4x the fastest'
  '</span> <span class="held">held-out variant / base missed</span> '
  '<span class="miss">target missed</span> <span class="none">no logs'
  '</span> &nbsp; Median over studies of the fastest trial per study; '
  'hover a cell for its ratio to the fastest.</p>')


def page(result, profile_png: bytes, curves_png: bytes | None,
         notice: str = '', held_out_note: str = '') -> str:
  """The whole HTML page as one string; ``notice``, when given, is shown
  above everything (a leaderboard still in progress says so), and
  ``held_out_note`` under the held-out table (why cells have no logs)."""
  from scoring import plots

  order = outputs.ranked(result)
  colors = plots.colors(order)
  version = html.escape(result.targets.version_label)
  chips = [f'benchmark {version}', f'rules {result.rules}',
           f'{result.ruleset} tuning',
           f'by {result.options.time_col}',
           f'scored {result.created[:10]}',
           f'{len(order)} submissions',
           f'{sum(map(len, result.pool.trials.values())):,} trials']
  chip_html = ''.join(f'<span class="chip">{html.escape(c)}</span>'
                      for c in chips)
  curves = (f'<section><h2>Training curves</h2><p class="note">Validation '
            'metric of each submission\'s best trial per workload (dashed: '
            f'target).</p>{_img(curves_png, "training curves")}</section>'
            if curves_png else '')
  held_out = ''
  if result.profile.held_out:
    held_out = ('<h3>Held-out variants (v0.5 rule)</h3><p class="note">A '
                'base workload counts only if the submission also reaches '
                'its held-out variant\'s target, within 4x of the fastest '
                'submission that reached the base.</p>'
                + _times_table(result, result.profile.held_out))
    if held_out_note:
      held_out += f'<p class="note">{html.escape(held_out_note)}</p>'
  notice_html = (f'<p class="notice"><strong>In progress.</strong> '
                 f'{html.escape(notice)}</p>' if notice else '')
  warnings = len(result.problems)
  footer = (f'{warnings} warning(s) while reading the logs; see '
            'scoring_info.json.' if warnings else 'No warnings.')
  return f'''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Leaderboard - benchmark {version}</title>
<style>{_CSS}</style></head>
<body><main>
<header><h1>Training-algorithm leaderboard</h1>
<div class="chips">{chip_html}</div>{notice_html}
<p class="note">Source: <code>{html.escape(result.root)}</code>. Score =
area under the performance profile on &tau; in [1, 4] divided by 3: 1.0
means fastest on every base workload.</p></header>
<section><h2>Scores</h2>{_scores_table(result, colors)}</section>
<section><h2>Performance profiles</h2>
{_img(profile_png, "performance profiles")}</section>
<section><h2>Time to target per workload</h2>
{_times_table(result, result.profile.base_workloads)}
{_LEGEND}{held_out}</section>
{curves}
<footer>{html.escape(footer)} Generated by algoperf-bench scoring.
</footer></main></body></html>
'''


_CSS = '''
:root { --ink:#1d2433; --muted:#5b6475; --line:#e3e7ee; --bg:#f6f7fb; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:15px/1.5 "Inter","Segoe UI","Helvetica Neue",Arial,sans-serif; }
main { max-width:1180px; margin:0 auto; padding:28px 28px 40px; }
header h1 { margin:0 0 10px; font-size:28px; letter-spacing:-0.02em; }
h2 { font-size:18px; margin:0 0 12px; }
h3 { font-size:15px; margin:22px 0 4px; }
section { background:#fff; border:1px solid var(--line); border-radius:12px;
  padding:18px 20px; margin:18px 0; box-shadow:0 1px 2px rgba(0,0,0,.04); }
.chips { display:flex; flex-wrap:wrap; gap:8px; }
.chip { background:#e8eefc; color:#1f3f8f; border-radius:999px;
  padding:3px 12px; font-size:13px; font-weight:600; }
.note, .legend, footer { color:var(--muted); font-size:13px; }
.notice { background:#fff4e0; border:1px solid #f0c36d; border-radius:8px;
  padding:8px 12px; margin:12px 0 0; }
img { max-width:100%; display:block; margin:0 auto; }
table { border-collapse:collapse; width:100%; }
th, td { padding:7px 10px; border-bottom:1px solid var(--line);
  text-align:left; white-space:nowrap; }
thead th { font-size:12px; text-transform:uppercase; letter-spacing:.04em;
  color:var(--muted); }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
.scores div.score { display:flex; align-items:center; gap:10px; }
th.num { text-align:right; }
.bar { flex:1; height:10px; background:#eef1f6; border-radius:5px;
  overflow:hidden; min-width:160px; }
.bar div { height:100%; border-radius:5px; }
.dot { display:inline-block; width:10px; height:10px; border-radius:50%;
  margin-right:8px; }
.wide { overflow-x:auto; }
.times th, .times td { padding:7px 6px; }
.times td { text-align:center; font-variant-numeric:tabular-nums;
  font-size:13px; }
.times thead th { text-align:center; white-space:normal; min-width:70px;
  text-transform:none; font-size:12px; }
.best { background:#d9f2e3; font-weight:700; color:#14532d; }
.ok { background:#f3f8f4; }
.cut, .held { background:#fff4d6; color:#7a5a00; text-decoration:line-through; }
.miss { background:#fde2e1; color:#9b1c1c; }
.none { background:#eceff3; color:#6b7280; }
.legend span { display:inline-block; padding:1px 8px; border-radius:6px;
  margin-right:4px; }
footer { margin-top:10px; }
'''


def write(result, output_dir: str, with_curves: bool = True) -> list[str]:
  """Writes leaderboard.md and leaderboard.html; returns their paths."""
  import os

  from scoring import plots

  order = outputs.ranked(result)
  profile_png = plots.profile_figure(result, order, formats=('png',),
                                     dpi=130)['png']
  curves_png = (plots.curves_figure(result, best_trial_curves(result), order)
                if with_curves else None)
  md_path = os.path.join(output_dir, 'leaderboard.md')
  html_path = os.path.join(output_dir, 'leaderboard.html')
  outputs.write_atomic(md_path, markdown(result))
  outputs.write_atomic(html_path, page(result, profile_png, curves_png))
  return [md_path, html_path]
