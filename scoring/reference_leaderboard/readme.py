"""The leaderboard's README.md, from scoring results and the run record."""

from algoperf import records
from algoperf.reference_leaderboard import held_out
from algoperf.reference_leaderboard import run_info
from scoring import leaderboard
from scoring import outputs
from scoring import profiles
from scoring.official_layout import OFFICIAL_COMMIT
from scoring.official_layout import OFFICIAL_REPOSITORY
from scoring.reference_leaderboard import transfer

COMMAND = '.venv/bin/python scripts/cpu_leaderboard.py'
PACKAGES = ('jax', 'jaxlib', 'flax', 'optax', 'numpy')


def render(results: dict, info: dict, outcomes: dict, targets: dict,
           has_screenshot: bool = True, transfer_check=None,
           location: str = run_info.DEFAULT_LOCATION) -> str:
  """The whole page.

  Args:
    results: 'time' and 'steps' -> ScoringResult of the same logs.
    info: the run record (``run_info``).
    outcomes: algorithm -> trial status -> count.
    targets: the targets snapshot (workload_targets JSON) the trials ran
      against.
    has_screenshot: link screenshot.png.
    transfer_check: ``transfer.check`` of the logs (None: no such section,
      the logs have no trials of AlgoPerf's configuration).
    location: the page's folder in the repository, as its commands name it.
  """
  sections = [_header(results['time'], info, outcomes, has_screenshot,
                      location),
              _scores(results), _times(results), _held_out(results, info)]
  if transfer_check is not None:
    sections.append('\n'.join(transfer.markdown(transfer_check)))
  sections += [_outcomes(outcomes),
              _targets(targets, results['time'].targets.source),
              _machine(info),
              _reproduce(info, location)]
  return '\n\n'.join(s.strip('\n') for s in sections) + '\n'


def _plural(n: int, one: str, many: str) -> str:
  return f'{n} {one if n == 1 else many}'


def page_command(location: str, verb: str = 'page') -> str:
  """`pack` or `page` for the leaderboard in ``location``."""
  if location == run_info.DEFAULT_LOCATION:
    return f'{COMMAND} {verb}'
  if verb == 'pack':
    return f'{COMMAND} pack --logs {location}/logs'
  return f'{COMMAND} page --logs {location}/logs --out {location}'


def _header(result, info, outcomes, has_screenshot, location) -> str:
  trials = sum(map(len, result.pool.trials.values()))
  first, last = _dates(info)
  studies = _plural(info['num_studies'], 'study', 'studies')
  ran = {name: len({t.study for t in trials})
         for name, trials in sorted(result.pool.trials.items())}
  if any(n < info['num_studies'] for n in ran.values()):
    studies += (' planned (studies with logs: ' + ', '.join(
      f'{name} {n}' for name, n in ran.items()) + '; a missing study '
      'leaves the median over those present)')
  summary = (
    f'Benchmark {result.targets.version_label}, self-tuning ruleset (one '
    'trial per study, hyperparameters=None, 3x each workload\'s time '
    f'budget), {studies} per workload, {_plural(trials, "trial", "trials")} '
    f'run {first} to {last} (UTC), one at a time. Scored with AlgoPerf '
    f'{info["rules"]} rules: median over studies, 4x cut, held-out variants '
    '(below); score = area under the performance profile on tau in [1, 4] '
    'divided by 3.')
  source = ('Everything here is generated from the logs in [logs/](logs/) '
            f'by `{page_command(location)}` (no training; see '
            '[Reproduce](#reproduce)).')
  lines = ['# CPU-suite leaderboard of the reference algorithms', '',
           summary, '', source]
  notice = in_progress(result, info, outcomes)
  if notice:
    lines += ['', f'> **In progress.** {notice} `run` continues where these '
              'logs stop ([Reproduce](#reproduce)).']
  if info.get('max_steps') or info.get('synthetic_data'):
    lines += ['', (f'> **Smoke run** (max_steps={info.get("max_steps")}, '
                   f'synthetic_data={info.get("synthetic_data")}): these '
                   'numbers say nothing about the algorithms.')]
  pages = ('HTML leaderboard: [index.html](index.html) (by time), '
           '[steps.html](steps.html) (by steps)')
  if has_screenshot:
    pages += '; [screenshot](screenshot.png)'
  return '\n'.join(lines + ['', pages + '.'])


