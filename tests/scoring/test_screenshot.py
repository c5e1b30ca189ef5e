"""The HTML leaderboard renders in headless Chromium to a non-blank image."""

import pytest

from algoperf import cli
from scoring import screenshot
from tests.scoring import synthetic

needs_chromium = pytest.mark.skipif(
  screenshot.find_chromium() is None,
  reason='Chromium not installed (Debian: apt-get install -y chromium)')


@needs_chromium
def test_leaderboard_screenshot_is_not_blank(tmp_path, capsys):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'baseline', {'alpha': 1, 'beta': 1,
                                               'alpha_tweak': 1})
  synthetic.write_submission(exp, 'other', {'alpha': 2, 'beta': None,
                                            'alpha_tweak': 1})
  png = tmp_path / 'shot.png'
  assert cli.main(['leaderboard', str(exp), '--workload-targets',
                   synthetic.write_targets(tmp_path), '--output-dir',
                   str(tmp_path / 'lb'), '--screenshot', str(png)]) == 0
  assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
  assert not screenshot.is_blank(str(png))


def test_blank_image_is_detected(tmp_path):
  from PIL import Image

  path = tmp_path / 'white.png'
  Image.new('RGB', (64, 64), 'white').save(path)
  assert screenshot.is_blank(str(path))
