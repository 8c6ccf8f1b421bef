"""The one error the inspection raises for bad input."""

__all__ = ['InspectionError']


class InspectionError(ValueError):
  """Bad input: its message is one line naming the path and what to do."""
