"""The command's errors, and the one line that describes any error."""

import re

__all__ = ['CommandError', 'UsageError', 'describe']


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


def describe(error: BaseException) -> str:
  """The error as one line, without Beam's wrapping.

  A ValueError or OSError (bad files, refused options, gates, missing paths)
  is described by its message alone; any other error by its class name and
  message, with a hint to rerun with --debug. An error raised in a Beam worker
  process arrives as a RuntimeError carrying the worker's traceback as text;
  it is described by the traceback's last exception line.
  """
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
    return message
  return (f'{name}: {message}' if message else name) + (
      ' (rerun with --debug for the traceback)')
