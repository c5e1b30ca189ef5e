"""A submission sandbox at the Python level: PEP 578 audit hooks.

Installed in a trial's process by the supervisor (`algoperf run`/`study`)
and in the validator's worker. While a policy is active, an audit event
whose innermost frame outside library code (the standard library and
installed packages: JAX, flax, optax, numpy, ...) is in the submission's
directory is judged as the submission's, so library work done on its
behalf counts as its own. Refused, with ``file:line``:

- network: ``socket.connect``/``bind``/``sendto``/``sendmsg``, name lookups;
- processes: ``subprocess.Popen``, ``os.system``/``exec*``/``spawn*``/
  ``posix_spawn``/``fork``, signals to other processes (``os.kill``);
- writes (open for writing, mkdir, remove, rename, symlink, chmod, ...)
  outside the writable roots: the trial directory and the trial's TMPDIR;
- any use of the JAX compilation cache (opening, writing or listing its
  files) except by JAX's own cache code: the warm-up fills it off the
  clock, and this keeps it holding compiled programs only, found by the
  hash of the program itself (docs/design.md §6);
- reads of the evaluation splits' files (``*-validation.*``,
  ``*-test.*``) under the data directory.

The refused operation raises ``PermissionError`` where it was attempted,
and the violation is kept (``violations()``), so a submission that catches
the error is still caught. Harness code (``algoperf/``, ``workloads/``) is
never judged. What this layer does not stop: native code (C extensions,
ctypes, XLA custom calls) opening files or sockets itself, and submissions
that patch the harness at run time; Docker (no network, read-only mounts,
dropped capabilities) is the containment for those (docs/reliability.md).
"""

import dataclasses
import os
import re
import site
import sys
import sysconfig
import threading

BLOCKED = 'sandbox: '
_EVAL_FILE = re.compile(r'-(validation|test)[.-]')
_WRITE_FLAGS = (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
                | os.O_TRUNC)
_NETWORK = ('socket.connect', 'socket.bind', 'socket.sendto',
            'socket.sendmsg', 'socket.getaddrinfo', 'socket.gethostbyname',
            'socket.gethostbyaddr')
_PROCESS = ('subprocess.Popen', 'os.system', 'os.exec', 'os.posix_spawn',
            'os.spawn', 'os.fork', 'os.forkpty', 'os.kill', 'os.killpg',
            'pty.spawn')
# event -> positions of the path arguments it writes.
_WRITES = {'os.mkdir': (0,), 'os.remove': (0,), 'os.rmdir': (0,),
           'os.rename': (0, 1), 'os.truncate': (0,), 'os.symlink': (1,),
           'os.link': (1,), 'os.chmod': (0,), 'os.chown': (0,),
           'os.utime': (0,), 'os.mkfifo': (0,), 'os.mknod': (0,),
           'shutil.rmtree': (0,), 'shutil.copyfile': (1,),
           'shutil.copytree': (1,), 'shutil.move': (0, 1),
           'shutil.make_archive': (0,)}
_LISTS = ('os.listdir', 'os.scandir')
# JAX's persistent compilation cache reads and writes through these files.
_JAX_CACHE_CODE = (os.path.join('jax', '_src', 'compilation_cache.py'),
                   os.path.join('jax', '_src', 'lru_cache.py'))


@dataclasses.dataclass(frozen=True)
class Policy:
  """Who is judged and what they may touch (absolute, resolved paths)."""

  submission_roots: tuple
  writable_roots: tuple = ()
  data_roots: tuple = ()
  # The validator keeps its own rule for writes (validation_worker).
  check_writes: bool = True
  # JAX compilation caches: only JAX's cache code may use them.
  cache_roots: tuple = ()

  @classmethod
  def create(cls, submission_roots, writable_roots=(), data_roots=(),
             check_writes: bool = True, cache_roots=()) -> 'Policy':
    def norm(paths):
      return tuple(os.path.realpath(os.fspath(p)) for p in paths if p)

    return cls(norm(submission_roots), norm(writable_roots)
               + (os.devnull,), norm(data_roots), check_writes,
               norm(cache_roots))


_STATE = threading.local()
_ACTIVE = {'policy': None, 'violations': []}
_HARNESS = None
_LIBRARY = None
_OWNERS = {}  # filename -> 'library', 'harness', 'submission' or 'other'.


def _roots():
  global _HARNESS, _LIBRARY
  if _HARNESS is None:
    here = os.path.dirname(os.path.realpath(__file__))
    repo = os.path.dirname(here)
    _HARNESS = tuple(os.path.join(repo, name) + os.sep
                     for name in ('algoperf', 'workloads', 'scoring'))
    paths = sysconfig.get_paths()
    library = {paths['stdlib'], paths['platstdlib'], paths['purelib'],
               paths['platlib'], *site.getsitepackages()}
    if site.ENABLE_USER_SITE and site.getusersitepackages():
      library.add(site.getusersitepackages())
    _LIBRARY = tuple(os.path.realpath(p) + os.sep for p in library if p)
  return _HARNESS, _LIBRARY


