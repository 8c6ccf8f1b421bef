"""Labels the files found: the vocabulary, each file's labels and features.

The one place that works out labels (`label_files`):

- labels='folder': each file's class folder is its class; the vocabulary is
  the sorted class folders of ALL splits (empty ones included, as Keras'
  `image_dataset_from_directory` does), so every split gets the same ids;
  or `class_names`; across spans, the earlier vocabulary extended
  (`class_vocabulary`).
- labels='none': no labels.
- labels='metadata': from a metadata file, as below.

Which metadata file applies to a split: `IngestConfig.metadata_file` if set,
else `metadata.csv` or `metadata.jsonl` in the split root, else at
input_base. Each image is matched to the row whose `file_name` is its path
relative to the metadata file's folder. Then:

- every image gets the row's other columns as features, whatever `labels`
  says;
- with labels='metadata', the row's `label` (one) or `labels` (several)
  become its labels; the vocabulary is the sorted label names (or, across
  spans, the earlier vocabulary extended: see class_vocabulary),
  or, for integer labels, class_names or '0', '1', ... up to the largest id;
- an image without a row, and a row whose label is unknown, missing, or does
  not parse, turns into a skipped file with a reason;
- a row naming no file found, and every row problem the reader reported,
  becomes a skipped entry `<metadata file>:<line>` of its own.

Skipped entries travel with the files to the workers, so the report, the
counters, `on_bad_image='fail'` and `max_bad_fraction` treat bad rows as
they treat bad images.
"""

import dataclasses
import os
import posixpath
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from apache_beam.io.filesystems import FileSystems

from image_example_gen.core import config as config_lib
from image_example_gen.core import discovery as discovery_lib
from image_example_gen.core import artifact
from image_example_gen.core import metadata
from image_example_gen.core import reasons

__all__ = ['class_vocabulary', 'label_files']

_RESERVED_FEATURES = frozenset(
    (artifact.ENCODED, artifact.FORMAT, artifact.HEIGHT,
     artifact.WIDTH, artifact.CHANNELS, artifact.FILENAME,
     artifact.LABEL, artifact.CLASS_TEXT, artifact.SHA256))


def class_vocabulary(
    found: Iterable[str],
    *,
    class_names: Optional[Sequence[str]] = None,
    previous_class_names: Optional[Sequence[str]] = None) -> Tuple[str, ...]:
  """The class vocabulary: label i is element i.

  - class_names given: exactly it; it must start with previous_class_names.
  - else, previous_class_names given (a later span): every earlier class
    keeps its id, even if it has no image now, and classes new in `found`
    follow, sorted.
  - else (a first span): the sorted found classes, as Keras orders them.

  Raises:
    ValueError: class_names contradicts previous_class_names, naming both.
  """
  previous = tuple(previous_class_names or ())
  if class_names:
    if tuple(class_names[:len(previous)]) != previous:
      raise ValueError(
          f'class_names {list(class_names)} contradicts the vocabulary '
          f'{list(previous)} of the Examples this component published before: '
          'every class keeps its label id across spans. Start class_names '
          'with those classes, in that order, or drop class_names.')
    return tuple(class_names)
  return previous + tuple(sorted(set(found) - set(previous)))


def label_files(
    input_base: str, input_splits: Sequence[discovery_lib.InputSplit],
    found: discovery_lib.Discovery, config: config_lib.IngestConfig,
    previous_class_names: Optional[Sequence[str]] = None
) -> discovery_lib.Discovery:
  """The found files (core.discovery) with their labels and metadata.

  Raises:
    ValueError: A class folder missing from an explicit class_names,
      class_names contradicting previous_class_names, labels='metadata'
      without a metadata file or a label column, a metadata file that cannot
      be read, or a column named like one of the image features.
  """
  if config.labels == config_lib.LABELS_FOLDER:
    found = _label_by_folder(input_base, found, config, previous_class_names)
  else:
    found = dataclasses.replace(found, files=tuple(
        source._replace(class_name=None) for source in found.files))
  return _apply_metadata(input_base, input_splits, found, config,
                         previous_class_names)


