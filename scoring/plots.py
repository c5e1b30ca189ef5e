"""Performance-profile and training-curve figures (the only matplotlib user).

Figures are returned as PNG/PDF/SVG bytes so callers write them atomically
or embed them in the HTML leaderboard.
"""

import io
import math

# A palette that stays distinguishable for colour-blind readers (Okabe-Ito),
# then matplotlib's tab10 for long lists.
PALETTE = ('#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9',
           '#F0E442', '#000000')


def _figure(**kwargs):
  """A bare Figure: no pyplot, whose import costs half a second."""
  import matplotlib
  from matplotlib.figure import Figure

  matplotlib.rcParams.update({
    'font.size': 11, 'axes.titlesize': 11, 'axes.labelsize': 11,
    'axes.spines.top': False, 'axes.spines.right': False,
    'axes.grid': True, 'grid.alpha': 0.3, 'legend.frameon': False,
    'svg.fonttype': 'none',
  })
  return Figure(**kwargs)


def colors(names: list[str]) -> dict[str, str]:
  import matplotlib

  extra = [matplotlib.colors.to_hex(c)
           for c in matplotlib.colormaps['tab10'].colors]
  palette = list(PALETTE) + extra
  return {name: palette[i % len(palette)] for i, name in enumerate(names)}


def _save(fig, formats, dpi) -> dict[str, bytes]:
  out = {}
  for fmt in formats:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi)
    out[fmt] = buffer.getvalue()
  return out


def profile_figure(result, order: list[str], formats=('png', 'pdf'),
                   dpi: int = 150) -> dict[str, bytes]:
  """rho(tau) per submission, one line each, legend with scores."""
  return _save(profile_plot(result, order), formats, dpi)


def profile_plot(result, order: list[str]):
  """The Figure of ``profile_figure``."""
  profile = result.profile
  palette = colors(order)
  fig = _figure(figsize=(8, 4.8), layout='constrained')
  ax = fig.subplots()
  for name in order:
    ax.step(profile.taus, profile.rho[name], where='post', lw=2.2,
            color=palette[name],
            label=f'{name}  (score {profile.scores[name]:.3f})')
  ax.set_xlim(profile.taus[0], profile.taus[-1])
  ax.set_ylim(-0.02, 1.02)
  unit = 'steps' if result.options.time_col == 'global_step' else 'time'
  # Plain Unicode, not mathtext: parsing TeX costs a noticeable fraction
  # of the plotting time.
  ax.set_xlabel(f'performance ratio \u03c4 ({unit} to target / best '
                f'submission\'s {unit})')
  ax.set_ylabel('fraction of workloads \u03c1(\u03c4)')
  ax.set_title(
    f'Performance profiles - benchmark {result.targets.version_label}, '
    f'rules {result.rules}, {result.ruleset} tuning', loc='left')
  # Below the axes, never inside them: any corner of a profile can hold a
  # line (rho is 1 at tau 4 for a submission fastest everywhere).
  labels = ax.get_legend_handles_labels()[1]
  fig.legend(loc='outside lower center', ncols=_legend_columns(fig, labels,
                                                               3))
  return fig


def _legend_columns(fig, labels: list[str], most: int,
                    fontsize: float | None = None) -> int:
  """The most columns (up to ``most``) whose legend fits the figure's
  width, from the labels' measured widths (no drawing needed)."""
  from matplotlib import rcParams
  from matplotlib.font_manager import FontProperties
  from matplotlib.textpath import TextToPath

  font = FontProperties(size=fontsize or rcParams['legend.fontsize'])
  size = font.get_size_in_points()
  measure = TextToPath()
  widest = max((measure.get_text_width_height_descent(label, font, False)[0]
                for label in labels), default=0.0)
  # Each column: handle, pad, text, spacing (rcParams, in font sizes).
  column = widest + size * (rcParams['legend.handlelength']
                            + rcParams['legend.handletextpad']
                            + rcParams['legend.columnspacing'])
  room = fig.get_figwidth() * 72 * 0.96 - 2 * size * rcParams[
    'legend.borderpad']
  fits = int(room // column) if column else most
  return max(min(len(labels), most, fits), 1)


def curves_figure(result, curves: dict, order: list[str],
                  dpi: int = 110) -> bytes:
  """Validation metric vs time of each submission's best trial, per workload.

  Args:
    curves: workload -> submission -> (times, values) of the best trial.
  """
  return _save(curves_plot(result, curves, order), ('png',), dpi)['png']


def curves_plot(result, curves: dict, order: list[str]):
  """The Figure of ``curves_figure``."""
  palette = colors(order)
  workloads = list(curves)
  columns = 4 if len(workloads) > 6 else 3
  rows = max(1, math.ceil(len(workloads) / columns))
  fig = _figure(figsize=(3.4 * columns, 2.7 * rows + 0.4),
                layout='constrained')
  axes = fig.subplots(rows, columns, squeeze=False)
  for ax, workload in zip(axes.flat, workloads):
    target = result.targets.workloads[workload]
    unit, scale = _time_unit(curves[workload], result.options.time_col)
    for name in order:
      if name in curves[workload]:
        times, values = curves[workload][name]
        ax.plot([t / scale for t in times], values, lw=1.5,
                color=palette[name], label=name)
    ax.axhline(target.validation_target, color='#444', ls='--', lw=1)
    ax.set_title(workload, loc='left', fontsize=10)
    ax.set_xlabel(unit, fontsize=9)
    ax.set_ylabel(target.column, fontsize=9)
    ax.tick_params(labelsize=8)
    _zoom(ax, target, curves[workload])
  for ax in list(axes.flat)[len(workloads):]:
    ax.axis('off')
  # Every submission, even one missing from the first workload; above
  # the axes (constrained layout makes room), never over a curve.
  handles = [_legend_line(palette[name], name) for name in order]
  fig.legend(handles=handles, loc='outside upper center', fontsize=9,
             ncols=_legend_columns(fig, order, 6, fontsize=9))
  return fig


def _legend_line(color: str, label: str):
  from matplotlib.lines import Line2D

  return Line2D([], [], color=color, lw=1.5, label=label)


def _time_unit(curves, time_col: str = 'score') -> tuple[str, float]:
  if time_col == 'global_step':
    return 'steps', 1.0
  longest = max((t for times, _ in curves.values() for t in times
                 if math.isfinite(t)), default=0.0)
  if longest > 2 * 3600:
    return 'hours', 3600.0
  if longest > 120:
    return 'minutes', 60.0
  return 'seconds', 1.0


def _zoom(ax, target, curves) -> None:
  """Around the target, not the first evals; a curve that stays far from
  the target shows its best part, within 8x the zoom window."""
  finite = [[v for v in vs if math.isfinite(v)] for _, vs in curves.values()]
  finite = [vs for vs in finite if vs]
  if not finite:
    return
  values = [v for vs in finite for v in vs]
  goal = target.validation_target
  if target.direction == 'min':
    low = min(values + [goal])
    spread = max(goal - low, abs(goal) * 0.05)
    high = min(max(values), goal + 3 * spread)
    high = max(high, min(goal + 8 * spread, max(min(vs) for vs in finite)))
  else:
    high = max(values + [goal])
    spread = max(high - goal, abs(goal) * 0.05)
    low = max(min(values), goal - 3 * spread)
    low = min(low, max(goal - 8 * spread, min(max(vs) for vs in finite)))
  pad = (high - low) * 0.05 or abs(goal) * 0.05 or 0.05
  ax.set_ylim(low - pad, high + pad)