def in_progress(result, info, outcomes) -> str:
  """What the run record plans that the logs lack, and what that does to
  the scores; empty when the leaderboard is complete. The page's README and
  HTML both say it, at the top: a page packed between sittings of a long
  run must not read as final."""
  pending = _not_yet_run(result, info, outcomes)
  if not pending:
    return ''
  return ('Not yet run: ' + '; '.join(pending) + '. A workload without logs '
          '(a base, or a held-out variant, which strikes its base) counts as '
          'missed and a missing study leaves the median over those present, '
          'so every score and rank here is provisional.')


def _not_yet_run(result, info, outcomes) -> list[str]:
  """Algorithms without logs; per algorithm the studies or base workloads
  missing, and trials that have not finished. Held-out variants skipped on
  purpose are not counted: the run planned them away (held-out section)."""
  bases = result.profile.base_workloads
  planned = [f'study_{i}' for i in range(info['num_studies'])]
  pending = []
  for name in info['algorithms']:
    trials = result.pool.trials.get(name, [])
    if not trials:
      pending.append(f'{name} (no logs)')
      continue
    ran = {(t.study, t.workload) for t in trials}
    missing = []
    for study in planned:
      lacking = [w for w in bases if (study, w) not in ran]
      if len(lacking) == len(bases):
        missing.append(f'{study} (none of it)')
      elif lacking:
        missing.append(f'{study} ({", ".join(lacking)})')
    undecided = _undecided_variants(result, info, name, ran)
    if undecided:
      missing.append(_plural(undecided, 'held-out variant trial',
                             'held-out variant trials') + ' neither run '
                     'nor skipped')
    unfinished = sum(n for status, n in outcomes.get(name, {}).items()
                     if status not in records.FINISHED)
    if unfinished:
      missing.append(_plural(unfinished, 'unfinished trial',
                             'unfinished trials'))
    if missing:
      pending.append(f'{name}: {", ".join(missing)}')
  return pending


def _undecided_variants(result, info, name, ran) -> int:
  """Held-out variant trials of ``name`` whose base ran in that study but
  which have no logs and no recorded skip. The run decides a variant only
  after the other studies' base trials (held-out section) and records its
  decisions after each round, so a sitting stopped before a round ends (or
  run by a version that recorded them only at the end) leaves these open;
  a recorded 'wait' is still open."""
  skipped = {(f'study_{s["study"]}', s['workload'])
             for s in info.get('held_out_skips') or []
             if s['algorithm'] == name and s['action'] == held_out.SKIP}
  studies = {study for study, _ in ran}
  return sum(
    1 for study in studies for variant in result.profile.held_out
    if (study, result.targets.base_of(variant)) in ran
    and (study, variant) not in ran and (study, variant) not in skipped)


def _dates(info) -> tuple[str, str]:
  sessions = info['sessions']
  first = min(s['started'] for s in sessions)
  last = run_info.last_update(info)
  return first.replace('T', ' ')[:16], last.replace('T', ' ')[:16]


