"""The argument parser every command uses: no abbreviations, one-line errors.

`Parser` is an ArgumentParser that

- refuses abbreviated flags (`--on-bad-imag` is an error, not `--on-bad-image`),
  and suggests the flag meant;
- raises `errors.UsageError` instead of printing its usage and exiting, so
  that the command prints the error as one line.

`add_version_argument` adds `--version`, which prints the version of the
installed `image_example_gen` distribution (read only when asked for).
"""

import argparse
import difflib
import re
from typing import Iterator, List, NoReturn

from image_example_gen.cli import errors

__all__ = ['DISTRIBUTION', 'Parser', 'add_version_argument', 'version']

# The distribution whose version `--version` prints (setup.py's name).
DISTRIBUTION = 'image_example_gen'


class Parser(argparse.ArgumentParser):
  """An ArgumentParser without abbreviations whose errors are UsageError."""

  def __init__(self, *args, **kwargs):
    kwargs.setdefault('allow_abbrev', False)
    super().__init__(*args, **kwargs)

  def error(self, message: str) -> NoReturn:
    raise errors.UsageError(_with_suggestion(self, message))


def version() -> str:
  """The installed version of image_example_gen, or a note that it is not
  installed (run from a source tree without `pip install`)."""
  import importlib.metadata  # pylint: disable=g-import-not-at-top
  try:
    return importlib.metadata.version(DISTRIBUTION)
  except importlib.metadata.PackageNotFoundError:
    return 'unknown (not installed)'


class _VersionAction(argparse.Action):
  """Like argparse's 'version' action, reading the version only when used."""

  def __init__(self, option_strings, dest=argparse.SUPPRESS,
               default=argparse.SUPPRESS, help=None):  # pylint: disable=redefined-builtin
    super().__init__(option_strings=option_strings, dest=dest,
                     default=default, nargs=0, help=help)

  def __call__(self, parser, namespace, values, option_string=None):
    if parser.prog.replace('-', '_') == DISTRIBUTION:
      print(f'{parser.prog} {version()}')
    else:
      print(f'{parser.prog} ({DISTRIBUTION} {version()})')
    parser.exit()


def add_version_argument(parser: argparse.ArgumentParser) -> None:
  """Adds --version: 'image-example-gen 0.1.0', or for another command
  (the sample pipelines) 'python -m pipelines.image_pipeline
  (image_example_gen 0.1.0)'."""
  parser.add_argument('--version', action=_VersionAction,
                      help="show the installed image_example_gen's version "
                      'and exit')


def _option_strings(parser: argparse.ArgumentParser) -> Iterator[str]:
  """The long flags of a parser and of its subcommands."""
  for action in parser._actions:  # pylint: disable=protected-access
    for option in action.option_strings:
      if option.startswith('--'):
        yield option
    if isinstance(action, argparse._SubParsersAction):  # pylint: disable=protected-access
      for subparser in action.choices.values():
        yield from _option_strings(subparser)


def _with_suggestion(parser: argparse.ArgumentParser, message: str) -> str:
  """'unrecognized arguments: --on-bad-imag' + ' (did you mean
  --on-bad-image?)' when a flag is close to one the command has."""
  match = re.match(r'unrecognized arguments: (.*)$', message)
  if not match:
    return message
  known = sorted(set(_option_strings(parser)))
  meant: List[str] = []
  for argument in match.group(1).split():
    flag = argument.partition('=')[0]
    if flag.startswith('--'):
      close = difflib.get_close_matches(flag, known, n=1, cutoff=0.75)
      if close:
        meant.append(close[0])
  if meant:
    message += f' (did you mean {", ".join(meant)}?)'
  return message
