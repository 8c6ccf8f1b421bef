"""Reads Hugging Face `imagefolder`-style metadata files: labels and features.

A `metadata.csv` or `metadata.jsonl` (in a split root, at input_base, or
anywhere when named explicitly) has one row per image:

    file_name,label,photographer,year
    a/1.jpg,cat,Ann,2019
    b/2.png,dog,,2021

    {"file_name": "a/1.jpg", "labels": ["cat", "dog"], "tags": ["in", "night"]}
    {"file_name": "b/2.png", "labels": [], "score": 0.5}

- `file_name` (required): the image's path relative to the metadata file's
  folder. Absolute paths, URIs and paths climbing out with '..' are refused
  (`unsafe_file_name`); the rest is normalized ('./a//b.jpg' -> 'a/b.jpg',
  backslashes become '/').
- `label`: one label per image, a class name or an integer class id.
- `labels`: several labels per image. In JSONL a list (["cat", "dog"]); in CSV
  one cell with the labels separated by '|' (cat|dog). An empty cell, null,
  "", [] or a missing key is no label; a JSON boolean or float label is an
  unparsable row. A file with both `label` and `labels` is
  an error. A file's labels are all ids when every one is an integer, else
  all names (see values.py); `resolve_labels` maps them to a vocabulary's ids.
- Every other column is a feature named after the column, with one type over
  the whole file: 'int64' if every value is an integer, else 'float' if every
  one is a number, else 'bytes' (UTF-8 text). JSON true/false are the
  integers 1/0. A JSON list stays a list (0..n values); a CSV cell is one
  value. An empty CSV cell, a JSON null or a missing key is a missing value:
  the feature is absent from that row.

Files are UTF-8 (a byte order mark is allowed). A row that cannot be used is
left out and reported as a `RowProblem` with a reason
(`unparsable_metadata_row`, `unsafe_file_name`, `duplicate_metadata_row`).
When several rows name the same file, none of them is used and each is
reported, so no row is silently preferred. A file that cannot be used at all
raises `MetadataError`.

Whether the files named exist, which images have no row, and whether labels
are in the class vocabulary is for the caller, which has the file list.

No TensorFlow or Beam import (Beam's FileSystems only to open a URI): this runs
in the launcher.
"""

from image_example_gen.core.metadata.csv_rows import LABELS_SEPARATOR
from image_example_gen.core.metadata.labels import resolve_labels
from image_example_gen.core.metadata.reader import METADATA_FILE_NAMES
from image_example_gen.core.metadata.reader import duplicate_problems
from image_example_gen.core.metadata.reader import find_metadata_file
from image_example_gen.core.metadata.reader import read_metadata
from image_example_gen.core.metadata.reader import scan_metadata
from image_example_gen.core.metadata.table import ALL_ROW_REASONS
from image_example_gen.core.metadata.table import DUPLICATE_ROW
from image_example_gen.core.metadata.table import Label
from image_example_gen.core.metadata.table import MetadataError
from image_example_gen.core.metadata.table import MetadataFile
from image_example_gen.core.metadata.table import MetadataRow
from image_example_gen.core.metadata.table import MetadataTable
from image_example_gen.core.metadata.table import RowProblem
from image_example_gen.core.metadata.table import UNPARSABLE_ROW
from image_example_gen.core.metadata.table import UNSAFE_FILE_NAME
from image_example_gen.core.metadata.values import BYTES
from image_example_gen.core.metadata.values import COLUMN_TYPES
from image_example_gen.core.metadata.values import FLOAT
from image_example_gen.core.metadata.values import INT64

__all__ = [
    'ALL_ROW_REASONS', 'BYTES', 'COLUMN_TYPES', 'DUPLICATE_ROW', 'FLOAT',
    'INT64', 'LABELS_SEPARATOR', 'Label', 'METADATA_FILE_NAMES',
    'MetadataError', 'MetadataFile', 'MetadataRow', 'MetadataTable',
    'RowProblem', 'UNPARSABLE_ROW', 'UNSAFE_FILE_NAME', 'duplicate_problems',
    'find_metadata_file', 'read_metadata', 'resolve_labels',
    'scan_metadata'
]
