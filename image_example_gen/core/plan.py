"""Plans an ingest in the launcher: which files, with which labels.

`plan_files` lists the files of every input split (core.discovery), reads
the metadata files that apply (core.metadata) and streams both into a store
on the launcher's disk (core.plan_store). The returned `Plan` gives the
vocabulary, the totals, and the files labelled (core.labeling) in the
manifest's order, read back from the store: nothing kept per file in
memory, so the launcher's memory does not grow with the number of files.
"""

import itertools
import logging
import os
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

from apache_beam.io.filesystems import FileSystems

from image_example_gen.core import config as config_lib
from image_example_gen.core import discovery
from image_example_gen.core import labeling
from image_example_gen.core import metadata
from image_example_gen.core import reasons
from image_example_gen.core.plan_store import PlanStore

__all__ = ['Plan', 'plan_files']

_LOGGER = logging.getLogger(__name__)
# Metadata rows read per batch before they go to the store.
_ROWS_PER_BATCH = 10_000


class Plan:
  """The planned files of an ingest, on the launcher's disk.

  Use it as a context manager; leaving it deletes the store.

  Attributes:
    class_names: The class vocabulary.
    multi_label: Whether images have several labels each.
    total_files: The files and skipped entries planned.
    total_bytes: Their total size.
  """

  def __init__(self, store: PlanStore, tables: Dict[int, metadata.MetadataFile],
               labeler: labeling.Labeler, class_names: Tuple[str, ...],
               multi_label: bool):
    self._store = store
    self._tables = tables
    self._labeler = labeler
    self.class_names = class_names
    self.multi_label = multi_label
    self.total_files, self.total_bytes = store.totals()

  def __enter__(self) -> 'Plan':
    return self

  def __exit__(self, *unused_exc_info) -> None:
    self._store.close()

  def files(self) -> Iterator[discovery.SourceFile]:
    """Every file, labelled, in the manifest's order (md5 of its path)."""
    label = self._labeler.label
    tables = self._tables
    for stored in self._store.planned():
      yield label(stored.source, tables.get(stored.table_id), stored.row)


def plan_files(
    input_base: str,
    input_splits: Sequence[discovery.InputSplit],
    config: config_lib.IngestConfig,
    previous_class_names: Optional[Sequence[str]] = None) -> Plan:
  """Lists and labels the files of every split, into a Plan.

  Args:
    input_base: The folder (local path or URI) holding the images.
    input_splits: The input splits and their patterns.
    config: The ingest options (labels, class_names, metadata_file).
    previous_class_names: The vocabulary of an earlier span, whose ids stay.

  Raises:
    ValueError: A pattern matched no file, a class folder missing from an
      explicit class_names, class_names contradicting previous_class_names,
      labels='metadata' without a metadata file or a label column, a
      metadata file that cannot be read, or a column named like one of the
      image features.
  """
  if FileSystems.get_scheme(input_base) is None:
    # One spelling of local paths, so that a relative input_base and an
    # absolute metadata_file (or the reverse) still join.
    input_base = os.path.abspath(input_base)
  store = PlanStore()
  try:
    plan = _plan(store, input_base, input_splits, config, previous_class_names)
  except BaseException:
    store.close()
    raise
  _LOGGER.info('Found %d files in %s; classes: %s', plan.total_files,
               input_base, ', '.join(plan.class_names) or '(none)')
  return plan


def _plan(store: PlanStore, input_base: str,
          input_splits: Sequence[discovery.InputSplit],
          config: config_lib.IngestConfig,
          previous_class_names: Optional[Sequence[str]]) -> Plan:
  paths = labeling.metadata_paths(input_base, input_splits, config)
  table_ids = {path: index for index, path in
               enumerate(dict.fromkeys(paths.values()))}
  first_split = {}
  for split, path in paths.items():
    first_split.setdefault(path, split)
  tables = {table_ids[path]: _store_rows(store, table_ids[path], path,
                                         input_base, first_split[path], config)
            for path in table_ids}
  table_of_split = {split: table_ids[path] for split, path in paths.items()}
  table_files = {labeling.table_relative_path(input_base, path)
                 for path in table_ids}

  class_folders: Set[str] = set()
  for split in input_splits:
    table_id = table_of_split.get(split.name)
    folder = tables[table_id].folder if table_id is not None else None
    listed = discovery.list_split(input_base, split, class_folders)
    store.add_files(
        (source, table_id,
         labeling.relative_to(folder, source.path) if table_id is not None
         else None)
        for source in listed if source.relative_path not in table_files)

  for table_id, table in tables.items():
    _store_row_entries(store, table_id, table, input_base,
                       first_split[table.path])

  if config.labels == config_lib.LABELS_FOLDER:
    vocabulary = labeling.folder_vocabulary(input_base, class_folders, config,
                                            previous_class_names)
    multi_label = False
  elif config.labels == config_lib.LABELS_METADATA:
    vocabulary, multi_label = labeling.metadata_vocabulary(
        list(tables.values()), store.label_sets(), config,
        previous_class_names)
  else:
    vocabulary, multi_label = (), False
  return Plan(store, tables, labeling.Labeler(config, vocabulary, multi_label),
              vocabulary, multi_label)


def _store_rows(store: PlanStore, table_id: int, path: str, input_base: str,
                split: str, config: config_lib.IngestConfig
                ) -> metadata.MetadataFile:
  """Streams a metadata file's rows into the store; its problems become
  skipped entries of `split`."""
  try:
    table, items = metadata.scan_metadata(path)
  except metadata.MetadataError as error:
    raise ValueError(str(error)) from None
  labeling.check_columns(table, config)
  where = labeling.table_relative_path(input_base, path)
  try:
    while True:
      batch = list(itertools.islice(items, _ROWS_PER_BATCH))
      if not batch:
        break
      store.add_rows(table_id, (item for item in batch
                                if not isinstance(item, metadata.RowProblem)))
      store.add_files(
          (_problem_entry(where, split, item), None, None) for item in batch
          if isinstance(item, metadata.RowProblem))
  except metadata.MetadataError as error:
    raise ValueError(str(error)) from None
  return table


def _store_row_entries(store: PlanStore, table_id: int,
                       table: metadata.MetadataFile, input_base: str,
                       split: str) -> None:
  """Skipped entries for the rows naming a file twice or no file found."""
  where = labeling.table_relative_path(input_base, table.path)
  repeated = store.take_repeated_rows(table_id)
  store.add_files(
      (_problem_entry(where, split, problem), None, None)
      for problem in metadata.duplicate_problems(repeated))
  # A list, not a generator: SQLite must finish reading `files` in
  # rows_without_file before add_files writes to it.
  entries: List[discovery.SourceFile] = [
      labeling.row_entry(
          where, line, split, reasons.METADATA_ROW_WITHOUT_FILE,
          f'file_name {key!r}: no such image was found (or it was skipped '
          'before its row was read: hidden, unreadable ...)')
      for key, line in store.rows_without_file(table_id)]
  store.add_files((entry, None, None) for entry in entries)


def _problem_entry(where: str, split: str,
                   problem: metadata.RowProblem) -> discovery.SourceFile:
  return labeling.row_entry(
      where, problem.line, split, problem.reason,
      f'file_name {problem.file_name!r}: {problem.detail}')