def _owner(filename: str, policy: Policy) -> str:
  key = (filename, policy.submission_roots)
  if key in _OWNERS:
    return _OWNERS[key]
  harness, library = _roots()
  if filename.startswith('<'):
    owner = 'library'  # Frozen modules, exec'd strings of libraries.
  else:
    path = os.path.realpath(filename)
    if path.startswith(harness):
      owner = 'harness'
    elif _under(path, policy.submission_roots):
      owner = 'submission'
    elif path.startswith(library):
      owner = 'library'
    else:
      owner = 'other'
  _OWNERS[key] = owner
  return owner


def _under(path: str, roots) -> bool:
  return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep)
             for r in roots)


def _submission_frame(policy: Policy):
  """(file, line) of the innermost non-library frame, if the submission's."""
  frame = sys._getframe(2)
  while frame is not None:
    owner = _owner(frame.f_code.co_filename, policy)
    if owner != 'library':
      if owner == 'submission':
        return frame.f_code.co_filename, frame.f_lineno
      return None
    frame = frame.f_back
  return None


def _path(value) -> str | None:
  if isinstance(value, int) or value is None:
    return None
  try:
    return os.path.realpath(os.fsdecode(value))
  except (TypeError, ValueError):
    return None


def _in_jax_cache_code() -> bool:
  frame = sys._getframe(1)
  while frame is not None:
    if frame.f_code.co_filename.endswith(_JAX_CACHE_CODE):
      return True
    frame = frame.f_back
  return False


def _cache_use(policy: Policy, event: str, args) -> str | None:
  """A use of the compilation cache by anything but JAX's cache code."""
  if not policy.cache_roots or not args:
    return None
  positions = _WRITES.get(event, (0,))
  for position in positions:
    target = _path(args[position]) if position < len(args) else None
    if target and _under(target, policy.cache_roots):
      if _in_jax_cache_code():
        return None
      return (f'{event} {target}, in the JAX compilation cache; only JAX '
              'may use it (it holds compiled programs, nothing else)')
  return None


def _judge(policy: Policy, event: str, args) -> str | None:
  """What the event would do that the policy refuses, else None."""
  if event == 'open' or event in _WRITES or event in _LISTS:
    refused = _cache_use(policy, event, args)
    if refused or event in _LISTS:
      return refused
  if event == 'open':
    path, mode, flags = (tuple(args) + (None, None))[:3]
    writes = (isinstance(mode, str) and any(c in mode for c in 'wax+')) or (
      mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS)
    target = _path(path)
    if target is None:
      return None
    if writes:
      return _write(policy, target, 'open for writing')
    if _EVAL_FILE.search(os.path.basename(target)) and _under(
        target, policy.data_roots):
      return (f'read {target}, a file of an evaluation split; submissions '
              'may not read validation or test data')
    return None
  if event in _WRITES:
    for position in _WRITES[event]:
      if position < len(args):
        target = _path(args[position])
        refused = target and _write(policy, target, event)
        if refused:
          return refused
    return None
  if event.startswith(_NETWORK):
    return (f'{event}{_brief(args)}: submissions may not use the network')
  if event.startswith(_PROCESS):
    return (f'{event}{_brief(args)}: submissions may not start or signal '
            'processes')
  return None


def _write(policy: Policy, target: str, what: str) -> str | None:
  if not policy.check_writes or _under(
      target, policy.writable_roots + policy.cache_roots):
    return None  # The cache's own rule is _cache_use's.
  return (f'{what} {target}, outside the trial\'s writable directories '
          '(the trial directory, $TMPDIR)')


def _brief(args) -> str:
  text = repr(tuple(args))
  return text if len(text) <= 120 else text[:117] + '...)'


def _hook(event: str, args) -> None:
  policy = _ACTIVE['policy']
  if policy is None or getattr(_STATE, 'busy', False):
    return
  if event != 'open' and event not in _WRITES and event not in _LISTS and (
      not event.startswith(_NETWORK + _PROCESS)):
    return
  _STATE.busy = True
  try:
    refused = _judge(policy, event, args)
    where = refused and _submission_frame(policy)
  finally:
    _STATE.busy = False
  if not where:
    return
  message = f'{where[0]}:{where[1]}: {refused} (refused).'
  if message not in _ACTIVE['violations']:
    _ACTIVE['violations'].append(message)
  raise PermissionError(BLOCKED + message)


def install(policy: Policy | None) -> None:
  """Makes ``policy`` the active one (None: judge nothing).

  The hook itself is added once per process and can never be removed
  (PEP 578); with no active policy it returns at once.
  """
  if not getattr(sys, '_algoperf_sandbox', False):
    sys.addaudithook(_hook)
    sys._algoperf_sandbox = True
  _ACTIVE['policy'] = policy
  _ACTIVE['violations'] = []


def violations() -> list[str]:
  """Every refused operation since ``install``, one line each."""
  return list(_ACTIVE['violations'])


def install_for_validation(submission_path) -> None:
  """The validator's policy: writes stay its own rule (validation_worker);
  network, processes and evaluation files as in a trial."""
  from algoperf.data import dirs

  install(Policy.create([os.path.dirname(os.fspath(submission_path))],
                        data_roots=[dirs.resolve_data_dir(None)],
                        check_writes=False))
