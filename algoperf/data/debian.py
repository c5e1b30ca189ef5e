"""Files shipped inside Debian packages, fetched by pinned version + sha256.

The counterpart of ``packages.py`` for data that no Python registry ships
(Fashion-MNIST: the ``dataset-fashion-mnist`` package). ``apt-get
download`` fetches the ``.deb`` from whatever mirrors apt is configured
with; no host is named here. A cached ``.deb`` is re-verified on every use
and re-fetched once when its checksum does not match. The archive is read
in pure Python: a ``.deb`` is an ``ar`` archive whose ``data.tar.*`` member
holds the installed files, so neither dpkg nor root is needed.
"""

import dataclasses
import io
import pathlib
import shutil
import subprocess
import tarfile
import tempfile

from algoperf.data import packages
from algoperf.errors import DataError

_AR_MAGIC = b'!<arch>\n'
_AR_HEADER = 60  # Bytes per member header (name 16, ..., size 10, end 2).
# data.tar compressions dpkg-deb writes, and tarfile's mode for each.
_DATA_MEMBERS = {'data.tar.xz': 'r:xz', 'data.tar.gz': 'r:gz',
                 'data.tar.bz2': 'r:bz2', 'data.tar': 'r:'}


@dataclasses.dataclass(frozen=True)
class PinnedDeb:
  """One Debian binary package, pinned by version and checksum.

  Attributes:
    name: the package name, e.g. 'dataset-fashion-mnist'.
    version: the exact Debian version (epoch included, if any).
    sha256: hex digest of the ``.deb``.
    architecture: 'all' for architecture-independent (data) packages.
  """

  name: str
  version: str
  sha256: str
  architecture: str = 'all'

  @property
  def filename(self) -> str:
    """The name ``apt-get download`` gives the file (':' of an epoch is
    written '%3a')."""
    version = self.version.replace(':', '%3a')
    return f'{self.name}_{version}_{self.architecture}.deb'


def _place_yourself(deb: PinnedDeb, download_dir: pathlib.Path) -> str:
  return (f'on a system without apt (not Debian or Ubuntu), download '
          f'{deb.filename} (sha256 {deb.sha256}) from a Debian mirror and '
          f'place it in {download_dir} yourself')


def _apt_download(deb: PinnedDeb, download_dir: pathlib.Path) -> None:
  """``apt-get download`` into a temporary folder, then one rename: an
  interrupted download never leaves a file under the final name."""
  apt = shutil.which('apt-get')
  if apt is None:
    raise DataError(f'{deb.name}={deb.version}: apt-get is not installed; '
                    + _place_yourself(deb, download_dir) + '.')
  with tempfile.TemporaryDirectory(dir=download_dir,
                                   prefix='.apt-download.') as tmp:
    cmd = [apt, 'download', '--quiet', f'{deb.name}={deb.version}']
    result = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True,
                            check=False)
    fetched = pathlib.Path(tmp) / deb.filename
    if result.returncode != 0 or not fetched.exists():
      raise DataError(
        f'Could not download {deb.name}={deb.version} with `apt-get download'
        f' {deb.name}={deb.version}` (exit {result.returncode}): '
        f'{result.stderr.strip()[-500:] or "no file written"}\n'
        'Check that apt can reach a Debian mirror (`apt-get update` first '
        'if the package is unknown), or ' + _place_yourself(deb, download_dir)
        + '.')
    fetched.replace(download_dir / deb.filename)


def fetch_pinned_deb(deb: PinnedDeb,
                     download_dir: pathlib.Path) -> pathlib.Path:
  """Returns the verified ``.deb``, downloading it if needed.

  Raises:
    DataError: apt-get is missing, the download failed, or the file's
      checksum differs from the pin (after one re-fetch).
  """
  download_dir.mkdir(parents=True, exist_ok=True)
  path = download_dir / deb.filename
  if path.exists() and packages.sha256_of(path) == deb.sha256:
    return path
  path.unlink(missing_ok=True)  # Corrupted or partial: fetch again.
  _apt_download(deb, download_dir)
  found = packages.sha256_of(path)
  if found == deb.sha256:
    return path
  # Kept for inspection; the next prepare deletes it and fetches again.
  raise DataError(
    f'{path}: sha256 {found} does not match the pinned {deb.sha256} for '
    f'{deb.name}={deb.version}. The mirror served a different file; retry '
    'later, or update the pin after checking the new file.'
  )


def ar_members(archive: pathlib.Path) -> dict[str, bytes]:
  """{member name: bytes} of a common-format ``ar`` archive (a ``.deb``).

  Raises:
    DataError: not an ar archive, or truncated.
  """
  data = archive.read_bytes()
  if not data.startswith(_AR_MAGIC):
    raise DataError(f'{archive} is not a Debian package (no ar header); '
                    'delete it and prepare again.')
  members, offset = {}, len(_AR_MAGIC)
  while offset < len(data):
    header = data[offset:offset + _AR_HEADER]
    if len(header) < _AR_HEADER or header[58:60] != b'`\n':
      raise DataError(f'{archive}: a broken ar member header at byte '
                      f'{offset}; the file is truncated or corrupted.')
    # GNU ar ends names with '/'; dpkg-deb writes them space-padded.
    name = header[:16].decode('ascii').strip().rstrip('/')
    size = int(header[48:58].decode('ascii').strip())
    start = offset + _AR_HEADER
    if start + size > len(data):
      raise DataError(f'{archive}: member {name!r} runs past the end of the '
                      'file; the file is truncated.')
    members[name] = data[start:start + size]
    offset = start + size + size % 2  # Members are 2-byte aligned.
  return members


def read_files(archive: pathlib.Path, paths) -> dict[str, bytes]:
  """{path: bytes} of installed files (e.g. '/usr/share/x/y.gz') in a .deb.

  Raises:
    DataError: no data.tar member, or one of ``paths`` is not in it.
  """
  members = ar_members(archive)
  found = [m for m in _DATA_MEMBERS if m in members]
  if not found:
    raise DataError(f'{archive} has no data member ({", ".join(_DATA_MEMBERS)}'
                    f'); its members are {sorted(members)}.')
  wanted = {'./' + p.lstrip('/'): p for p in paths}
  out = {}
  with tarfile.open(fileobj=io.BytesIO(members[found[0]]),
                    mode=_DATA_MEMBERS[found[0]]) as tar:
    for info in tar:
      name = info.name if info.name.startswith('./') else './' + info.name
      if name in wanted and info.isfile():
        out[wanted[name]] = tar.extractfile(info).read()
  missing = [p for p in paths if p not in out]
  if missing:
    raise DataError(
      f'{archive} has no file {", ".join(missing)}; the pin points at a '
      'different layout than the builder expects.')
  return out
