"""The next benchmark version's draft, in which its protocol runs.

A protocol version that is not yet the suite file's (``--protocol NEXT``)
runs its workloads as that version will have them: its families as the
base workloads, its held-out draw, and its ``draft_facts`` (larger
evaluation splits, new horizons). Those live in a copy of the suite files
under the version's runs folder, moved to version ``NEXT-draft`` with
``registry.start_version``; the folder is put in force for this process and,
through ``registry.DRAFT_SUITES_ENV``, for every trial it starts. The
shipped suite files never change until ``table --apply --protocol NEXT``.
"""

import os
import pathlib
import shutil

from algoperf import registry
from algoperf.target_setting import protocol


def draft_version(version: protocol.Version) -> str:
  return f'{version.name}-draft'


def needed(version: protocol.Version) -> bool:
  """Whether ``version``'s runs need a draft: it is not the suite's yet."""
  return (bool(version.families)
          and registry.suite().benchmark_version != version.name)


def enter(version: protocol.Version, runs_dir) -> pathlib.Path | None:
  """Writes the draft suite files under ``runs_dir`` and uses them; returns
  their folder (None: the suite is at ``version`` already, no draft)."""
  if not needed(version):
    return None
  suite = registry.suite()
  folder = pathlib.Path(runs_dir) / 'suites'
  fresh = folder.with_name('suites.tmp')
  shutil.rmtree(fresh, ignore_errors=True)
  shutil.copytree(registry.SUITES_DIR, fresh)
  shutil.rmtree(folder, ignore_errors=True)
  fresh.rename(folder)
  registry.SUITES_DIR = folder
  registry.suites.cache_clear()
  registry.start_version(suite.name, draft_version(version),
                         list(version.families), list(version.held_out),
                         version.draft_facts)
  os.environ[registry.DRAFT_SUITES_ENV] = str(folder)
  return folder
