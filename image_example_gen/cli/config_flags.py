"""One command-line flag per IngestConfig field, generated from the dataclass.

A field `max_bad_fraction: Optional[float] = None` becomes
`--max-bad-fraction X`; its type comes from the annotation, its choices from
config.py's `_CHOICES`, its default from the field, and its help from the
field's entry in IngestConfig's docstring: the first sentence, and any later
one that says what None or the default means. A new option of IngestConfig
therefore appears on the command line without editing this file, unless its
type is one this module cannot parse, which fails loudly when the parser is
built.

Supported annotations (optionally inside `Optional[...]`): str, int, float
and Tuple[str, ...] (a comma-separated list).
"""

import argparse
import dataclasses
import re
import typing
from typing import Any, Dict, Tuple

from image_example_gen.core import config as config_lib
from image_example_gen.cli import errors
from image_example_gen.cli import wording

__all__ = ['FLAGS', 'add_config_arguments', 'config_from_args', 'flag_of']

# {IngestConfig field: its flag}, e.g. 'on_bad_image': '--on-bad-image'; the
# commands name the flag wherever the engine names the field.
FLAGS = wording.FLAGS
flag_of = wording.flag_of

# Prefix of the argparse destinations, so that no option can collide with the
# command's own arguments.
_DEST_PREFIX = 'ingest_config.'
# pylint: disable-next=protected-access
_CHOICES: Dict[str, Tuple[str, ...]] = config_lib._CHOICES


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
  """Adds one flag per IngestConfig field, in a group of its own."""
  group = parser.add_argument_group(
      'ingest options', 'the options of ImageExampleGen (IngestConfig); see '
      'README.md, Options')
  descriptions = _attribute_descriptions(config_lib.IngestConfig)
  hints = typing.get_type_hints(config_lib.IngestConfig)
  for field in dataclasses.fields(config_lib.IngestConfig):
    kind = _unwrap_optional(hints[field.name])
    help_text = descriptions.get(field.name, '')
    if 'default' not in help_text:
      help_text += f' (default: {_show(field.default)})'
    # SUPPRESS: only the flags given reach the config, so the dataclass keeps
    # the last word on defaults.
    options: Dict[str, Any] = dict(
        dest=_DEST_PREFIX + field.name, default=argparse.SUPPRESS,
        help=help_text.strip().replace('%', '%%'))
    if field.name in _CHOICES:
      options.update(choices=_CHOICES[field.name], metavar=None)
    else:
      options.update(_parser_for(field.name, kind))
    group.add_argument(FLAGS[field.name], **options)


def config_from_args(args: argparse.Namespace) -> config_lib.IngestConfig:
  """The IngestConfig of the flags given.

  Raises:
    errors.UsageError: IngestConfig refuses a value or a combination; the
      message names the flags (wording.in_flags).
  """
  given = {
      key[len(_DEST_PREFIX):]: value
      for key, value in vars(args).items() if key.startswith(_DEST_PREFIX)
  }
  try:
    return config_lib.IngestConfig.from_options(**given)
  except (TypeError, ValueError) as error:
    raise errors.UsageError(wording.in_flags(str(error))) from error


def _unwrap_optional(annotation: Any) -> Any:
  """Optional[X] -> X; anything else unchanged."""
  if typing.get_origin(annotation) is typing.Union:
    members = [arg for arg in typing.get_args(annotation)
               if arg is not type(None)]
    if len(members) == 1:
      return members[0]
  return annotation


def _parser_for(name: str, kind: Any) -> Dict[str, Any]:
  """argparse `type` and `metavar` (or `action`) for a field of annotation
  `kind`; a bool field is an on/off flag (`--stratify`, `--no-stratify`)."""
  if kind is bool:
    return dict(action=argparse.BooleanOptionalAction)
  if kind is int:
    return dict(type=int, metavar='N')
  if kind is float:
    return dict(type=float, metavar='X')
  if kind is str:
    return dict(type=str, metavar='TEXT')
  if (typing.get_origin(kind) is tuple and
      typing.get_args(kind) == (str, Ellipsis)):
    return dict(type=_comma_list, metavar='A,B,...')
  raise TypeError(
      f'IngestConfig.{name} has type {kind!r}, which the command line cannot '
      'parse; teach image_example_gen/cli/config_flags.py to.')


def _comma_list(text: str) -> Tuple[str, ...]:
  return tuple(item.strip() for item in text.split(','))


def _show(value: Any) -> str:
  """A default as typed on the command line; large numbers as 268_435_456."""
  if isinstance(value, int) and value >= 100_000:
    return f'{value:_}'
  return str(value)


def _attribute_descriptions(cls: type) -> Dict[str, str]:
  """{attribute: help text} from the `Attributes:` section of a docstring."""
  entries: Dict[str, str] = {}
  current = None
  in_section = False
  for line in (cls.__doc__ or '').splitlines():
    stripped = line.strip()
    if stripped == 'Attributes:':
      in_section = True
      continue
    if not in_section:
      continue
    entry = re.match(r'^    (\w+): (.*)$', line)
    if entry:
      current = entry.group(1)
      entries[current] = entry.group(2)
    elif current and stripped and line.startswith('      '):
      entries[current] += ' ' + stripped
    elif stripped:  # Another section starts.
      break
  return {name: _help_sentences(text) for name, text in entries.items()}


def _help_sentences(text: str) -> str:
  """The first sentence, and the later ones about None or the default."""
  sentences = re.split(r'(?<=\.)\s+', text)
  return ' '.join(
      [sentences[0]] + [sentence for sentence in sentences[1:]
                        if 'None' in sentence or 'default' in sentence])

