"""Labels the files found: the vocabulary, each file's labels and features.

The one place that works out labels; core.plan streams the files and rows
through it:

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

Which file each row belongs to (the join) is core.plan_store's, on disk;
this module decides what a file and its row mean (`Labeler`).
"""

import os
from typing import AbstractSet, Dict, Iterable, Optional, Sequence, Tuple

from apache_beam.io.filesystems import FileSystems

from image_example_gen.core import config as config_lib
from image_example_gen.core import discovery as discovery_lib
from image_example_gen.core import artifact
from image_example_gen.core import metadata
from image_example_gen.core import reasons

__all__ = [
    'Labeler', 'check_columns', 'class_vocabulary', 'folder_vocabulary',
    'metadata_paths', 'metadata_vocabulary', 'relative_to', 'row_entry',
    'table_relative_path'
]

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


def folder_vocabulary(
    input_base: str, class_folders: AbstractSet[str],
    config: config_lib.IngestConfig,
    previous_class_names: Optional[Sequence[str]]) -> Tuple[str, ...]:
  """The vocabulary of labels='folder': see class_vocabulary.

  Raises:
    ValueError: A class folder missing from an explicit class_names, or
      class_names contradicting previous_class_names.
  """
  vocabulary = class_vocabulary(class_folders, class_names=config.class_names,
                                previous_class_names=previous_class_names)
  unknown = sorted(set(class_folders) - set(vocabulary))
  if unknown:
    raise ValueError(
        f'Class folder(s) {unknown} under {input_base!r} are not in '
        f'class_names {list(vocabulary)}. Add them to class_names, or '
        'narrow the input_config patterns to leave them out.')
  return vocabulary


def metadata_paths(input_base: str,
                   input_splits: Sequence[discovery_lib.InputSplit],
                   config: config_lib.IngestConfig) -> Dict[str, str]:
  """{input split: the metadata file that applies to it}.

  Raises:
    ValueError: metadata_file names no file; a folder holds both a
      metadata.csv and a metadata.jsonl; labels='metadata' and no metadata
      file applies.
  """
  if config.metadata_file:
    path = config.metadata_file
    if FileSystems.get_scheme(path) is None:
      path = os.path.abspath(os.path.join(input_base, path))
    if not FileSystems.exists(path):
      raise ValueError(f'metadata_file {config.metadata_file!r} does not '
                       f'exist (looked at {path!r}).')
    return {split.name: path for split in input_splits}
  paths = {}
  for split in input_splits:
    root = discovery_lib.split_root(input_base, split.pattern)
    path = _find(root) or _find(input_base)
    if path is not None:
      paths[split.name] = path
  if not paths and config.labels == config_lib.LABELS_METADATA:
    raise ValueError(
        "labels='metadata', but there is no metadata.csv or metadata.jsonl "
        f'in the split roots or at {input_base!r}; add one, or name it '
        'with metadata_file.')
  return paths


def _find(folder: str) -> Optional[str]:
  try:
    return metadata.find_metadata_file(folder)
  except metadata.MetadataError as error:
    raise ValueError(str(error)) from None


def check_columns(table: metadata.MetadataFile,
                  config: config_lib.IngestConfig) -> None:
  """Raises ValueError if the table's columns cannot serve this ingest."""
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


