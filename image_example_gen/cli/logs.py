"""What a command prints on stderr: this package's lines, little else.

The package's own loggers (`image_example_gen.*`: the files found, the
progress lines of `image_example_gen.beam.progress` every 5 s) print their
messages to stderr, warnings as `<prog>: warning: ...`. Unless `--verbose`
(or `--debug`):

- TensorFlow's C++ start-up lines (the CUDA "Unable to register cuDNN
  factory" errors on a machine without a GPU, the CPU feature notice) are
  turned off with TF_CPP_MIN_LOG_LEVEL, which TensorFlow reads when it loads:
  every command loads it after this point;
- Beam's, TFX's, absl's and TensorFlow's Python loggers are turned down to
  CRITICAL: Beam's worker chatter, the errors Beam and TFX log with a
  traceback before re-raising them (the command reports each error once, on
  one line), absl's `ArtifactQuery.property_predicate is not supported`;
- FutureWarnings and DeprecationWarnings (google-api-core's Python version
  notices, ...) are hidden, in this process and, through PYTHONWARNINGS, in
  the processes it starts (Beam workers);
- the engine's summary lines, which the command prints itself at the end,
  are not logged twice.

`command_logging` restores the loggers, warning filters and environment when
the command ends, so that calling a command's main() in a test or a notebook
leaves no trace.
"""

import contextlib
import logging
import os
import sys
import warnings
from typing import Dict, Iterator, Optional

__all__ = ['PACKAGE_LOGGER', 'PROGRESS_LOGGER', 'command_logging']

PACKAGE_LOGGER = 'image_example_gen'
PROGRESS_LOGGER = 'image_example_gen.beam.progress'
# Logs the report's summary lines, which the commands print themselves.
_ENGINE_LOGGER = 'image_example_gen.beam.engine'
# Loggers turned down to CRITICAL unless verbose.
_NOISY_LOGGERS = ('apache_beam', 'tensorflow', 'absl', 'tfx',
                  'tensorflow_model_analysis', 'tensorflow_data_validation')
# Environment of the quiet mode, for TensorFlow's C++ logging and for the
# warnings of processes the command starts.
_QUIET_ENVIRONMENT = {
    'TF_CPP_MIN_LOG_LEVEL': '3',
    'PYTHONWARNINGS': 'ignore::FutureWarning,ignore::DeprecationWarning',
}


class _Formatter(logging.Formatter):
  """INFO lines as they are; `<prog>: warning: ...` above INFO."""

  def __init__(self, prog: str):
    super().__init__()
    self._prog = prog

  def format(self, record: logging.LogRecord) -> str:
    message = super().format(record)
    if record.levelno <= logging.INFO:
      return message
    return f'{self._prog}: {record.levelname.lower()}: {message}'


class _OnlyCritical(logging.Filter):
  """Drops records below CRITICAL, whatever level a library sets later
  (absl's set_verbosity resets the `absl` logger's level)."""

  def filter(self, record: logging.LogRecord) -> bool:
    return record.levelno >= logging.CRITICAL


@contextlib.contextmanager
def command_logging(verbose: bool,
                    prog: str = 'image-example-gen') -> Iterator[None]:
  """Sets up the command's logging (module docstring); restores it at exit.

  Args:
    verbose: Leave the libraries' logs and warnings as they are.
    prog: The command's name, which prefixes warnings.
  """
  package = logging.getLogger(PACKAGE_LOGGER)
  handler = logging.StreamHandler(sys.stderr)
  handler.setFormatter(_Formatter(prog))
  saved_package = (package.level, package.propagate)
  package.addHandler(handler)
  package.setLevel(logging.INFO)
  package.propagate = False  # Root may have a handler too (Beam adds one).
  engine = logging.getLogger(_ENGINE_LOGGER)
  saved_engine_level = engine.level
  noisy = [logging.getLogger(name) for name in _NOISY_LOGGERS]
  saved_levels = [logger.level for logger in noisy]
  only_critical = _OnlyCritical()
  saved_environment: Dict[str, Optional[str]] = {}
  with warnings.catch_warnings():
    if not verbose:
      for name, value in _QUIET_ENVIRONMENT.items():
        saved_environment[name] = os.environ.get(name)
        os.environ.setdefault(name, value)
      engine.setLevel(logging.WARNING)
      for logger in noisy:
        logger.setLevel(logging.CRITICAL)
        logger.addFilter(only_critical)
      warnings.simplefilter('ignore', FutureWarning)
      warnings.simplefilter('ignore', DeprecationWarning)
    try:
      yield
    finally:
      package.removeHandler(handler)
      package.setLevel(saved_package[0])
      package.propagate = saved_package[1]
      engine.setLevel(saved_engine_level)
      for logger, level in zip(noisy, saved_levels):
        logger.setLevel(level)
        logger.removeFilter(only_critical)
      for name, value in saved_environment.items():
        if value is None:
          os.environ.pop(name, None)
        else:
          os.environ[name] = value