def _scores(results) -> str:
  by_time, by_steps = results['time'], results['steps']
  profile = by_time.profile
  speedups = {r.submission: r for r in by_time.speedups}
  bases = profile.base_workloads
  header = ('| rank | algorithm | score by time | interval (time) | per '
            'study (time) | score by steps | base workloads counted (time) '
            f'| speedup vs {by_time.reference or "-"} (time) |')
  lines = ['## Scores', '', header,
           '|---:|---|---:|---:|---:|---:|---:|---:|']
  for rank, name in enumerate(outputs.ranked(by_time), start=1):
    counted = sum(profile.status[name][w] == profiles.OK for w in bases)
    speedup = leaderboard.speedup_cell(by_time, speedups.get(name), name)
    lines.append(f'| {rank} | {name} | {profile.scores[name]:.4f} | '
                 f'{outputs.interval_text(by_time, name)} | '
                 f'{outputs.per_study_text(by_time, name)} | '
                 f'{by_steps.profile.scores[name]:.4f} | {counted} / '
                 f'{len(bases)} | {speedup} |')
  note = ('By steps, time-to-target is the `global_step` of the first eval '
          'that meets the target, and the profiles compare steps. Speedup '
          f'over {outputs.reference_phrase(by_time)}: geometric mean of '
          'the time ratios over the base workloads both reached the target '
          '(how many, in brackets); n/a where they reached none in common. '
          "time/speedups.csv also has AlgoPerf's ratio over every base "
          'workload, a miss counting as 3x the time budget + 1 s '
          '(self-tuning); steps/speedups.csv the same by steps.')
  lines += ['', note, '', outputs.uncertainty_note(by_time)
            + ' time/score_uncertainty.csv has the numbers; steps/ the '
            'same by steps.', '',
            '![performance profiles by time](performance_profile.png)', '',
            '![performance profiles by steps](performance_profile_steps.png)']
  return '\n'.join(lines)


def _times(results) -> str:
  lines = []
  for by, result in results.items():
    unit = 'Time' if by == 'time' else 'Steps'
    lines += leaderboard.markdown_times(
      result, f'## {unit} to target per workload (median over studies)',
      result.profile.base_workloads)
  lines += ['', ('Bold: fastest. Struck through: reached, but does not '
                 'count (over 4x the fastest, or the held-out variant '
                 'missed).')]
  return '\n'.join(lines)


# Why `run` does not run a held-out variant trial (held_out.decide), as
# both the README and the HTML say it.
_SKIP_RULE = ('A variant trial is not run when its base workload missed the '
              'target in at least half of the studies: the base\'s median '
              'is then infinite, and the variant cannot change any score.')


def not_run_note(info) -> str:
  """Why held-out cells read 'no logs', for the HTML page; '' if none."""
  actions = [s['action'] for s in info.get('held_out_skips') or []]
  skipped, waiting = actions.count(held_out.SKIP), actions.count(
    held_out.WAIT)
  if not skipped and not waiting:
    return ''
  parts = []
  if skipped:
    parts.append(f'{skipped} held-out variant trial'
                 f'{"s were" if skipped != 1 else " was"} not run on purpose')
  if waiting:
    parts.append(f'{waiting} wait{"s" if waiting == 1 else ""} for base '
                 'trials still to run')
  return (f'"no logs" above: {"; ".join(parts)}. {_SKIP_RULE} README.md '
          'lists each with its reason.')


def _held_out(results, info) -> str:
  result = results['time']
  variants = result.profile.held_out
  pairs = ', '.join(f'{result.targets.base_of(v)} -> {v}' for v in variants)
  rule = ('Each base workload has one held-out variant; a base workload '
          'counts only if the algorithm also reaches the variant\'s target '
          '(median over studies, within 4x of the fastest algorithm that '
          f'reached the base). Variants: {pairs}.')
  lines = ['## Held-out variants (v0.5 rule)', '', rule]
  lines += leaderboard.markdown_times(result, '### Time to target',
                                      variants)
  skips = info.get('held_out_skips') or []
  why = (f'{_SKIP_RULE} (A base miss in one study alone is not enough: '
         'the median may still be finite.)')
  lines += ['', f'### Held-out trials not run ({len(skips)})', '', why]
  if skips:
    lines += ['', '| algorithm | study | variant | why |',
              '|---|---:|---|---|']
    lines += [f'| {s["algorithm"]} | {s["study"]} | {s["workload"]} | '
              f'{s["action"]}: {s["reason"]} |' for s in skips]
  return '\n'.join(lines)


def _section(title: str, intro: str, columns: list, rows: list) -> str:
  """'## title', ``intro`` and a table; a column ending in ':' aligns right."""
  lines = [f'## {title}', ''] + ([intro, ''] if intro else [])
  lines += ['| ' + ' | '.join(c.removesuffix(':') for c in columns) + ' |',
            '|' + ''.join('---:|' if c.endswith(':') else '---|'
                          for c in columns)]
  return '\n'.join(lines + ['| ' + ' | '.join(map(str, row)) + ' |'
                            for row in rows])