def metadata_vocabulary(tables: Sequence[metadata.MetadataFile],
                        label_sets: Iterable[Tuple[metadata.Label, ...]],
                        config: config_lib.IngestConfig,
                        previous_class_names: Optional[Sequence[str]]
                        ) -> Tuple[Tuple[str, ...], bool]:
  """(vocabulary, multi-label?) of labels='metadata'.

  Args:
    tables: The metadata files that apply.
    label_sets: The distinct label tuples of their good rows.
    config: The ingest options (class_names).
    previous_class_names: The vocabulary of an earlier span.

  Raises:
    ValueError: The files mix 'label' and 'labels' columns, or class_names
      contradicts previous_class_names.
  """
  columns = {table.label_column for table in tables}
  if len(columns) > 1:
    raise ValueError(
        "The metadata files mix 'label' and 'labels' columns "
        f'({[table.path for table in tables]}); use one kind.')
  label_sets = list(label_sets)
  names = {label for labels in label_sets for label in labels
           if isinstance(label, str)}
  if names or config.class_names or previous_class_names:
    # For integer ids (no names), class_names or the earlier vocabulary name
    # them; either way an explicit list must extend the earlier one.
    vocabulary = class_vocabulary(
        names, class_names=config.class_names,
        previous_class_names=previous_class_names)
  else:  # Integer ids, unnamed: name them by their number.
    largest = max((label for labels in label_sets for label in labels),
                  default=-1)
    vocabulary = tuple(str(index) for index in range(largest + 1))
  return vocabulary, columns == {'labels'}


def relative_to(folder: str, path: str) -> Optional[str]:
  """`path` relative to `folder` ('/'-separated), or None if outside it."""
  prefix = folder.rstrip('/') + '/' if folder else ''
  return path[len(prefix):] if path.startswith(prefix) else None


def table_relative_path(input_base: str, path: str) -> str:
  """A metadata file's path as the report names it: relative to input_base."""
  relative = relative_to(input_base, path)
  return relative if relative is not None else path


class Labeler:
  """Gives each planned file its labels and metadata features."""

  def __init__(self, config: config_lib.IngestConfig,
               vocabulary: Tuple[str, ...], multi_label: bool):
    self._config = config
    self._vocabulary = vocabulary
    self._multi_label = multi_label
    self._by_folder = config.labels == config_lib.LABELS_FOLDER
    self._label_of = {name: index for index, name in enumerate(vocabulary)}

  def label(self, source: discovery_lib.SourceFile,
            table: Optional[metadata.MetadataFile],
            row: Optional[metadata.MetadataRow]) -> discovery_lib.SourceFile:
    """The file labelled: from its class folder or its row (`table`'s, None
    if it has none); a file of a table without a row is skipped."""
    if self._by_folder:
      source = source._replace(label=self._label_of.get(source.class_name))
    else:
      source = source._replace(class_name=None)
    if table is None or source.skip_reason:
      return source
    if row is None:
      key = relative_to(table.folder, source.path)
      return source._replace(
          skip_reason=reasons.NO_METADATA_ROW,
          skip_detail=f'no row for it in {table.path}; add one (file_name '
          f'{key!r}) or remove the image')
    features = tuple((column, table.column_types[column], tuple(values))
                     for column, values in row.features.items())
    if self._config.labels != config_lib.LABELS_METADATA:
      return source._replace(features=features)
    try:
      ids = metadata.resolve_labels(row.labels, self._vocabulary)
    except ValueError as error:
      return source._replace(
          skip_reason=reasons.UNKNOWN_LABEL,
          skip_detail=f'{table.path} line {row.line}: {error}')
    if self._multi_label:
      return source._replace(
          class_name=None, label=None, label_ids=ids,
          label_names=tuple(self._vocabulary[index] for index in ids),
          features=features)
    if not ids:
      return source._replace(
          skip_reason=reasons.NO_LABEL,
          skip_detail=f'{table.path} line {row.line} has no label; give one, '
          'or remove the row and the image')
    return source._replace(class_name=self._vocabulary[ids[0]], label=ids[0],
                           features=features)


def row_entry(where: str, line: int, split: str, reason: str,
              detail: str) -> discovery_lib.SourceFile:
  """A skipped entry `<metadata file>:<line>` for a row that is not used."""
  return discovery_lib.SourceFile(
      path='', relative_path=f'{where}:{line}', input_split=split,
      class_name=None, label=None, size=0, skip_reason=reason,
      skip_detail=detail)
