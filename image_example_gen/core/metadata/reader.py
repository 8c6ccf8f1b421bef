"""Finds and reads a metadata file into a MetadataTable.

The file is streamed twice: the first pass infers each column's type and the
kind of the labels over the whole file; the second builds the typed rows.
`scan_metadata` streams them (core.plan stores them on disk);
`read_metadata` holds them in a MetadataTable.
Local paths are opened with open(); URIs (gs://, s3:// ...) with Beam's
FileSystems, imported only then.
"""

import contextlib
import os
import re
from typing import Dict, Iterator, List, Optional, Tuple, Union

from image_example_gen.core.metadata import csv_rows
from image_example_gen.core.metadata import jsonl_rows
from image_example_gen.core.metadata import row_builder
from image_example_gen.core.metadata import table
from image_example_gen.core.metadata import values

__all__ = ['METADATA_FILE_NAMES', 'duplicate_problems', 'find_metadata_file',
           'read_metadata', 'scan_metadata']

METADATA_FILE_NAMES = ('metadata.csv', 'metadata.jsonl')

_URI = re.compile(r'[A-Za-z][A-Za-z0-9+.-]*://')
_FORMATS = {
    '.csv': (csv_rows.CsvRows, values.TEXT_VALUES),
    '.jsonl': (jsonl_rows.JsonlRows, values.JSON_VALUES),
}


def find_metadata_file(folder: str) -> Optional[str]:
  """The path of metadata.csv or metadata.jsonl in `folder`, or None.

  Raises:
    MetadataError: The folder holds both.
  """
  found = [_join(folder, name) for name in METADATA_FILE_NAMES
           if _is_file(_join(folder, name))]
  if len(found) > 1:
    raise table.MetadataError(
        f'{folder}: holds both {" and ".join(METADATA_FILE_NAMES)}; keep '
        'one of them.')
  return found[0] if found else None


def read_metadata(path: str) -> table.MetadataTable:
  """Reads a metadata.csv or metadata.jsonl (by its extension), in memory.

  The launcher does not hold a table: core.plan streams `scan_metadata` into
  its store on disk. This is the whole table, for a caller that wants it.

  Raises:
    MetadataError: See scan_metadata.
  """
  header, items = scan_metadata(path)
  rows: Dict[str, table.MetadataRow] = {}
  problems: List[table.RowProblem] = []
  occurrences: Dict[str, List[Tuple[int, str]]] = {}
  for item in items:
    if isinstance(item, table.RowProblem):
      problems.append(item)
      continue
    written_name, row = item
    occurrences.setdefault(row.file_name, []).append((row.line, written_name))
    rows[row.file_name] = row
  repeats = {name: seen for name, seen in occurrences.items() if len(seen) > 1}
  for name in repeats:
    del rows[name]
  problems.extend(duplicate_problems(repeats))
  problems.sort(key=lambda problem: problem.line)
  return table.MetadataTable(path, header.folder, header.label_column,
                             header.column_types, rows, tuple(problems))


def scan_metadata(path: str) -> Tuple[
    table.MetadataFile,
    Iterator[Union[Tuple[str, table.MetadataRow], table.RowProblem]]]:
  """Reads a metadata file's first pass now, and streams its rows.

  Returns:
    (the file's columns and types, an iterator over its rows in file order:
    (file_name as written, the typed row) for a good row, a RowProblem for a
    row left out). Rows naming the same file are all yielded: finding them
    is the caller's (see duplicate_problems), so nothing here grows with the
    number of rows.

  Raises:
    MetadataError: The file cannot be used as a whole: unreadable, not
      UTF-8, neither .csv nor .jsonl, no file_name column, both a label
      and a labels column, a bad header. The iterator raises it too if the
      file changes between the passes and a line stops being UTF-8.
  """
  extension = os.path.splitext(path)[1].lower()
  if extension not in _FORMATS:
    raise table.MetadataError(
        f'{path}: a metadata file is a .csv or a .jsonl file; rename it or '
        'convert it.')
  parser, codec = _FORMATS[extension]
  with _open_lines(path) as lines:
    parsed = parser(lines, path)
    column_types, label_ids = _survey(parsed, codec)
  header = table.MetadataFile(path, _folder_of(path), parsed.label_column,
                              column_types)
  builder = row_builder.RowBuilder(codec, column_types=column_types,
                                   label_ids=label_ids)

  def rows():
    with _open_lines(path) as lines:
      for item in parser(lines, path):
        if isinstance(item, table.RowProblem):
          yield item
        else:
          yield item.written_name, builder.build(item)

  return header, rows()


