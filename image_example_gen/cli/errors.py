"""The command's errors, and the one line that describes any error."""

import re
from typing import Optional

from image_example_gen.cli import wording

__all__ = ['CommandError', 'UsageError', 'describe', 'skipped_list']


class UsageError(Exception):
  """The command line is wrong (exit status 2, as for argparse's errors)."""


class CommandError(Exception):
  """The command cannot do its work, e.g. a folder is missing (status 1)."""


# Errors whose message says all a user needs: bad input or a missing file.
_EXPECTED = (ValueError, OSError, CommandError, UsageError)
# The last exception line of a traceback a Beam worker process sends back.
_EXCEPTION_LINE = re.compile(
    r'^([A-Za-z_][\w.]*(?:Error|Exception|Exit)): (.*)$', re.MULTILINE)
# What Beam appends to an exception raised inside a step.
_BEAM_STEP = re.compile(r"\s*\[while running '.*'\]$")
_TRACEBACK = 'Traceback (most recent call last)'


def describe(error: BaseException,
             context: Optional[wording.Context] = None) -> str:
  """The error as one line, in the command's language, without Beam's
  wrapping.

  The engine's IngestError and BadFileError are phrased from what they carry
  (wording.describe_known). Any other ValueError or OSError (bad files,
  refused options, gates, missing paths) is described by its message alone,
  in flags rather than Python keywords (wording.in_flags); any other error by
  its class name and message, with a hint to rerun with --debug. An error
  raised in a Beam worker process arrives as a RuntimeError carrying the
  worker's traceback as text; it is described by the traceback's last
  exception line.
  """
  context = context or wording.Context()
  known = wording.describe_known(error, context)
  if known is not None:
    return known
  name = type(error).__name__
  message = str(error)
  expected = isinstance(error, _EXPECTED)
  if _TRACEBACK in message:
    found = _EXCEPTION_LINE.findall(message)
    if found:
      qualified_name, message = found[-1]
      expected = qualified_name.startswith('image_example_gen.')
      name = qualified_name.rpartition('.')[2]
  message = ' '.join(line.strip() for line in message.splitlines()
                     if line.strip() and _TRACEBACK not in line)
  message = _BEAM_STEP.sub('', message)
  if expected and message:
    return wording.in_flags(message, context)
  return (f'{name}: {message}' if message else name) + (
      ' (rerun with --debug for the traceback)')


def skipped_list(error: BaseException) -> Optional[str]:
  """Where every skipped file of a refused ingest is listed, when there are
  more than an error line names; else None.

  The engine publishes nothing when it refuses an ingest, but writes the
  full list where the report of a published run would be (`skipped.jsonl`
  in the --out of `ingest`, in the artifact folder of a pipeline run), and
  says where in its engine.IngestError.
  """
  if wording.describe_known(error) is None:  # Not the engine's error.
    return None
  report = getattr(error, 'report', None)
  path = getattr(error, 'skipped_list', None)
  if report is None or not path or (
      report.total_skipped <= wording.MAX_FILES_SHOWN):
    return None
  return path
