"""The split flags every command shares, and the checks of the data root.

```
--input-split NAME=PATTERN   an input split, its pattern relative to the data
                             root (repeatable); several are kept as they are
--split NAME=WEIGHT,...      hash one input split into output splits of
                             these weights, e.g. train=8,eval=2
                             (default train=2,eval=1, as TFX)
```

`check_data_root` checks a local data root before anything heavy loads, so
that a missing or empty folder, or a pattern that matches nothing, is
reported at once. It checks only what the engine would refuse too; folders
on remote storage (gs://...) are left to the engine.
"""

import argparse
import glob
import os
import re
from typing import Dict, List, Optional, Sequence, Tuple

from image_example_gen.cli import errors

__all__ = [
    'DEFAULT_SPLIT', 'SPLIT_FLAG', 'add_split_arguments', 'check_data_root',
    'check_split_folders', 'check_splits', 'parse_input_splits',
    'parse_split', 'show_split'
]

SPLIT_FLAG = '--split'
# TFX's default output config for one input split: train:eval 2:1.
DEFAULT_SPLIT: Tuple[Tuple[str, int], ...] = (('train', 2), ('eval', 1))
# A split name: it becomes the folder name Split-<name>.
_SPLIT_NAME = re.compile(r'[A-Za-z0-9_.-]+')


def show_split(split: Sequence[Tuple[str, int]]) -> str:
  """'train=2,eval=1'."""
  return ','.join(f'{name}={weight}' for name, weight in split)


def add_split_arguments(parser: argparse.ArgumentParser,
                        data_root: str) -> None:
  """Adds --input-split and --split; data_root names the data folder."""
  parser.add_argument(
      '--input-split', action='append', default=[], metavar='NAME=PATTERN',
      help=f"an input split, its pattern relative to {data_root}, e.g. "
      "'train=train/*' (repeatable; several are kept as the output splits). "
      "Default: every class folder ('*'), one input split hashed per "
      f'{SPLIT_FLAG}')
  parser.add_argument(
      SPLIT_FLAG, type=parse_split, metavar='NAME=WEIGHT,...',
      help='the output splits one input split is hashed into, and their '
      'weights (hash buckets), e.g. train=8,eval=2 or '
      f'train=8,eval=1,test=1 (default: {show_split(DEFAULT_SPLIT)}, as TFX)')


def parse_split(text: str) -> List[Tuple[str, int]]:
  """[(name, weight)] of 'train=8,eval=2' (an argparse `type`).

  Raises:
    argparse.ArgumentTypeError: Not NAME=WEIGHT,...; a name that cannot be a
      folder name, given twice, or a weight that is not a whole number of 1
      or more.
  """
  split: List[Tuple[str, int]] = []
  for item in text.split(','):
    name, separator, weight = (part.strip() for part in item.partition('='))
    if not separator or not name or not weight:
      raise argparse.ArgumentTypeError(
          f'{text!r} is not NAME=WEIGHT,... (e.g. train=8,eval=2)')
    if not _SPLIT_NAME.fullmatch(name):
      raise argparse.ArgumentTypeError(
          f'split name {name!r} may hold only letters, digits, _, . and -')
    if not weight.isdigit() or int(weight) < 1:
      raise argparse.ArgumentTypeError(
          f'the weight of split {name} is {weight!r}; expected a whole '
          'number of 1 or more (e.g. train=8,eval=2)')
    if name in dict(split):
      raise argparse.ArgumentTypeError(f'split {name} is given twice')
    split.append((name, int(weight)))
  return split


def parse_input_splits(items: Sequence[str], *,
                       allow_span: bool = False) -> Dict[str, str]:
  """{name: pattern} of NAME=PATTERN items, in order.

  Args:
    items: The --input-split values.
    allow_span: Accept {SPAN}, {VERSION} and date placeholders, which only
      the ImageExampleGen component's driver resolves (the pipelines).

  Raises:
    errors.UsageError: A malformed or repeated item, or (without allow_span)
      a placeholder.
  """
  splits: Dict[str, str] = {}
  for item in items:
    name, separator, pattern = item.partition('=')
    if not separator or not name or not pattern:
      raise errors.UsageError(
          f'argument --input-split: {item!r} is not NAME=PATTERN')
    if name in splits:
      raise errors.UsageError(
          f'argument --input-split: split {name!r} is given twice')
    if '{' in pattern and not allow_span:
      raise errors.UsageError(
          f'argument --input-split: {item!r} has a {{SPAN}}, {{VERSION}} or '
          'date placeholder; only the ImageExampleGen component resolves '
          'those')
    splits[name] = pattern
  return splits


def check_splits(input_splits: Dict[str, str],
                 split: Optional[Sequence[Tuple[str, int]]]) -> None:
  """Raises errors.UsageError for --split with several input splits."""
  if split and len(input_splits) > 1:
    raise errors.UsageError(
        f'{SPLIT_FLAG} hashes one input split into output splits, but '
        f'--input-split gives {len(input_splits)} '
        f'({", ".join(input_splits)}), which are kept as the output splits; '
        f'drop {SPLIT_FLAG}, or give one --input-split')


def check_split_folders(data_root: str, input_splits: Dict[str, str],
                        split: Optional[Sequence[Tuple[str, int]]],
                        name: str) -> None:
  """Raises errors.UsageError for --split, without --input-split, on a data
  root of split folders (train/, eval/ ...): the engine reads those as input
  splits and keeps them (beam.engine), so --split would be ignored.

  Loads core.discovery (and Beam's file systems) only when --split is given
  without --input-split.
  """
  if not split or input_splits:
    return
  from image_example_gen.core import discovery  # pylint: disable=g-import-not-at-top
  splits, others = discovery.split_folders(data_root)
  if splits and not others:
    raise errors.UsageError(
        f'{name} {data_root} holds split folders ({", ".join(splits)}), which '
        f'are read as splits and kept, so {SPLIT_FLAG} has nothing to hash; '
        f'drop {SPLIT_FLAG}, or hash one of them with --input-split '
        f'{splits[0]}={splits[0]}/*')


def check_data_root(data_root: str, input_splits: Dict[str, str],
                    name: str) -> None:
  """Checks a local data root and the input split patterns.

  Args:
    data_root: An absolute path, or a URI (not checked).
    input_splits: {split: pattern}; empty for the default (every file).
    name: How the command names the data root ('DATA_ROOT', '--data-root').

  Raises:
    errors.CommandError: The folder does not exist, is a file, holds no
      file, or a pattern (without placeholders) matches no file.
  """
  if '://' in data_root:
    return
  if not os.path.exists(data_root):
    raise errors.CommandError(f'{name} {data_root} does not exist')
  if not os.path.isdir(data_root):
    raise errors.CommandError(f'{name} {data_root} is not a folder')
  if not input_splits:
    if not _holds_a_file(data_root):
      raise errors.CommandError(f'{name} has no files: {data_root}')
    return
  for split, pattern in input_splits.items():
    if '{' in pattern:  # Resolved by the component's driver.
      continue
    matches = glob.glob(os.path.join(data_root, pattern),
                        include_hidden=True)
    if not any(os.path.isfile(path) or _holds_a_file(path)
               for path in matches):
      raise errors.CommandError(
          f'--input-split {split}={pattern} matched no files under '
          f'{data_root}')


def _holds_a_file(folder: str) -> bool:
  """Whether there is any file under folder (stops at the first). A linked
  folder counts as one that may hold files: the engine decides."""
  for root, folders, files in os.walk(folder):
    if files or any(os.path.islink(os.path.join(root, name))
                    for name in folders):
      return True
  return False
