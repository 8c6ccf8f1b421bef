"""Turns parsed rows into typed MetadataRows, storing equal values once.

Equal label tuples, label names and feature values (a column's `(640,)`,
`('cc-by',)` ...) are shared objects instead of one copy per row, so that a
MetadataTable of a million rows (read_metadata) fits in a few hundred MB;
the launcher's plan stores its rows on disk instead (core.plan_store). Each feature column shares at most
_SHARED_PER_COLUMN distinct values, so a column of unique values (captions,
ids) costs no more than a bounded table.
"""

from typing import Any, Callable, Dict, Tuple

from image_example_gen.core.metadata import parsed_row
from image_example_gen.core.metadata import table
from image_example_gen.core.metadata import values

__all__ = ['RowBuilder']

_SHARED_PER_COLUMN = 1 << 16


class RowBuilder:
  """Builds the typed rows of one metadata file."""

  def __init__(self, codec: values.ValueCodec, *,
               column_types: Dict[str, str], label_ids: bool):
    """Args:

      codec: How the file's raw values convert.
      column_types: Feature column -> 'int64', 'float' or 'bytes'.
      label_ids: Whether the file's labels are ids (else names).
    """
    self._label_of: Callable[[Any], table.Label] = (
        codec.converters[values.INT64] if label_ids else codec.label_name)
    self._labels: Dict[Any, Any] = {}
    self._columns = {
        column: _Column(codec.converters[column_type],
                        keep_zeros=column_type == values.FLOAT)
        for column, column_type in column_types.items()
    }

  def build(self, item: parsed_row.ParsedRow) -> table.MetadataRow:
    shared = self._labels
    labels: Tuple[table.Label, ...] = ()
    if item.labels:
      labels = tuple(shared.setdefault(label, label)
                     for label in map(self._label_of, item.labels))
      labels = shared.setdefault(labels, labels)
    columns = self._columns
    features = {column: columns[column].typed(raw)
                for column, raw in item.cells}
    return table.MetadataRow(item.line, item.file_name, labels, features)


class _Column:
  """Converts one column's values and shares the equal ones."""

  def __init__(self, convert: Callable[[Any], Any], *, keep_zeros: bool):
    self._convert = convert
    # 0.0 == -0.0: a float column never shares a tuple holding a zero.
    self._keep_zeros = keep_zeros
    self._shared: Dict[Tuple, Tuple] = {}

  def typed(self, raw: Tuple[Any, ...]) -> Tuple:
    convert = self._convert
    typed = (convert(raw[0]),) if len(raw) == 1 else tuple(map(convert, raw))
    if self._keep_zeros and 0.0 in typed:
      return typed
    shared = self._shared.get(typed)
    if shared is not None:
      return shared
    if len(self._shared) < _SHARED_PER_COLUMN:
      self._shared[typed] = typed
    return typed
