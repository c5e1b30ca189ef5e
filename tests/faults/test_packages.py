"""Hostile packages given to `algoperf score`: refused while streaming,
before their data is read, with one line (issue 16, item 10)."""

import gzip
import hashlib
import io
import os
import resource
import stat
import subprocess
import tarfile

import pytest

from algoperf import packaging
from algoperf.packaging import MANIFEST

GOOD = {'logs/s/study_0/mnist_jax/trial_1/eval_measurements.csv': b'a,b\n1,2\n',
        'package_info.json': b'{}'}


def _manifest(files: dict) -> bytes:
  return ''.join(f'{hashlib.sha256(d).hexdigest()}  {n}\n'
                 for n, d in sorted(files.items())).encode()


def _member(name, data=b'', kind=tarfile.REGTYPE, size=None, link=''):
  info = tarfile.TarInfo(name)
  info.type, info.linkname = kind, link
  info.size = len(data) if size is None else size
  info.mode = 0o644
  return info, data


def _write(path, members):
  with tarfile.open(path, 'w:gz') as tar:
    for info, data in members:
      tar.addfile(info, io.BytesIO(data) if info.isfile() else None)


def _raw(path, members):
  """Headers as declared, data as given (possibly short): what a hostile
  writer can put in a package."""
  with gzip.open(path, 'wb') as f:
    for info, data in members:
      f.write(info.tobuf(tarfile.GNU_FORMAT))
      f.write(data + bytes(-len(data) % 512))


def _standard(extra=(), files=GOOD, manifest=None):
  members = [_member(MANIFEST, manifest or _manifest(files))]
  members += [_member(n, d) for n, d in files.items()]
  return members + list(extra)


def _bomb(path):
  """A 2 GiB member of zeros, a few MB compressed, listed in the manifest."""
  size = 2 << 30
  digest = hashlib.sha256()
  zeros = bytes(1 << 20)
  for _ in range(size >> 20):
    digest.update(zeros)
  name = 'logs/bomb.bin'
  manifest = f'{digest.hexdigest()}  {name}\n'.encode()
  header = tarfile.TarInfo(MANIFEST)
  header.size = len(manifest)
  big = tarfile.TarInfo(name)
  big.size = size
  with gzip.open(path, 'wb', compresslevel=1) as f:
    f.write(header.tobuf(tarfile.GNU_FORMAT))
    f.write(manifest + bytes(-len(manifest) % 512))
    f.write(big.tobuf(tarfile.GNU_FORMAT))
    for _ in range(size >> 20):
      f.write(zeros)


