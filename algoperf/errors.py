"""Named exceptions for contract violations; each message says the fix.

Each class carries the exit status the CLI ends with (algoperf/exit_codes.py
has the table).
"""

from algoperf import exit_codes


class AlgoperfError(Exception):
  """Base of the errors the CLI reports as one clear paragraph."""

  exit_code = exit_codes.INPUT


class UsageError(AlgoperfError):
  """A command line that cannot mean anything (bad flag values, names)."""

  exit_code = exit_codes.USAGE


class SubmissionError(AlgoperfError):
  """A submission breaks the API (missing function, wrong signature, ...)."""

  exit_code = exit_codes.SUBMISSION


class WorkloadError(AlgoperfError):
  """An unknown workload name or a workload misconfiguration."""


class DataError(AlgoperfError):
  """Missing, partial or corrupted prepared data."""


class SearchSpaceError(AlgoperfError):
  """A malformed hyperparameter search space."""


class InfrastructureError(AlgoperfError):
  """The machine failed the run: disk full, read-only or unusable paths."""

  exit_code = exit_codes.INFRASTRUCTURE
