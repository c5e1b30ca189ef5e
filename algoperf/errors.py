"""Named exceptions for contract violations; each message says the fix."""


class AlgoperfError(Exception):
  """Base of the errors the CLI reports as one clear paragraph."""


class SubmissionError(AlgoperfError):
  """A submission breaks the API (missing function, wrong signature, ...)."""


class WorkloadError(AlgoperfError):
  """An unknown workload name or a workload misconfiguration."""


class DataError(AlgoperfError):
  """Missing, partial or corrupted prepared data."""


class SearchSpaceError(AlgoperfError):
  """A malformed hyperparameter search space."""
