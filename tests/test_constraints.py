"""The lock files pin every requirement of setup.cfg within its range.

constraints/lock.txt and constraints/algoperf-2c90454.lock.txt are what the
images install with (scripts/lock_constraints.py writes them); a range
changed in setup.cfg without rewriting them fails here, offline.
"""

import configparser

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO

CONSTRAINTS = REPO / 'constraints'
LOCKS = ('lock.txt', 'algoperf-2c90454.lock.txt')
# Extras the locks cover (tf is left out: scripts/lock_constraints.py).
LOCKED_EXTRAS = ('gpu', 'ray', 'test', 'dev')
# The images' platform: markers are judged for it.
IMAGE_ENVIRONMENT = {**default_environment(), 'sys_platform': 'linux',
                     'platform_system': 'Linux',
                     'platform_machine': 'x86_64',
                     'python_version': '3.11', 'python_full_version': '3.11.11'}


def _pins(path) -> dict:
  """{canonical name: version} of a constraints file; refuses duplicates."""
  pins = {}
  for number, line in enumerate(path.read_text().splitlines(), start=1):
    line = line.split('#')[0].strip()
    if not line:
      continue
    name, sep, version = line.partition('==')
    assert sep and version, f'{path.name}:{number}: {line!r} is not NAME==V'
    key = canonicalize_name(name)
    assert key not in pins, f'{path.name}:{number}: {name} pinned twice'
    pins[key] = version
  return pins


def _requirements() -> list:
  """setup.cfg's install_requires and the locked extras' requirements."""
  config = configparser.ConfigParser()
  config.read(REPO / 'setup.cfg')
  lines = config['options']['install_requires'].split('\n')
  extras = config['options.extras_require']
  for extra in LOCKED_EXTRAS:
    lines += extras[extra].split('\n')
  return [Requirement(line) for line in lines if line.strip()]


@pytest.mark.parametrize('lock', LOCKS)
def test_every_requirement_is_pinned_within_its_range(lock):
  pins = _pins(CONSTRAINTS / lock)
  problems = {}  # By message: jax and jax[cuda12] are one pin.
  for requirement in _requirements():
    if requirement.marker and not requirement.marker.evaluate(
        IMAGE_ENVIRONMENT):
      continue
    version = pins.get(canonicalize_name(requirement.name))
    if version is None:
      problems[f'{requirement.name}: not pinned'] = None
    elif not requirement.specifier.contains(version, prereleases=True):
      problems[f'{requirement.name}=={version} is outside '
               f'{requirement.specifier} (setup.cfg)'] = None
  assert not problems, (
    f'constraints/{lock}: ' + '; '.join(problems) + '; rerun '
    'scripts/lock_constraints.py after changing setup.cfg.')


def test_the_algoperf_lock_keeps_algoperf_pins():
  pins = _pins(CONSTRAINTS / 'algoperf-2c90454.txt')
  lock = _pins(CONSTRAINTS / 'algoperf-2c90454.lock.txt')
  assert pins and {name: lock.get(name) for name in pins} == pins
  # The same JAX for the GPU plugin (jax[cuda12] in the lock).
  assert lock['jax-cuda12-plugin'] == lock['jaxlib'] == pins['jaxlib']


def test_the_harness_is_not_pinned_in_its_own_locks():
  for lock in LOCKS:
    assert 'algoperf-bench' not in _pins(CONSTRAINTS / lock)