CASES = {
  'declared_size_over_limit': (lambda p: _raw(p, [
    _member(MANIFEST, f'{"0" * 64}  logs/huge\n'.encode()),
    _member('logs/huge', b'', size=packaging.MAX_MEMBER_BYTES + 1)]),
    'over the limits'),
  'member_not_in_manifest': (lambda p: _write(p, _standard(
    [_member('logs/extra.csv', b'x')])), 'not in the manifest'),
  'manifest_not_first': (lambda p: _write(p, list(reversed(_standard()))),
                         f'no {MANIFEST}'),
  'no_manifest': (lambda p: _write(p, [_member(n, d)
                                       for n, d in GOOD.items()]),
                  f'no {MANIFEST}'),
  'manifest_oversized': (lambda p: _raw(p, [_member(
    MANIFEST, b'', size=packaging.MAX_MANIFEST_BYTES + 1)]), 'is refused'),
  'manifest_malformed_line': (lambda p: _write(p, _standard(
    manifest=b'not a manifest line\n')), 'is not "<sha256>  <path>"'),
  'symlink_member': (lambda p: _write(p, _standard(
    [_member('logs/link', kind=tarfile.SYMTYPE, link='/etc/passwd')])),
    'unsafe entry'),
  'hardlink_member': (lambda p: _write(p, _standard(
    [_member('logs/hard', kind=tarfile.LNKTYPE, link='package_info.json')])),
    'unsafe entry'),
  'device_member': (lambda p: _write(p, _standard(
    [_member('logs/dev', kind=tarfile.CHRTYPE)])), 'unsafe entry'),
  'fifo_member': (lambda p: _write(p, _standard(
    [_member('logs/fifo', kind=tarfile.FIFOTYPE)])), 'unsafe entry'),
  'absolute_path': (lambda p: _write(p, _standard(
    [_member('/tmp/evil', b'x')])), 'unsafe entry'),
  'parent_path': (lambda p: _write(p, _standard(
    [_member('logs/../../evil', b'x')])), 'unsafe entry'),
  'duplicate_member': (lambda p: _write(p, _standard(
    [_member('package_info.json', b'{}')])), 'listed twice'),
  'changed_content': (lambda p: _write(p, _standard(
    files={**GOOD, 'package_info.json': b'{"x": 1}'},
    manifest=_manifest(GOOD))), 'changed: package_info.json'),
  'missing_member': (lambda p: _write(p, [_member(MANIFEST, _manifest(GOOD)),
                                          _member('package_info.json',
                                                  b'{}')]), 'missing: logs'),
  'truncated_gzip': (lambda p: (_write(p, _standard()), p.write_bytes(
    p.read_bytes()[:40])), 'not a readable .tar.gz'),
  'not_gzip': (lambda p: p.write_bytes(b'plain text, not a package'),
               'not a readable .tar.gz'),
  'empty_file': (lambda p: p.write_bytes(b''), 'not a readable .tar.gz'),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_hostile_package_is_refused(case, tmp_path):
  package = tmp_path / 'p.tar.gz'
  make, fragment = CASES[case]
  make(package)
  with pytest.raises(packaging.PackageError) as refused:
    packaging.verify_into(package, tmp_path / 'out')
  assert fragment in str(refused.value)
  assert not (tmp_path / 'out' / 'logs' / '..').resolve().is_relative_to(
    tmp_path / 'evil')


def test_too_many_members_are_refused(tmp_path, monkeypatch):
  monkeypatch.setattr(packaging, 'MAX_MEMBERS', 1)
  package = tmp_path / 'p.tar.gz'
  _write(package, _standard())
  with pytest.raises(packaging.PackageError, match='more than 1 files'):
    packaging.verify_into(package)


@pytest.mark.slow  # Writes 2 GiB of zeros through gzip (~10 s of CPU).
def test_item_10_gzip_bomb_is_refused_before_it_is_read(tmp_path):
  package = tmp_path / 'bomb.tar.gz'
  _bomb(package)
  assert package.stat().st_size < 20 << 20
  before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
  with pytest.raises(packaging.PackageError, match='over the limits'):
    packaging.verify_into(package, tmp_path / 'out')
  grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
  assert grown_kib < 200 << 10  # Not read into memory.


def test_item_10_package_respects_the_umask(tmp_path):
  (tmp_path / 'exp' / 'study_0' / 'mnist_jax' / 'trial_1').mkdir(
    parents=True)
  old = os.umask(0o027)
  try:
    packaging.create_package(tmp_path / 'exp', tmp_path / 'p.tar.gz', [])
  finally:
    os.umask(old)
  assert stat.S_IMODE((tmp_path / 'p.tar.gz').stat().st_mode) == 0o640


def _unpacked(root):
  """GOOD and its manifest as files under ``root``, as `tar -x` leaves a
  package."""
  for name, data in {MANIFEST: _manifest(GOOD), **GOOD}.items():
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(data)
  return root


def test_a_package_re_made_with_tar_dot_prefixes_is_accepted(tmp_path):
  # `tar -C DIR ./MANIFEST.sha256 ./logs ...` names members ./... and adds
  # directory entries; the manifest lists the paths without ./.
  unpacked = _unpacked(tmp_path / 'unpacked')
  package = tmp_path / 'p.tar.gz'
  subprocess.run(['tar', '-czf', str(package), '-C', str(unpacked),
                  f'./{MANIFEST}', './package_info.json', './logs'],
                 check=True)
  with tarfile.open(package) as tar:
    assert tar.getnames()[0] == f'./{MANIFEST}'
  names = packaging.verify_into(package, tmp_path / 'out')
  assert names == sorted(GOOD)
  for name, data in GOOD.items():
    assert (tmp_path / 'out' / name).read_bytes() == data


def test_a_leading_directory_entry_is_passed_over(tmp_path):
  package = tmp_path / 'p.tar.gz'
  members = [_member('./', kind=tarfile.DIRTYPE)]
  for info, data in _standard():
    members.append(_member('./' + info.name, data))
  _write(package, members)
  assert packaging.verify_into(package) == sorted(GOOD)


def test_a_dot_prefix_does_not_smuggle_a_second_copy(tmp_path):
  package = tmp_path / 'p.tar.gz'
  _write(package, _standard([_member('./package_info.json', b'{}')]))
  with pytest.raises(packaging.PackageError, match='listed twice'):
    packaging.verify_into(package)


def test_manifest_not_first_names_the_file_found_and_the_fix(tmp_path):
  package = tmp_path / 'p.tar.gz'
  _write(package, list(reversed(_standard())))
  with pytest.raises(packaging.PackageError) as refused:
    packaging.verify_into(package)
  message = str(refused.value)
  assert "found 'package_info.json' first" in message
  assert f'tar -czf NEW.tar.gz -C DIR {MANIFEST}' in message