def _survey(parsed, codec: values.ValueCodec) -> Tuple[Dict[str, str], bool]:
  """First pass: the column types, and whether the labels are ids."""
  kinds: Dict[str, str] = {}
  label_ids = True
  for item in parsed:
    if isinstance(item, table.RowProblem):
      continue
    if label_ids:
      label_ids = all(codec.is_label_id(label) for label in item.labels)
    for column, raw in item.cells:
      kind = kinds.get(column, values.INT64)
      for value in raw:
        if kind == values.BYTES:
          break
        kind = values.widen(kind, codec.kind(value))
      kinds[column] = kind
  column_types = {column: kinds.get(column, values.BYTES)
                  for column in parsed.feature_columns}
  return column_types, label_ids


def duplicate_problems(
    repeats: Dict[str, List[Tuple[int, str]]]) -> Iterator[table.RowProblem]:
  """The problems of the rows naming one file more than once.

  Args:
    repeats: {normalized file_name: [(line, file_name as written), ...]}
      for each file_name named by two rows or more.
  """
  for name, occurrences in repeats.items():
    lines = ', '.join(str(line) for line, _ in occurrences)
    for line, written in occurrences:
      yield table.RowProblem(
          line, written, table.DUPLICATE_ROW,
          f'{len(occurrences)} rows (lines {lines}) are for {name!r}, so '
          'none of them is used: keep one row per image')


def _is_uri(path: str) -> bool:
  return _URI.match(path) is not None


def _join(folder: str, name: str) -> str:
  if _is_uri(folder):
    return folder.rstrip('/') + '/' + name
  return os.path.join(folder, name)


def _folder_of(path: str) -> str:
  if _is_uri(path):
    return path.rpartition('/')[0]
  return os.path.dirname(path)


def _is_file(path: str) -> bool:
  if _is_uri(path):
    return _beam_filesystems().exists(path)
  return os.path.isfile(path)


def _beam_filesystems():
  """Beam's FileSystems, imported only for a URI: the launcher stays light."""
  # pylint: disable=g-import-not-at-top
  from apache_beam.io.filesystems import FileSystems
  return FileSystems


@contextlib.contextmanager
def _open_lines(path: str) -> Iterator[Iterator[str]]:
  """The file's lines as text, line endings kept; errors as MetadataError."""
  try:
    if _is_uri(path):
      file = _beam_filesystems().open(path)
    else:
      file = open(path, 'rb')  # pylint: disable=consider-using-with
  except OSError as error:
    raise table.MetadataError(
        f'{path}: cannot be opened ({error}); check the path and its '
        'permissions.') from None
  with file:
    yield _decoded_lines(file, path)


def _decoded_lines(file, path: str) -> Iterator[str]:
  line = 0
  try:
    for line, raw in enumerate(iter(file.readline, b''), 1):
      try:
        text = raw.decode('utf-8')
      except UnicodeDecodeError as error:
        raise table.MetadataError(
            f'{path}: line {line} is not UTF-8 text ({error.reason} at byte '
            f'{error.start} of the line); save the file as UTF-8.') from None
      if line == 1 and text.startswith('\ufeff'):  # A byte order mark.
        text = text[1:]
      yield text
  except OSError as error:
    raise table.MetadataError(
        f'{path}: reading failed after line {line} ({error}).') from None
