"""The command's errors, and the one line that describes any error."""

import json
import re
from typing import Optional

from image_example_gen.cli import wording

__all__ = ['CommandError', 'UsageError', 'describe', 'save_skipped_list']


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


def save_skipped_list(error: BaseException) -> Optional[str]:
  """Writes the skipped files of a refused ingest, when there are more than
  an error line names, to `skipped.jsonl` in the folder that was not
  published (the --out of `ingest`, the artifact folder of a pipeline run);
  returns its path, or None if nothing was written.

  The engine publishes nothing when it refuses an ingest (engine.IngestError,
  which carries the run's report), so the command keeps the full list for
  the user, where the report of a published run would be.
  """
  if wording.describe_known(error) is None:  # Not the engine's error.
    return None
  report = getattr(error, 'report', None)
  output_uri = getattr(error, 'output_uri', None)
  if report is None or not output_uri or (
      len(report.skipped) <= wording.MAX_FILES_SHOWN):
    return None
  # pylint: disable-next=g-import-not-at-top
  from image_example_gen.core import artifact, files
  path = files.join(output_uri, artifact.SKIPPED_FILE_NAME)
  try:
    files.makedirs(output_uri)
    files.write_text(path, ''.join(
        json.dumps(entry, ensure_ascii=False) + '\n'
        for entry in report.skipped))
  except OSError:
    return None
  return path