def _label_by_folder(
    input_base: str, found: discovery_lib.Discovery,
    config: config_lib.IngestConfig,
    previous_class_names: Optional[Sequence[str]]) -> discovery_lib.Discovery:
  vocabulary = class_vocabulary(found.class_folders,
                                class_names=config.class_names,
                                previous_class_names=previous_class_names)
  unknown = sorted(set(found.class_folders) - set(vocabulary))
  if unknown:
    raise ValueError(
        f'Class folder(s) {unknown} under {input_base!r} are not in '
        f'class_names {list(vocabulary)}. Add them to class_names, or '
        'narrow the input_config patterns to leave them out.')
  label_of = {name: index for index, name in enumerate(vocabulary)}
  return dataclasses.replace(
      found, class_names=vocabulary, files=tuple(
          source._replace(label=label_of.get(source.class_name))
          for source in found.files))


def _apply_metadata(
    input_base: str, input_splits: Sequence[discovery_lib.InputSplit],
    found: discovery_lib.Discovery, config: config_lib.IngestConfig,
    previous_class_names: Optional[Sequence[str]] = None
) -> discovery_lib.Discovery:
  """The files with their metadata; `found` itself if none applies."""
  tables = _tables_by_split(input_base, input_splits, config)
  if not tables:
    if config.labels == config_lib.LABELS_METADATA:
      raise ValueError(
          "labels='metadata', but there is no metadata.csv or metadata.jsonl "
          f'in the split roots or at {input_base!r}; add one, or name it '
          'with metadata_file.')
    return found
  unique = list({id(table): table for table in tables.values()}.values())
  for table in unique:
    _check_columns(table, config)
  vocabulary, multi_label = _vocabulary(unique, found, config,
                                        previous_class_names)
  table_files = {_table_relative_path(input_base, table.path)
                 for table in unique}
  matched: Dict[int, set] = {id(table): set() for table in unique}
  files = []
  for source in found.files:
    if source.relative_path in table_files:
      continue  # The metadata file itself, not an image.
    table = tables.get(source.input_split)
    if table is None or source.skip_reason:
      if table is not None:  # Its row, if any, is not a row without a file.
        matched[id(table)].add(_relative_to(table.folder, source.path))
      files.append(source)
      continue
    files.append(_join(source, table, config, vocabulary, multi_label,
                       matched[id(table)]))
  split_of_table = {}
  for split, table in tables.items():
    split_of_table.setdefault(id(table), split)
  for table in unique:
    files += _row_entries(input_base, table, split_of_table[id(table)],
                          matched[id(table)])
  files.sort(key=lambda source: (source.input_split, source.relative_path))
  return dataclasses.replace(found, files=tuple(files), class_names=vocabulary,
                             multi_label=multi_label)


def _tables_by_split(
    input_base: str, input_splits: Sequence[discovery_lib.InputSplit],
    config: config_lib.IngestConfig) -> Dict[str, metadata.MetadataTable]:
  """{input split: the metadata table that applies to it}."""
  read = {}

  def table_at(path: Optional[str]) -> Optional[metadata.MetadataTable]:
    if path is None:
      return None
    if path not in read:
      try:
        read[path] = metadata.read_metadata(path)
      except metadata.MetadataError as error:
        raise ValueError(str(error)) from None
    return read[path]

  if config.metadata_file:
    path = config.metadata_file
    if FileSystems.get_scheme(path) is None and not os.path.isabs(path):
      path = FileSystems.join(input_base, path)
    if not FileSystems.exists(path):
      raise ValueError(f'metadata_file {config.metadata_file!r} does not '
                       f'exist (looked at {path!r}).')
    return {split.name: table_at(path) for split in input_splits}
  tables = {}
  for split in input_splits:
    root = discovery_lib.split_root(input_base, split.pattern)
    path = _find(root) or _find(input_base)
    table = table_at(path)
    if table is not None:
      tables[split.name] = table
  return tables


def _find(folder: str) -> Optional[str]:
  try:
    return metadata.find_metadata_file(folder)
  except metadata.MetadataError as error:
    raise ValueError(str(error)) from None


def _check_columns(table: metadata.MetadataTable,
                   config: config_lib.IngestConfig) -> None:
  clashing = sorted(set(table.column_types) & _RESERVED_FEATURES)
  if clashing:
    raise ValueError(
        f'{table.path}: column(s) {clashing} would replace the image features '
        'of the same name; rename them.')
  if config.labels == config_lib.LABELS_METADATA and not table.label_column:
    raise ValueError(
        f"{table.path} has no 'label' or 'labels' column, and "
        "labels='metadata'; add one, or take the labels from the folders "
        "(labels='folder').")


