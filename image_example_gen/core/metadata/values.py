"""The type of a feature column, and its values converted to that type.

A column has ONE type over the whole file, the widest kind of its values:

- 'int64' if every value is an integer in the int64 range;
- else 'float' if every value is a finite number;
- else 'bytes' (a UTF-8 string). A column with no value at all is 'bytes'.

CSV cells are text: an integer is `[+-]digits`, a number a decimal literal
(`1.5`, `.5`, `-2e3`); 'nan' and 'inf' are text (leave a missing value's cell
empty). An integer outside the int64 range is text too, so that no digit is
lost. JSON values keep their JSON type: a JSON string is text even when it
looks like a number; true and false are the integers 1 and 0. In a 'bytes'
column a JSON number or boolean becomes its JSON text ('3', '1.5', 'true').

Labels follow the same idea: a file's labels are ids (int) if every label is
an integer (CSV `[+-]digits`; JSON: an integer), else they are all names (str),
integers keeping their text ('007' in CSV, '3' for the JSON integer 3).
"""

import json
import math
import re
from typing import Any, Callable, Dict

__all__ = [
    'BYTES', 'COLUMN_TYPES', 'FLOAT', 'INT64', 'JSON_VALUES', 'TEXT_VALUES',
    'ValueCodec', 'widen'
]

INT64 = 'int64'
FLOAT = 'float'
BYTES = 'bytes'
COLUMN_TYPES = (INT64, FLOAT, BYTES)

_RANK = {INT64: 0, FLOAT: 1, BYTES: 2}
_INT64_MIN = -2**63
_INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r'[+-]?[0-9]+')
_DECIMAL = re.compile(r'[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?')


def widen(column_type: str, kind: str) -> str:
  """The type of a column of type `column_type` that also holds `kind`."""
  return column_type if _RANK[column_type] >= _RANK[kind] else kind


def _in_int64(value: int) -> bool:
  return _INT64_MIN <= value <= _INT64_MAX


def _text_kind(text: str) -> str:
  if _INTEGER.fullmatch(text):
    return INT64 if _in_int64(int(text)) else BYTES
  if _DECIMAL.fullmatch(text) and math.isfinite(float(text)):
    return FLOAT
  return BYTES


def _json_kind(value: Any) -> str:
  if isinstance(value, bool):
    return INT64
  if isinstance(value, int):
    return INT64 if _in_int64(value) else BYTES
  if isinstance(value, float):
    return FLOAT
  return BYTES


def _json_text(value: Any) -> str:
  return value if isinstance(value, str) else json.dumps(value)


def _json_name(value: Any) -> str:
  return value if isinstance(value, str) else str(value)


class ValueCodec:
  """How the values of one file format are typed and converted."""

  def __init__(self, *, kind: Callable[[Any], str],
               is_label_id: Callable[[Any], bool],
               converters: Dict[str, Callable[[Any], Any]],
               label_name: Callable[[Any], str]):
    """Args:

      kind: A raw value -> 'int64', 'float' or 'bytes'.
      is_label_id: Whether a raw label is an integer id.
      converters: Column type -> converter of a raw value to that type.
      label_name: A raw label -> its name, in a file of names.
    """
    self.kind = kind
    self.is_label_id = is_label_id
    self.converters = converters
    self.label_name = label_name


# CSV cells: non-empty, stripped text.
TEXT_VALUES = ValueCodec(
    kind=_text_kind,
    is_label_id=lambda text: _text_kind(text) == INT64,
    converters={INT64: int, FLOAT: float, BYTES: str},
    label_name=str)

# JSON scalars: str, int, float (finite) or bool.
JSON_VALUES = ValueCodec(
    kind=_json_kind,
    is_label_id=lambda value: isinstance(value, int),
    converters={INT64: int, FLOAT: float, BYTES: _json_text},
    label_name=_json_name)
