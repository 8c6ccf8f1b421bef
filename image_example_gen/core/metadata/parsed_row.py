"""A metadata row as a format parser hands it to the reader, before typing."""

from typing import Any, NamedTuple, Tuple

from image_example_gen.core.metadata import table

__all__ = ['LABEL', 'LABELS', 'FILE_NAME', 'ParsedRow', 'duplicate_label']

FILE_NAME = 'file_name'
LABEL = 'label'
LABELS = 'labels'


class ParsedRow(NamedTuple):
  """A row whose structure is sound; its values are not typed yet.

  Attributes:
    line: The 1-based line the row starts on.
    written_name: file_name as written.
    file_name: file_name normalized.
    labels: Raw labels (CSV: text; JSON: str or int), non-empty, distinct.
    cells: ((column, raw values), ...) for the feature columns with a value.
  """
  line: int
  written_name: str
  file_name: str
  labels: Tuple[table.Label, ...]
  cells: Tuple[Tuple[str, Tuple[Any, ...]], ...]


def duplicate_label(labels: Tuple[table.Label, ...]) -> Any:
  """A label written twice in `labels`, or None."""
  if len(labels) < 2:
    return None
  seen = set()
  for label in labels:
    if label in seen:
      return label
    seen.add(label)
  return None