def _vocabulary(tables: List[metadata.MetadataTable],
                found: discovery_lib.Discovery,
                config: config_lib.IngestConfig,
                previous_class_names: Optional[Sequence[str]]
                ) -> Tuple[Tuple[str, ...], bool]:
  """(vocabulary, multi-label?)."""
  if config.labels != config_lib.LABELS_METADATA:
    return found.class_names, False
  columns = {table.label_column for table in tables}
  if len(columns) > 1:
    raise ValueError(
        "The metadata files mix 'label' and 'labels' columns "
        f'({[table.path for table in tables]}); use one kind.')
  names = metadata.names_in(tables)
  if names or config.class_names or previous_class_names:
    # For integer ids (no names), class_names or the earlier vocabulary name
    # them; either way an explicit list must extend the earlier one.
    vocabulary = class_vocabulary(
        names, class_names=config.class_names,
        previous_class_names=previous_class_names)
  else:  # Integer ids, unnamed: name them by their number.
    largest = max((label for table in tables for row in table.rows.values()
                   for label in row.labels), default=-1)
    vocabulary = tuple(str(index) for index in range(largest + 1))
  return vocabulary, columns == {'labels'}


def _relative_to(folder: str, path: str) -> Optional[str]:
  prefix = folder.rstrip('/') + '/' if folder else ''
  return path[len(prefix):] if path.startswith(prefix) else None


def _join(source: discovery_lib.SourceFile, table: metadata.MetadataTable,
          config: config_lib.IngestConfig, vocabulary: Tuple[str, ...],
          multi_label: bool, matched: set) -> discovery_lib.SourceFile:
  key = _relative_to(table.folder, source.path)
  row = table.rows.get(key) if key is not None else None
  if row is None:
    return source._replace(
        skip_reason=reasons.NO_METADATA_ROW,
        skip_detail=f'no row for it in {table.path}; add one (file_name '
        f'{key!r}) or remove the image')
  matched.add(key)
  features = tuple((column, table.column_types[column], tuple(values))
                   for column, values in row.features.items())
  if config.labels != config_lib.LABELS_METADATA:
    return source._replace(features=features)
  try:
    ids = metadata.resolve_labels(row.labels, vocabulary)
  except ValueError as error:
    return source._replace(
        skip_reason=reasons.UNKNOWN_LABEL,
        skip_detail=f'{table.path} line {row.line}: {error}')
  if multi_label:
    return source._replace(
        class_name=None, label=None, label_ids=ids,
        label_names=tuple(vocabulary[index] for index in ids),
        features=features)
  if not ids:
    return source._replace(
        skip_reason=reasons.NO_LABEL,
        skip_detail=f'{table.path} line {row.line} has no label; give one, '
        'or remove the row and the image')
  return source._replace(class_name=vocabulary[ids[0]], label=ids[0],
                         features=features)


def _table_relative_path(input_base: str, path: str) -> str:
  relative = _relative_to(input_base, path)
  return relative if relative is not None else path


def _row_entries(input_base: str, table: metadata.MetadataTable, split: str,
                 matched: set) -> List[discovery_lib.SourceFile]:
  """Skipped entries for the table's bad rows and rows without a file."""
  where = _table_relative_path(input_base, table.path)
  entries = [
      _row_entry(where, problem.line, split, problem.reason,
                 f'file_name {problem.file_name!r}: {problem.detail}')
      for problem in table.problems
  ]
  for key, row in table.rows.items():
    if key not in matched:
      entries.append(_row_entry(
          where, row.line, split, reasons.METADATA_ROW_WITHOUT_FILE,
          f'file_name {key!r}: no such image was found (or it was skipped '
          'before its row was read: hidden, unreadable ...)'))
  return entries


def _row_entry(where: str, line: int, split: str, reason: str,
               detail: str) -> discovery_lib.SourceFile:
  return discovery_lib.SourceFile(
      path='', relative_path=f'{where}:{line}', input_split=split,
      class_name=None, label=None, size=0, skip_reason=reason,
      skip_detail=detail)
