"""Legends never cover data: checked on matplotlib's own objects."""

import pytest

from scoring import leaderboard
from scoring import outputs
from scoring import pipeline
from scoring import plots
from tests.scoring import synthetic


@pytest.fixture
def result(tmp_path):
  """Profiles in every corner: 'best' is 1 from tau 1 on (the top edge),
  'never' 0 throughout (the bottom edge, where a lower-right legend sat),
  'slow' climbs between; long names make a wide legend."""
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'best', {'alpha': 0, 'beta': 0,
                                           'alpha_tweak': 0})
  synthetic.write_submission(exp, 'never', {'alpha': None, 'beta': None,
                                            'alpha_tweak': None})
  synthetic.write_submission(exp, 'slow_submission_with_a_long_name',
                             {'alpha': 2, 'beta': 1, 'alpha_tweak': 1})
  for i in range(5):  # Enough entries for several legend rows.
    synthetic.write_submission(exp, f'extra_{i}', {'alpha': 1, 'beta': 2,
                                                   'alpha_tweak': 1})
  return pipeline.score_experiments(str(exp), pipeline.ScoreOptions(
    targets=synthetic.write_targets(tmp_path)))


def _drawn(fig):
  from matplotlib.backends.backend_agg import FigureCanvasAgg

  canvas = FigureCanvasAgg(fig)
  canvas.draw()  # Layout done: extents are where the pixels are.
  return canvas.get_renderer()


def _assert_legends_clear_of_data(fig):
  renderer = _drawn(fig)
  legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes
                                 if ax.get_legend() is not None]
  assert legends
  lines = [(ax, line) for ax in fig.axes for line in ax.get_lines()]
  assert lines
  for legend in legends:
    box = legend.get_window_extent(renderer)
    # Whole: no entry cut off at the figure's edges.
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, (box, fig.bbox)
    assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1, (box, fig.bbox)
    for ax, line in lines:
      points = ax.transData.transform(line.get_xydata())
      inside = [tuple(p) for p in points if box.contains(*p)]
      assert not inside, f'{line.get_label()}: {inside[:3]} under {box}'
    for ax in fig.axes:  # Nor over the plotting area between the points.
      if ax.get_visible() and ax.axison:
        assert not box.overlaps(ax.get_window_extent(renderer)), ax.title


def test_profile_legend_covers_no_line(result):
  fig = plots.profile_plot(result, outputs.ranked(result))
  assert len(fig.axes[0].get_lines()) == 8
  _assert_legends_clear_of_data(fig)


def test_curves_legend_covers_no_curve(result):
  order = outputs.ranked(result)
  fig = plots.curves_plot(result, leaderboard.best_trial_curves(result),
                          order)
  [legend] = fig.legends
  assert [t.get_text() for t in legend.get_texts()] == order
  _assert_legends_clear_of_data(fig)
