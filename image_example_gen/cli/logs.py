"""What the command logs to stderr: this package's INFO lines, little else.

The package's own loggers (`image_example_gen.*`: the files found, the
progress lines of `image_example_gen.beam.progress` every 5 s) print their
messages to stderr, warnings as `image-example-gen: warning: ...`. TensorFlow's C++ start-up lines, Beam's worker chatter and
the errors Beam logs with a traceback before re-raising them (the command
reports each error once, on one line) are turned down, and library
FutureWarnings/DeprecationWarnings are hidden; `--debug` leaves all of them.
"""

import contextlib
import logging
import os
import sys
import warnings
from typing import Iterator

__all__ = ['PACKAGE_LOGGER', 'PROGRESS_LOGGER', 'command_logging']

PACKAGE_LOGGER = 'image_example_gen'
PROGRESS_LOGGER = 'image_example_gen.beam.progress'
# Loggers turned down to CRITICAL unless --debug.
_NOISY_LOGGERS = ('apache_beam', 'tensorflow', 'absl', 'tfx')


class _Formatter(logging.Formatter):
  """INFO lines as they are; `image-example-gen: warning: ...` above INFO."""

  def format(self, record: logging.LogRecord) -> str:
    message = super().format(record)
    if record.levelno <= logging.INFO:
      return message
    return f'image-example-gen: {record.levelname.lower()}: {message}'


@contextlib.contextmanager
def command_logging(debug: bool) -> Iterator[None]:
  """Sets up the command's logging; restores the previous state at exit."""
  package = logging.getLogger(PACKAGE_LOGGER)
  handler = logging.StreamHandler(sys.stderr)
  handler.setFormatter(_Formatter())
  saved_package = (package.level, package.propagate)
  package.addHandler(handler)
  package.setLevel(logging.INFO)
  package.propagate = False  # Root may have a handler too (Beam adds one).
  noisy = [logging.getLogger(name) for name in _NOISY_LOGGERS]
  saved_levels = [logger.level for logger in noisy]
  with warnings.catch_warnings():
    if not debug:
      # Read by TensorFlow when it loads, which is after this point.
      os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
      for logger in noisy:
        logger.setLevel(logging.CRITICAL)
      warnings.simplefilter('ignore', FutureWarning)
      warnings.simplefilter('ignore', DeprecationWarning)
    try:
      yield
    finally:
      package.removeHandler(handler)
      package.setLevel(saved_package[0])
      package.propagate = saved_package[1]
      for logger, level in zip(noisy, saved_levels):
        logger.setLevel(level)
