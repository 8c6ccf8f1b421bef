"""`--beam-pipeline-args`: Beam's options, checked before the ingest starts.

Beam parses its options only when the pipeline is built, deep inside the
executor, and on a bad value it prints its whole usage (a hundred lines) and
exits. `check` parses them first, so that a bad value is one usage error
line, and warns about options no Beam options class knows, which Beam would
drop (the command turns Beam's own warning down).
"""

import argparse
import contextlib
import io
import logging
from typing import Sequence

from image_example_gen.cli import errors

__all__ = ['add_argument', 'check']

_LOGGER = logging.getLogger(__name__)


def add_argument(parser: argparse.ArgumentParser) -> None:
  """Adds --beam-pipeline-args: everything after it, so it must come last."""
  parser.add_argument(
      '--beam-pipeline-args', nargs=argparse.REMAINDER, default=[],
      metavar='ARG',
      help='Beam options: everything after this flag, so it comes last; e.g. '
      '--direct_running_mode=multi_processing --direct_num_workers=2')


def check(beam_args: Sequence[str]) -> None:
  """Parses the Beam options as Beam will; logs a warning for unknown ones.

  Raises:
    errors.UsageError: Beam refuses an option value.
  """
  # Beam loads on first use: `--help` and bad command lines stay fast.
  from apache_beam.options import pipeline_options  # pylint: disable=g-import-not-at-top
  beam_usage = io.StringIO()
  try:
    with contextlib.redirect_stderr(beam_usage):
      options = pipeline_options.PipelineOptions(list(beam_args))
      known = options.get_all_options()
      given = options.get_all_options(retain_unknown_options=True)
  except SystemExit as exit_error:
    lines = beam_usage.getvalue().strip().splitlines() or [str(exit_error)]
    message = lines[-1].partition('error: ')[2] or lines[-1]
    raise errors.UsageError(
        f'argument --beam-pipeline-args: {message}') from None
  unknown = sorted(set(given) - set(known))
  if unknown:
    _LOGGER.warning('Beam ignores the unknown option(s) %s.',
                    ', '.join(f'--{name}' for name in unknown))
