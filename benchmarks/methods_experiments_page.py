"""Issue 22's sections of docs/experiments.md, from the committed summaries.

  .venv/bin/python benchmarks/methods_experiments_page.py \
      --suite-version cpu-0.3

Reads ``docs/experiments/issue22/<version>/<section>.json`` only (no JAX,
no training) and rewrites the generated block of each section, between
``<!-- issue22:<section> -->`` and ``<!-- /issue22:<section> -->``; the
prose around the blocks is written by hand. A section without a summary
keeps its block. ``--check`` exits 1 when the page differs from what the
summaries give.
"""

import argparse
import json
import math
import pathlib
import re
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = ROOT / 'docs' / 'experiments.md'
SECTIONS = ('adaptive_batch', 'ghost_bn', 'pbt')


def _fmt(value, digits=4):
  if value is None or (isinstance(value, float) and math.isnan(value)):
    return '-'
  if isinstance(value, float):
    return f'{value:.{digits}g}'
  return str(value)


def _spread(values, digits=3):
  """median [min, max] (n) of the values that exist."""
  values = [v for v in values if v is not None and not (
    isinstance(v, float) and math.isnan(v))]
  if not values:
    return '-'
  return (f'{_fmt(statistics.median(values), digits)} '
          f'[{_fmt(min(values), digits)}, {_fmt(max(values), digits)}]')


def _by_arm(trials):
  arms = {}
  for t in trials:
    arms.setdefault(t['arm'], []).append(t)
  return arms


def _loads(trials):
  loads = [x for t in trials for x in t['load_average']]
  return f'{min(loads):.1f}-{max(loads):.1f}' if loads else '-'


def _arm_table(trials, extra=()):
  head = ['arm', 'seeds', 'reached target', 'best val: median [min, max]',
          'steps', 'submission s', 'time to target s (reached)',
          'compiled / loaded on the clock', 'contended']
  head += [name for name, _ in extra]
  lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
  for arm, rows in _by_arm(trials).items():
    reached = [r for r in rows if r['steps_to_target'] is not None]
    cells = [arm, str(len(rows)), f'{len(reached)}/{len(rows)}',
             _spread([r['best_val'] for r in rows]),
             _spread([r['global_step'] for r in rows]),
             _spread([r['submission_s'] for r in rows]),
             _spread([r['time_to_target_s'] for r in reached]),
             f'{sum(r["compiled_on_clock"] for r in rows)} / '
             f'{sum(r["loaded_on_clock"] for r in rows)}',
             f'{sum(bool(r["contended"]) for r in rows)}/{len(rows)}']
    cells += [fn(rows) for _, fn in extra]
    lines.append('| ' + ' | '.join(cells) + ' |')
  return lines


def adaptive_batch(summary):
  trials = summary['trials']
  lines = _arm_table(trials, extra=[
    ('examples seen', lambda rows: _spread([r.get('examples')
                                            for r in rows]))])
  lines += ['', 'Effective batch (`K x 16`) over each adaptive run, as '
            '`step:size` where it changed (from `grad_norms.csv`), and the '
            'median norm-test statistic T at each size:', '']
  for t in trials:
    if t['arm'].endswith('_adaptive'):
      changes = ', '.join(f'{s}:{b}' for s, b in t.get('batch_changes', []))
      medians = ', '.join(f'{k}: {_fmt(v, 3)}' for k, v in sorted(
        t.get('statistic_median_by_batch', {}).items(), key=lambda kv:
        int(kv[0])))
      lines.append(f'- study {t["study"]}: {changes}; T {medians}')
  lines += ['', f'Load average over these trials: {_loads(trials)}.']
  return lines


def ghost_bn(summary):
  trials = summary['trials']
  lines = _arm_table(trials)
  lines += ['', 'Validation accuracy per seed at the last eval (step 60):',
            '']
  for arm, rows in _by_arm(trials).items():
    finals = ', '.join(_fmt(r['curve'][-1][1] if r['curve'] else None)
                       for r in sorted(rows, key=lambda r: r['study']))
    lines.append(f'- {arm}: {finals}')
  lines += ['', f'Load average over these trials: {_loads(trials)}.']
  return lines


def pbt(summary):
  trials = summary['trials']
  halton = [t for t in trials if t['arm'].startswith('pbt_halton')]
  members = [t for t in trials if t['arm'].startswith('pbt_population')]
  pops = summary.get('populations', [])
  head = ['seed', 'Halton: best val', 'Halton: reached', 'Halton: steps',
          'Halton: submission s', 'Halton: compiled on the clock',
          'PBT: best val', 'PBT: reached', 'PBT: steps', 'PBT: submission s',
          'PBT: compiled on the clock', 'PBT: exploits', 'PBT: wall s']
  lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
  seeds = sorted({t['arm'].rsplit('seed', 1)[1] for t in trials})
  for seed in seeds:
    h = [t for t in halton if t['arm'].endswith('seed' + seed)]
    m = [t for t in members if t['arm'].endswith('seed' + seed)]
    pop = next((p for p in pops if p['arm'].endswith('seed' + seed)), None)
    exploits = sum(d['action'] == 'exploit' for r in (pop or {}).get(
      'history', []) for d in r.get('decisions', []))
    cells = [seed,
             _fmt(max((t['best_val'] or 0) for t in h) if h else None),
             f'{sum(t["steps_to_target"] is not None for t in h)}/{len(h)}',
             str(sum(t['global_step'] for t in h)),
             _fmt(sum(t['submission_s'] or 0 for t in h), 3),
             str(sum(t['compiled_on_clock'] for t in h)),
             _fmt(max((t['best_val'] or 0) for t in m) if m else None),
             f'{sum(t["steps_to_target"] is not None for t in m)}/{len(m)}',
             str(pop['compute']['steps']) if pop else '-',
             _fmt(pop['compute']['submission_time'], 3) if pop else '-',
             str(sum(t['compiled_on_clock'] for t in m)),
             str(exploits),
             _fmt(pop['wall_seconds'], 3) if pop else '-']
    lines.append('| ' + ' | '.join(cells) + ' |')
  lines += ['', f'Load average over these trials: {_loads(trials)}.']
  return lines


def render(version):
  blocks = {}
  for section in SECTIONS:
    path = ROOT / 'docs' / 'experiments' / 'issue22' / version / (
      section + '.json')
    if path.exists():
      summary = json.loads(path.read_text())
      body = globals()[section](summary)
      blocks[section] = '\n'.join(
        [f'<!-- issue22:{section} -->',
         f'Generated from `{path.relative_to(ROOT)}` '
         f'(suite {version}).', '', *body, f'<!-- /issue22:{section} -->'])
  return blocks


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--suite-version', required=True)
  parser.add_argument('--check', action='store_true')
  args = parser.parse_args(argv)
  text = PAGE.read_text()
  new = text
  for section, block in render(args.suite_version).items():
    pattern = re.compile(rf'<!-- issue22:{section} -->.*?'
                         rf'<!-- /issue22:{section} -->', re.S)
    if not pattern.search(new):
      sys.exit(f'{PAGE}: no <!-- issue22:{section} --> block; add the '
               'section (docs/experiments.md) before generating it.')
    new = pattern.sub(lambda _, block=block: block, new)
  if args.check:
    sys.exit(0 if new == text else 1)
  PAGE.write_text(new)
  print(f'wrote {PAGE}')


if __name__ == '__main__':
  main()
