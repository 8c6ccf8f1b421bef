"""Parses a metadata.csv into rows (see the package docstring for the format).

The first line names the columns (names stripped of surrounding spaces); one
of them is file_name. Fields are comma-separated, quoted with '"' when they
hold a comma, quote or line break (spaces before the quote are allowed).
Cells are stripped of surrounding spaces, and an empty cell is a missing
value. In the `labels` column a cell holds several labels separated by
LABELS_SEPARATOR ('|'): 'cat|dog'; an empty cell is no label. Blank lines and rows of empty cells (as spreadsheets save them) are skipped.
"""

import csv
from typing import Dict, Iterable, Iterator, List, Optional, Tuple, Union

from image_example_gen.core.metadata import file_names
from image_example_gen.core.metadata import parsed_row
from image_example_gen.core.metadata import table

__all__ = ['CsvRows', 'LABELS_SEPARATOR']

LABELS_SEPARATOR = '|'


class CsvRows:
  """The rows of a CSV metadata file, with its header's columns.

  Reads the header when built (raising MetadataError if it is unusable);
  iterating yields a ParsedRow or a RowProblem for each row.
  """

  def __init__(self, lines: Iterable[str], path: str):
    self._reader = csv.reader(lines, skipinitialspace=True)
    header = _read_header(self._reader, path)
    self._width = len(header)
    self._file_name_index = header.index(parsed_row.FILE_NAME)
    self.label_column: Optional[str] = next(
        (name for name in (parsed_row.LABEL, parsed_row.LABELS)
         if name in header), None)
    self._label_index = (header.index(self.label_column)
                         if self.label_column else None)
    self._features: List[Tuple[int, str]] = [
        (index, name) for index, name in enumerate(header)
        if name not in (parsed_row.FILE_NAME, parsed_row.LABEL,
                        parsed_row.LABELS)
    ]
    self.feature_columns: Tuple[str, ...] = tuple(
        name for _, name in self._features)

  def __iter__(self) -> Iterator[Union[parsed_row.ParsedRow,
                                       table.RowProblem]]:
    reader = self._reader
    while True:
      line = reader.line_num + 1
      try:
        fields = next(reader)
      except StopIteration:
        return
      except csv.Error as error:
        yield table.RowProblem(line, '', table.UNPARSABLE_ROW,
                               f'not valid CSV ({error})')
        continue
      if not fields:
        continue  # A blank line.
      cells = [field.strip() for field in fields]
      if not any(cells):
        continue  # A row of empty cells.
      yield self._row(line, reader.line_num, cells)

  def _row(self, line: int, last_line: int,
           cells: List[str]) -> Union[parsed_row.ParsedRow, table.RowProblem]:
    written = (cells[self._file_name_index]
               if self._file_name_index < len(cells) else '')
    if len(cells) != self._width:
      spans = (f' (it spans lines {line}-{last_line}: is a double quote left '
               'open?)' if last_line > line else '')
      return table.RowProblem(
          line, written, table.UNPARSABLE_ROW,
          f'{len(cells)} fields where the header has {self._width} '
          f'columns{spans}; quote a field that holds a comma')
    try:
      name = file_names.normalize_file_name(written)
    except file_names.BadFileName as error:
      return table.RowProblem(line, written, error.reason, error.detail)
    labels: Tuple[str, ...] = ()
    if self._label_index is not None and cells[self._label_index]:
      cell = cells[self._label_index]
      if self.label_column == parsed_row.LABEL:
        labels = (cell,)
      else:
        labels = tuple(part.strip() for part in cell.split(LABELS_SEPARATOR))
        if not all(labels):
          return table.RowProblem(
              line, written, table.UNPARSABLE_ROW,
              f'labels {cell!r} has an empty label: separate labels with a '
              f'single {LABELS_SEPARATOR!r}, with none at either end')
        duplicate = parsed_row.duplicate_label(labels)
        if duplicate is not None:
          return table.RowProblem(
              line, written, table.UNPARSABLE_ROW,
              f'labels {cell!r} names {duplicate!r} twice: write each label '
              'once')
    features = tuple((column, (cells[index],))
                     for index, column in self._features if cells[index])
    return parsed_row.ParsedRow(line, written, name, labels, features)


def _read_header(reader, path: str) -> List[str]:
  """The column names of the first line, checked."""
  try:
    header = next(reader)
    while not header:  # Blank lines before the header.
      header = next(reader)
  except StopIteration:
    raise table.MetadataError(
        f'{path}: the file is empty; its first line must name the columns, '
        'one of them file_name.') from None
  except csv.Error as error:
    raise table.MetadataError(
        f'{path}: the header line is not valid CSV ({error}).') from None
  header = [name.strip() for name in header]
  where: Dict[str, int] = {}
  for position, name in enumerate(header, 1):
    if not name:
      raise table.MetadataError(
          f'{path}: column {position} of the header has no name; name it or '
          'remove it (pandas writes its index as an unnamed column: save '
          'with to_csv(index=False)).')
    if name in where:
      raise table.MetadataError(
          f'{path}: the header names column {name!r} twice (columns '
          f'{where[name]} and {position}); give each column its own name.')
    where[name] = position
  if parsed_row.FILE_NAME not in where:
    raise table.MetadataError(
        f'{path}: no file_name column (the header names {header}); the '
        'first line must name the columns, one of them file_name.')
  if parsed_row.LABEL in where and parsed_row.LABELS in where:
    raise table.MetadataError(
        f'{path}: has both a label and a labels column; keep label for one '
        'label per image or labels for several.')
  return header
