"""The launcher's plan on disk: every file found and every metadata row.

core.plan lists the files and reads the metadata rows straight into a SQLite
database (Python's sqlite3) in a local temporary folder, and reads them back,
joined and in the manifest's order, while the manifest is written. SQLite's
indexes do the join of files with their metadata rows and its sorter the
manifest's md5 order, on disk: the launcher holds SQLite's page cache
(_CACHE_KIB), not the file list.

Measured before this store, at 1,000,000 files (`python -m
benchmarks.million_profile plan`): the planned files as Python objects took
687 B each at the launcher's peak (862 MB), and 1,518 B each with a
metadata.csv join (1,654 MB). The figures since are in docs/scale.md.

The database is the launcher's own scratch file: workers never read it (they
read the manifest), so it stays on local disk even when the staging folder is
on gs://. It takes 167 B a file on disk, 435 B with a metadata row
(100,000 files, docs/scale.md).
"""

import ast
import hashlib
import os
import pickle
import shutil
import sqlite3
import tempfile
from typing import Dict, Iterable, Iterator, List, NamedTuple, Optional, Tuple

from image_example_gen.core.discovery import SourceFile
from image_example_gen.core.metadata import MetadataRow

__all__ = ['PlanStore', 'StoredFile']

# SQLite's page cache, and so most of the store's memory: 32 MiB.
_CACHE_KIB = 32 * 1024

_SCHEMA = """
CREATE TABLE files (
  order_key BLOB NOT NULL,
  input_split TEXT NOT NULL,
  relative_path TEXT NOT NULL,
  path TEXT NOT NULL,
  class_name TEXT,
  size INTEGER NOT NULL,
  skip_reason TEXT,
  skip_detail TEXT NOT NULL,
  table_id INTEGER,
  row_key TEXT
);
CREATE TABLE rows (
  table_id INTEGER NOT NULL,
  row_key TEXT NOT NULL,
  line INTEGER NOT NULL,
  written_name TEXT NOT NULL,
  labels TEXT NOT NULL,
  row BLOB NOT NULL
);
"""


class StoredFile(NamedTuple):
  """A planned file as read back: the file, and its metadata table and row."""
  source: SourceFile
  table_id: Optional[int]
  row: Optional[MetadataRow]


class PlanStore:
  """A SQLite database of the planned files and metadata rows.

  Use it as a context manager: leaving it deletes the database.
  """

  def __init__(self):
    self._folder = tempfile.mkdtemp(prefix='image_example_gen-plan-')
    self._db = sqlite3.connect(os.path.join(self._folder, 'plan.sqlite'),
                               isolation_level=None)
    # A scratch file: no journal, no fsync, and the sorter spills to disk.
    for pragma in ('journal_mode = OFF', 'synchronous = OFF',
                   'temp_store = FILE', f'cache_size = -{_CACHE_KIB}'):
      self._db.execute(f'PRAGMA {pragma}')
    self._db.executescript(_SCHEMA)
    self._indexed = False

  def __enter__(self) -> 'PlanStore':
    return self

  def __exit__(self, *unused_exc_info) -> None:
    self.close()

  def close(self) -> None:
    """Closes and deletes the database."""
    self._db.close()
    shutil.rmtree(self._folder, ignore_errors=True)

  def add_files(
      self, files: Iterable[Tuple[SourceFile, Optional[int], Optional[str]]]
  ) -> None:
    """Stores files: (file, its metadata table id or None, its row key)."""
    self._db.execute('BEGIN')
    self._db.executemany(
        'INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ((_order_key(source.relative_path), source.input_split,
          source.relative_path, source.path, source.class_name, source.size,
          source.skip_reason, source.skip_detail, table_id, row_key)
         for source, table_id, row_key in files))
    self._db.execute('COMMIT')

  def add_rows(self, table_id: int,
               rows: Iterable[Tuple[str, MetadataRow]]) -> None:
    """Stores a metadata table's good rows: (file_name as written, row)."""
    self._db.execute('BEGIN')
    self._db.executemany(
        'INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?)',
        ((table_id, row.file_name, row.line, written, repr(row.labels),
          # A plain tuple: pickling the dataclass took 3x as long.
          pickle.dumps((row.labels, row.features), pickle.HIGHEST_PROTOCOL))
         for written, row in rows))
    self._db.execute('COMMIT')

  def take_repeated_rows(
      self, table_id: int) -> Dict[str, List[Tuple[int, str]]]:
    """Removes the rows naming a file another row names too, and returns them.

    Returns:
      {row key: [(line, file_name as written), ...]}, in row key order.
    """
    self._index()
    repeated = {}
    for key, line, written in self._db.execute(
        'SELECT row_key, line, written_name FROM rows WHERE table_id = ? '
        'AND row_key IN (SELECT row_key FROM rows WHERE table_id = ? '
        'GROUP BY row_key HAVING COUNT(*) > 1) ORDER BY row_key, line',
        (table_id, table_id)):
      repeated.setdefault(key, []).append((line, written))
    self._db.executemany('DELETE FROM rows WHERE table_id = ? AND row_key = ?',
                         ((table_id, key) for key in repeated))
    return repeated

  def rows_without_file(self, table_id: int) -> Iterator[Tuple[str, int]]:
    """(row key, line) of the table's rows that name no file found."""
    self._index()
    return self._db.execute(
        'SELECT row_key, line FROM rows WHERE table_id = ? AND NOT EXISTS '
        '(SELECT 1 FROM files WHERE files.table_id = rows.table_id AND '
        'files.row_key = rows.row_key) ORDER BY line', (table_id,))

  def label_sets(self) -> List[tuple]:
    """The distinct label tuples of the good rows of every table."""
    return [_literal(labels) for (labels,) in
            self._db.execute('SELECT DISTINCT labels FROM rows')]

  def totals(self) -> Tuple[int, int]:
    """(number of files, their total size in bytes)."""
    count, size = self._db.execute(
        'SELECT COUNT(*), TOTAL(MAX(size, 0)) FROM files').fetchone()
    return count, int(size)

  def planned(self) -> Iterator[StoredFile]:
    """Every file in the manifest's order, with its metadata row if any.

    The order is md5 of the relative path (then split and path), a fixed
    pseudo-random order. A skipped file is not joined to its row.
    """
    self._index()
    query = self._db.execute(
        'SELECT f.path, f.relative_path, f.input_split, f.class_name, f.size, '
        'f.skip_reason, f.skip_detail, f.table_id, r.line, r.row_key, r.row '
        'FROM files f '
        'LEFT JOIN rows r ON f.skip_reason IS NULL AND '
        'r.table_id = f.table_id AND r.row_key = f.row_key '
        'ORDER BY f.order_key, f.input_split, f.relative_path')
    for (path, relative_path, split, class_name, size, skip_reason,
         skip_detail, table_id, line, row_key, row) in query:
      yield StoredFile(
          SourceFile(path, relative_path, split, class_name, None, size,
                     skip_reason, skip_detail), table_id,
          MetadataRow(line, row_key, *pickle.loads(row))
          if row is not None else None)

  def _index(self) -> None:
    if not self._indexed:
      self._db.execute('CREATE INDEX rows_by_key ON rows (table_id, row_key)')
      self._db.execute(
          'CREATE INDEX files_by_row ON files (table_id, row_key)')
      self._indexed = True


def _order_key(relative_path: str) -> bytes:
  return hashlib.md5(relative_path.encode('utf-8')).digest()


def _literal(text: str) -> tuple:
  """The labels tuple stored as its repr (names and ints only)."""
  return ast.literal_eval(text)
