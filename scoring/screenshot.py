"""Renders an HTML page to PNG with headless Chromium (Debian: `chromium`)."""

import os
import shutil
import subprocess
import tempfile

from scoring.errors import ScoringError

_BINARIES = ('chromium', 'chromium-browser', 'google-chrome', 'chrome')
# Offline, no profile state, no background traffic: the page is local.
_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
          '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync',
          '--hide-scrollbars', '--force-device-scale-factor=1')


def find_chromium() -> str | None:
  """The Chromium binary ($CHROMIUM, else the first one on PATH)."""
  explicit = os.environ.get('CHROMIUM')
  if explicit:
    return explicit
  return next((p for p in map(shutil.which, _BINARIES) if p), None)


def screenshot(html_path: str, png_path: str, width: int = 1280,
               height: int = 2440, timeout: float = 90.0) -> str:
  """Writes a ``width`` x ``height`` screenshot of ``html_path``.

  Raises:
    ScoringError: no Chromium found, or it failed / wrote no image.
  """
  binary = find_chromium()
  if binary is None:
    raise ScoringError(
      'No Chromium found for the screenshot; install it (Debian: '
      '`apt-get install -y chromium`) or set $CHROMIUM to its path.')
  url = 'file://' + os.path.abspath(html_path)
  with tempfile.TemporaryDirectory(prefix='algoperf-chromium-') as profile:
    command = [binary, *_FLAGS, f'--user-data-dir={profile}',
               f'--window-size={width},{height}',
               f'--screenshot={os.path.abspath(png_path)}', url]
    try:
      done = subprocess.run(command, capture_output=True, text=True,
                            timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
      raise ScoringError(f'Chromium timed out after {timeout:.0f} s rendering '
                         f'{html_path}.') from e
  if not os.path.exists(png_path) or os.path.getsize(png_path) == 0:
    raise ScoringError(
      f'Chromium wrote no screenshot of {html_path} (exit {done.returncode}):'
      f' {done.stderr.strip()[-500:]}')
  return png_path


def is_blank(png_path: str) -> bool:
  """True when the image is (nearly) one colour."""
  from PIL import Image

  with Image.open(png_path) as image:
    colors = image.convert('RGB').getcolors(maxcolors=1 << 16)
  return colors is not None and len(colors) < 8