def _outcomes(outcomes) -> str:
  statuses = sorted({s for by in outcomes.values() for s in by})
  if not statuses:
    return '## Trial outcomes\n\nNo status.json files in the logs.'
  return _section('Trial outcomes', '', ['algorithm'] + [
    f'{s}:' for s in statuses], [[name] + [by.get(s, 0) for s in statuses]
                                 for name, by in sorted(outcomes.items())])


def _targets(targets, source: str) -> str:
  rows = []
  for name in targets['base_workloads'] + targets['held_out_workloads']:
    w = targets['workloads'][name]
    rows.append([name, f'{w["target_metric_name"]} ({w["metric_direction"]})',
                 w['validation_target_value'], w['max_allowed_runtime_sec'],
                 w['step_hint'],
                 'yes' if w.get('targets_are_provisional') else 'no'])
  return _section(
    'Targets', f'As the trials ran against them (`{source}`).',
    ['workload', 'metric', 'validation target:',
     'time budget (s; x3 self-tuning):', 'step hint:', 'provisional'], rows)


def _machine(info) -> str:
  rows = []
  for session in info['sessions']:
    m = session['machine']
    dirty = ' (modified)' if m.get('git_dirty') else ''
    rows.append([session['started'].replace('T', ' ')[:16], m['cpu_model'],
                 f'{m["logical_cpus"]} ({m["usable_cpus"]})',
                 f'{m["memory_gib"]} GiB',
                 *(m['packages'].get(p) for p in PACKAGES), m['python'],
                 m['git_commit'][:10] + dirty])
  return _section(
    'Hardware and software', 'Recorded by `run` on the machine that trained, '
    'one row per invocation that ran trials.',
    ['started (UTC)', 'CPU', 'cores (usable):', 'memory:', *PACKAGES,
     'python', 'git commit'], rows)


def _reproduce(info, location: str = run_info.DEFAULT_LOCATION) -> str:
  forgotten = info.get('forgotten') or []
  # `forget` set trials aside between runs: the order of the two matters.
  events = sorted([(s['started'], s['command']) for s in info['sessions']]
                  + [(f['when'], f['command']) for f in forgotten])
  commands = '\n'.join(f'    {command}' for _, command in events)
  lines = [
    '## Reproduce', '',
    ('Regenerate this directory from the committed logs (seconds, no '
     'training; the screenshot needs Chromium):'), '',
    f'    {page_command(location)}', '',
    ('The logs came from these invocations (a rerun skips finished '
     'trials), then `pack` copied the files scoring needs into logs/:'),
    '', commands, f'    {page_command(location, "pack")}']
  for f in forgotten:
    lines += ['', (f'`forget` ({f["when"].replace("T", " ")[:16]} UTC) set '
                   f'aside {f["trials"]} trial(s) of '
                   f'{", ".join(f["workloads"])} after their targets were '
                   're-set; the runs after it trained them again, and only '
                   'those are in logs/.')]
  lines += ['', _official_scoring(location)]
  return '\n'.join(lines)


def _official_scoring(location: str = run_info.DEFAULT_LOCATION) -> str:
  targets = '/tmp/leaderboard_targets.json'
  return '\n'.join([
    ('AlgoPerf\'s own scoring code (`scoring/score_submissions.py` of '
     f'{OFFICIAL_REPOSITORY} at {OFFICIAL_COMMIT[:10]}) reads these logs '
     'unmodified, given the targets in its format; a held-out variant that '
     'no algorithm ran is left out of them (it could not change a score, '
     'and that code needs logs of every workload listed). '
     '`scripts/official_scoring.py` runs it and sets its scores and times '
     'beside ours:'), '',
    f'    .venv/bin/algoperf targets export --logs {location}/logs '
    f'--from {location}/workload_targets.json -o {targets}',
    f'    .venv/bin/python scripts/official_scoring.py {location}/logs '
    f'--workload-targets {targets} --official PATH/TO/submissions_algorithms '
    '--python PYTHON_WITH_ITS_DEPENDENCIES'])
