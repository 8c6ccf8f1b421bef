"""What reading one metadata file gives: its good rows and its row problems.

A problem with the whole file (no file_name column, both label columns, not
UTF-8, unreadable ...) is a `MetadataError`; a problem with one row is a
`RowProblem` carrying one of the reasons below, and the row is left out of
`MetadataTable.rows`.
"""

import dataclasses
from typing import Dict, Optional, Tuple, Union

from image_example_gen.core import reasons

__all__ = [
    'ALL_ROW_REASONS', 'DUPLICATE_ROW', 'Label', 'MetadataError',
    'MetadataFile', 'MetadataRow', 'MetadataTable', 'RowProblem', 'UNPARSABLE_ROW',
    'UNSAFE_FILE_NAME'
]

# The reasons of the rows left out (named once, in image_example_gen.core.reasons):
# A row that cannot be read: JSON that does not parse or is not an object, a
# CSV row with the wrong number of fields, file_name missing or empty, a label
# that is neither a name nor an integer id, an unsupported JSON value.
UNPARSABLE_ROW = reasons.UNPARSABLE_METADATA_ROW
# A file_name that could leave the metadata file's folder: absolute, a URI, or
# with '..' climbing above the folder.
UNSAFE_FILE_NAME = reasons.UNSAFE_FILE_NAME
# Every row of a file_name named by more than one row: none of them is used.
DUPLICATE_ROW = reasons.DUPLICATE_METADATA_ROW

ALL_ROW_REASONS = (UNPARSABLE_ROW, UNSAFE_FILE_NAME, DUPLICATE_ROW)

# A label as written: a class name, or an integer class id.
Label = Union[str, int]


class MetadataError(ValueError):
  """A metadata file that cannot be used at all; the message names it."""


@dataclasses.dataclass(frozen=True, slots=True)
class MetadataRow:
  """One good row of a metadata file.

  Attributes:
    line: The 1-based line the row starts on (a CSV header is line 1).
    file_name: The image's path relative to the metadata file's folder,
      normalized: '/'-separated, without '.' or '..' components.
    labels: The row's labels, all names (str) or all ids (int) across the
      file; () when the file has no label column or the row no label.
    features: Feature column -> its typed values (int, float or str, as
      `MetadataTable.column_types` says); a missing value is absent.
  """
  line: int
  file_name: str
  labels: Tuple[Label, ...]
  features: Dict[str, Tuple]


@dataclasses.dataclass(frozen=True, slots=True)
class RowProblem:
  """A row left out of the table, and why.

  Attributes:
    line: The 1-based line the row starts on.
    file_name: The row's file_name as written ('' if it has none).
    reason: One of ALL_ROW_REASONS.
    detail: What is wrong, and what to do about it.
  """
  line: int
  file_name: str
  reason: str
  detail: str


@dataclasses.dataclass(frozen=True)
class MetadataFile:
  """What holds for every row of a metadata file (its first pass).

  Attributes:
    path: The metadata file.
    folder: Its folder (os.path.dirname of a local path: '' for a bare
      file name), to which every file_name is relative.
    label_column: 'label', 'labels' or None.
    column_types: Feature column -> 'int64', 'float' or 'bytes', in the
      file's column order (CSV header; JSONL: first appearance).
  """
  path: str
  folder: str
  label_column: Optional[str]
  column_types: Dict[str, str]


@dataclasses.dataclass(frozen=True)
class MetadataTable:
  """A metadata file read in full.

  Attributes:
    path, folder, label_column, column_types: As in MetadataFile.
    rows: The good rows, by normalized file_name.
    problems: The rows left out, in line order.
  """
  path: str
  folder: str
  label_column: Optional[str]
  column_types: Dict[str, str]
  rows: Dict[str, MetadataRow]
  problems: Tuple[RowProblem, ...]
