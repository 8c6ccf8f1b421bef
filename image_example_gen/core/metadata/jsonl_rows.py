"""Parses a metadata.jsonl into rows (see the package docstring for the format).

Each non-blank line is a JSON object with a file_name string. `label` is a
name (string) or an id (integer); `labels` is a list of them. Every other key
is a feature column: a string, number, boolean or a flat list of them; null
is a missing value, and a list stays a list. The columns are the keys met in
the whole file, in order of first appearance.
"""

import json
import math
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from image_example_gen.core.metadata import file_names
from image_example_gen.core.metadata import parsed_row
from image_example_gen.core.metadata import table

__all__ = ['JsonlRows']

_LABEL_KEYS = (parsed_row.LABEL, parsed_row.LABELS)


class _BadRow(Exception):
  """A row that cannot be used; carries what to report."""


class JsonlRows:
  """The rows of a JSONL metadata file.

  Iterating yields a ParsedRow or a RowProblem for each non-blank line, and
  raises MetadataError for a file that is unusable as a whole: both a label
  and a labels key, an empty key, or rows none of which has a file_name.
  `label_column` and `feature_columns` are complete once iteration ends.
  """

  def __init__(self, lines: Iterable[str], path: str):
    self._lines = lines
    self._path = path
    self.label_column: Optional[str] = None
    self._label_line = 0
    # Column -> the same string, so that every row's features share it.
    self._columns: Dict[str, str] = {}

  @property
  def feature_columns(self) -> Tuple[str, ...]:
    """The feature columns met so far, in order of first appearance."""
    return tuple(self._columns)

  def __iter__(self) -> Iterator[Union[parsed_row.ParsedRow,
                                       table.RowProblem]]:
    objects = named = 0
    for line, text in enumerate(self._lines, 1):
      if not text.strip():
        continue
      try:
        row = json.loads(text, parse_constant=_refuse_constant)
      except json.JSONDecodeError as error:
        yield table.RowProblem(
            line, '', table.UNPARSABLE_ROW,
            f'not valid JSON ({error.msg} at column {error.colno})')
        continue
      except (ValueError, RecursionError) as error:
        yield table.RowProblem(line, '', table.UNPARSABLE_ROW,
                               f'not valid JSON ({error})')
        continue
      if not isinstance(row, dict):
        yield table.RowProblem(
            line, '', table.UNPARSABLE_ROW,
            f'a JSON {type(row).__name__}, not an object: write one '
            '{"file_name": ...} object per line')
        continue
      objects += 1
      self._note_columns(row, line)
      if parsed_row.FILE_NAME in row:
        named += 1
      yield self._row(line, row)
    if objects and not named:
      raise table.MetadataError(
          f'{self._path}: no row has a file_name key; give every line a '
          '"file_name" naming its image, relative to the file\'s folder.')

  def _note_columns(self, row: Dict[str, Any], line: int) -> None:
    for key in row:
      if key == parsed_row.FILE_NAME:
        continue
      if key in _LABEL_KEYS:
        if self.label_column is None:
          self.label_column, self._label_line = key, line
        elif key != self.label_column:
          raise table.MetadataError(
              f'{self._path}: has both a label key (line {self._label_line}'
              f' or {line}) and a labels key; keep label for one label per '
              'image or labels for several.')
      elif not key:
        raise table.MetadataError(
            f'{self._path}: line {line} has an empty key; name every '
            'column.')
      elif key not in self._columns:
        self._columns[key] = key

  def _row(self, line: int,
           row: Dict[str, Any]) -> Union[parsed_row.ParsedRow,
                                         table.RowProblem]:
    written = row.get(parsed_row.FILE_NAME)
    shown = written if isinstance(written, str) else (
        '' if written is None else json.dumps(written))
    try:
      if not isinstance(written, str):
        raise _BadRow(table.UNPARSABLE_ROW,
                      'no file_name' if written is None else
                      f'file_name is {shown}, not a string')
      try:
        name = file_names.normalize_file_name(written)
      except file_names.BadFileName as error:
        raise _BadRow(error.reason, error.detail) from None
      labels = _labels(row)
      cells = tuple((self._columns[key], _values(key, value))
                    for key, value in row.items()
                    if key not in (parsed_row.FILE_NAME, parsed_row.LABEL,
                                   parsed_row.LABELS) and value is not None)
    except _BadRow as error:
      reason, detail = error.args
      return table.RowProblem(line, shown, reason, detail)
    return parsed_row.ParsedRow(line, written, name, labels, cells)


def _refuse_constant(constant: str):
  raise ValueError(f'{constant} is not JSON; write null for a missing value')


def _is_label(value: Any) -> bool:
  return (isinstance(value, str) and value != '') or (
      isinstance(value, int) and not isinstance(value, bool))


def _labels(row: Dict[str, Any]) -> Tuple[table.Label, ...]:
  if parsed_row.LABEL in row:
    value = row[parsed_row.LABEL]
    if value is None or value == '':
      return ()
    if not _is_label(value):
      raise _BadRow(
          table.UNPARSABLE_ROW,
          f'label is {json.dumps(value)}: a label is a class name (string) or '
          'a class id (integer); for several labels use a "labels" list')
    return (value,)
  value = row.get(parsed_row.LABELS)
  if value is None:
    return ()
  if not isinstance(value, list):
    raise _BadRow(
        table.UNPARSABLE_ROW,
        f'labels is {json.dumps(value)}, not a list: write ["cat", "dog"], or '
        '[] for no label')
  bad = [label for label in value if not _is_label(label)]
  if bad:
    raise _BadRow(
        table.UNPARSABLE_ROW,
        f'labels holds {json.dumps(bad[0])}: each label is a class name '
        '(non-empty string) or a class id (integer)')
  duplicate = parsed_row.duplicate_label(tuple(value))
  if duplicate is not None:
    raise _BadRow(
        table.UNPARSABLE_ROW,
        f'labels names {json.dumps(duplicate)} twice: write each label once')
  return tuple(value)


def _values(key: str, value: Any) -> Tuple[Any, ...]:
  values: List[Any] = value if isinstance(value, list) else [value]
  for item in values:
    if isinstance(item, float) and not math.isfinite(item):
      raise _BadRow(table.UNPARSABLE_ROW,
                    f'{key!r} holds a number too large for a float')
    if not isinstance(item, (str, int, float)):  # bool is an int.
      what = ('null inside a list' if item is None else
              'a list inside a list' if isinstance(item, list) else
              'a JSON object')
      raise _BadRow(
          table.UNPARSABLE_ROW,
          f'{key!r} holds {what}: a value is a string, number, boolean or '
          'a flat list of them (null for a missing value)')
  return tuple(values)
