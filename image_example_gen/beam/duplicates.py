"""The report's exact duplicates and near-duplicate groups, in flat memory.

Finding them needs every ingested image at once, but describing them needs
the path, split and label of the few images that turn out to be copies. So
the per-image state goes to files in the staging folder, not to memory:

1. The encoding pass emits, per batch of files, an index line (`index_line`:
   member id, content key and fingerprint of each image, 25 bytes each,
   base64) and the images' JSON record lines (`record_line`: path, sha256,
   size, split, class). `WriteToText` streams both to files.
2. Once the index is written, `find_copies`, on one worker, reads it into
   arrays and finds the ids of identical files (equal content keys, by a
   sort) and of near-duplicate groups (near_duplicate_groups.group_labels).
   It writes them, the copies only (16 bytes a copy), to one file beside the
   index, and passes on that file's name.
3. `_ReadCopies` loads that file once per worker, streams the record files
   back and keeps the records of the copies, which `SummarizeGroup`
   (CombinePerKey) sums up per group, naming at most GROUP_FILES_LISTED
   files, into one JSON line per group (`duplicate_group`,
   `near_duplicate_group`).

Why files, and not a CombineFn of arrays (before): a runner encodes a
combine's accumulator and its result to pass them on, and the in-process
DirectRunner held several copies of them at once. At a million images
(benchmarks/copies_profile.py) the accumulator's 32 MB grew the memory
through the run and then by 164 MB in the 0.3 s that passed it on;
docs/scale.md has the figures.
"""


import base64
import bisect
import heapq
import json
from typing import (Dict, Iterable, Iterator, List, NamedTuple, Optional,
                    Sequence, Tuple)

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
import numpy as np

from image_example_gen.beam import near_duplicate_groups
from image_example_gen.beam import side_file
from image_example_gen.core import memory
from image_example_gen.core import stratify

__all__ = ['GROUP_FILES_LISTED', 'CopyIndex', 'ReportCopies',
           'SummarizeGroup', 'copy_index', 'duplicate_group', 'find_copies',
           'index_entry', 'index_line', 'load_copy_index',
           'near_duplicate_group', 'read_index', 'record_line']

# An index entry on disk: member id, content key, fingerprint (0 when
# `fingerprinted` is 0: none), little-endian, packed.
INDEX_DTYPE = np.dtype([('id', '<i8'), ('key', '<i8'), ('fingerprint', '<i8'),
                        ('fingerprinted', 'u1')])
# Files of a group that its report line names (all are counted): bounded, so
# that a group of a million blank images stays a small record. Each listed
# file is held until the end of the run, about 180 B: at 1,000, a million
# images in 8,000 near-duplicate groups of about 125 (the 1,000,000-file
# benchmark, docs/scale.md) kept every path, and the run's last seconds rose
# 250 MB above its steady memory. At 20, those groups hold 160,000 paths,
# and a group of up to 20 (the usual copies of a photo) is listed whole.
GROUP_FILES_LISTED = 20


def index_entry(relative_path: str, sha256: str,
                fingerprint: Optional[int]) -> Tuple[int, int, Optional[int]]:
  """What the index keeps of an image: (member id, content key, fingerprint
  or None), ints signed64."""
  return (near_duplicate_groups.member_id(relative_path),
          near_duplicate_groups.signed64(stratify.key_number(sha256)),
          None if fingerprint is None else
          near_duplicate_groups.signed64(fingerprint))


def index_line(entries: Iterable[Tuple[int, int, Optional[int]]]) -> str:
  """A batch of index entries as one line of text: the INDEX_DTYPE records,
  base64."""
  entries = list(entries)
  records = np.zeros(len(entries), dtype=INDEX_DTYPE)
  for record, (identifier, key, fingerprint) in zip(records, entries):
    record['id'], record['key'] = identifier, key
    if fingerprint is not None:
      record['fingerprint'], record['fingerprinted'] = fingerprint, 1
  return base64.b64encode(records.tobytes()).decode('ascii')


def read_index(file_names: Sequence[str], fields: Sequence[str] = (
    'id', 'key', 'fingerprint', 'fingerprinted'),
               fingerprinted_only: bool = False) -> List[np.ndarray]:
  """Columns of the index files (lines of `index_line`): one array per name
  in `fields` (INDEX_DTYPE's), of every entry, or with `fingerprinted_only`
  of the entries that have a fingerprint.

  Each column is allocated once, for as many entries as the files' bytes
  can hold (base64 gives 3 bytes per 4 characters), and filled line by
  line: no list of pieces to join, no second copy. Reading the files again
  for each step (a million entries take about 0.3 s) lets a step hold only
  the columns it uses."""
  file_names = list(file_names)
  total_bytes = sum(
      metadata.size_in_bytes for result in FileSystems.match(file_names)
      for metadata in result.metadata_list)
  capacity = total_bytes * 3 // 4 // INDEX_DTYPE.itemsize
  columns = [np.zeros(capacity, INDEX_DTYPE[field]) for field in fields]
  count = 0
  for file_name in file_names:
    with FileSystems.open(file_name) as file:
      for line in file:
        records = np.frombuffer(base64.b64decode(line), dtype=INDEX_DTYPE)
        if fingerprinted_only:
          records = records[records['fingerprinted'] != 0]
        end = count + len(records)
        for column, field in zip(columns, fields):
          column[count:end] = records[field]
        count = end
  return [column[:count] for column in columns]


def record_line(relative_path: str, sha256: str, size: int, split: str,
                class_name) -> str:
  """The JSON line kept on disk per image, read back for the copies only."""
  return json.dumps([relative_path, sha256, size, split, class_name],
                    ensure_ascii=False)


def copy_index(index_files: Sequence[str],
               threshold: Optional[int]) -> 'CopyIndex':
  """What the index files say of copies: the ids of every file whose content
  another file repeats, and of every image in a near-duplicate group (none
  when `threshold` is None: no near-duplicate detection).

  Each step reads the columns it needs, and lets them go before the next:
  the ids and content keys for the exact duplicates, the fingerprints alone
  for the grouping, whose banding is the peak (about 30 B an image beside
  the fingerprints), then the grouped images' ids."""
  ids, keys = read_index(index_files, ('id', 'key'))
  duplicates = _exact_duplicates(ids, keys)
  del ids, keys
  if threshold is None:
    return CopyIndex(duplicates, None)
  fingerprints, = read_index(index_files, ('fingerprint',),
                             fingerprinted_only=True)
  indices, labels = near_duplicate_groups.group_labels(
      fingerprints, threshold, overwrite_input=True)
  del fingerprints
  memory.release_freed()
  ids, = read_index(index_files, ('id',), fingerprinted_only=True)
  members = ids[indices]
  del ids, indices
  return CopyIndex(duplicates, _SortedIds(members, labels))


def _exact_duplicates(ids: np.ndarray, keys: np.ndarray) -> '_SortedIds':
  """{id: content key} of the files whose key another file has."""
  ordered = np.sort(keys)
  repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
  del ordered
  if not len(repeated):
    empty = np.zeros(0, dtype=np.int64)
    return _SortedIds(empty, empty)
  position = np.minimum(np.searchsorted(repeated, keys), len(repeated) - 1)
  copies = repeated[position] == keys
  del position
  return _SortedIds(ids[copies], keys[copies])


def find_copies(index_files: List[str], threshold: Optional[int],
                copies_path: str) -> str:
  """Reads the index files, writes their CopyIndex to `copies_path`
  (CopyIndex.write), and returns that path."""
  found = copy_index(sorted(index_files), threshold)
  with FileSystems.create(copies_path) as file:
    found.write(file)
  del found
  memory.release_freed()
  return copies_path


def load_copy_index(copies_path: str) -> 'CopyIndex':
  with FileSystems.open(copies_path) as file:
    return CopyIndex.read(file)


class _SortedIds:
  """{id: value} as two int64 arrays sorted by id: 16 bytes an entry, where
  a dict of Python ints takes about 100."""

  def __init__(self, ids: np.ndarray, values: np.ndarray):
    order = np.argsort(ids, kind='stable')
    self._ids = ids[order]
    self._values = values[order]

  def __len__(self) -> int:
    return len(self._ids)

  @classmethod
  def from_sorted(cls, ids: np.ndarray, values: np.ndarray) -> '_SortedIds':
    sorted_ids = cls.__new__(cls)
    sorted_ids._ids, sorted_ids._values = ids, values  # pylint: disable=protected-access
    return sorted_ids

  def as_dict(self) -> Dict[int, int]:
    return dict(zip(self._ids.tolist(), self._values.tolist()))

  def get(self, identifier: int) -> Optional[int]:
    position = int(np.searchsorted(self._ids, identifier))
    if position < len(self._ids) and self._ids[position] == identifier:
      return int(self._values[position])
    return None


class CopyIndex(NamedTuple):
  """What copy_index found: `duplicates` maps a file's id to its content key,
  `groups` (None without near-duplicate detection) an image's id to its
  group's label; both hold the copies only."""
  duplicates: _SortedIds
  groups: Optional[_SortedIds]

  def write(self, file) -> None:
    """To a binary file: the arrays in .npy format, one after the other."""
    parts = [self.duplicates] + ([self.groups] if self.groups is not None
                                 else [])
    np.lib.format.write_array(file, np.array([len(parts)], dtype=np.int64))
    for part in parts:
      # pylint: disable=protected-access
      np.lib.format.write_array(file, part._ids)
      np.lib.format.write_array(file, part._values)

  @classmethod
  def read(cls, file) -> 'CopyIndex':
    count = int(np.lib.format.read_array(file)[0])
    parts = [_SortedIds.from_sorted(np.lib.format.read_array(file),
                                    np.lib.format.read_array(file))
             for _ in range(count)]
    return cls(parts[0], parts[1] if count > 1 else None)


class _ReadCopies(beam.DoFn):
  """Streams a file of record lines; emits the records of copies, keyed by
  their group: (sha256, record) to DUPLICATE and (group id, record) to
  NEAR_DUPLICATE, a record being (path, sha256, split, class, size). The
  CopyIndex comes as the path of its file, loaded once per DoFn."""

  DUPLICATE = 'duplicate'
  NEAR_DUPLICATE = 'near_duplicate'

  def __init__(self):
    super().__init__()
    self._copy_index = side_file.LoadedFile(load_copy_index)

  def process(self, file_name: str, copies_path: str):
    duplicates, groups = self._copy_index.get(copies_path)
    if not len(duplicates) and not groups:
      return
    with FileSystems.open(file_name) as file:
      for line in file:
        path, sha256, size, split, class_name = json.loads(line)
        member = near_duplicate_groups.member_id(path)
        record = (path, sha256, split, _hashable(class_name), size)
        if duplicates.get(member) is not None:
          yield beam.pvalue.TaggedOutput(self.DUPLICATE, (sha256, record))
        group = groups.get(member) if groups else None
        if group is not None:
          yield beam.pvalue.TaggedOutput(self.NEAR_DUPLICATE, (group, record))


def _hashable(class_name):
  """A multi-label class key comes back from JSON as a list."""
  return tuple(class_name) if isinstance(class_name, list) else class_name


class SummarizeGroup(beam.CombineFn):
  """The records of one group's files -> what the report says of it: the
  number of files, the first `max_files` paths in sorted order, the splits,
  the class names, whether it holds two distinct contents, and the size of
  the first file. Bounded whatever the group's size: a group of a million
  blank images costs what a group of `max_files` does.

  Accumulator: [count, sorted paths, size of the first path, splits, class
  names, a digest, whether another digest was seen]; lists, not sets, and
  paths, not (path, size) pairs: at a million images in 7,971 groups, the
  run's last step holds one per group (benchmarks/copies_profile.py).
  """

  def __init__(self, max_files: int = GROUP_FILES_LISTED):
    super().__init__()
    self._max_files = max_files

  def create_accumulator(self):
    return [0, [], 0, [], [], None, False]

  def add_input(self, accumulator, record):
    path, sha256, split, class_name, size = record
    accumulator[0] += 1
    files = accumulator[1]
    if not files or path < files[0]:
      accumulator[2] = size
    if len(files) < self._max_files:
      bisect.insort(files, path)
    elif path < files[-1]:
      files.pop()
      bisect.insort(files, path)
    _add_new(accumulator[3], split)
    _add_new(accumulator[4], class_name)
    if accumulator[5] is None:
      accumulator[5] = sha256
    elif sha256 != accumulator[5]:
      accumulator[6] = True
    return accumulator

  def merge_accumulators(self, accumulators):
    merged = self.create_accumulator()
    for count, files, size, splits, class_names, digest, other in (
        accumulators):
      if not count:
        continue
      if not merged[1] or (files and files[0] < merged[1][0]):
        merged[2] = size
      merged[0] += count
      merged[1] = heapq.nsmallest(self._max_files, merged[1] + files)
      for split in splits:
        _add_new(merged[3], split)
      for class_name in class_names:
        _add_new(merged[4], class_name)
      if merged[5] is None:
        merged[5], merged[6] = digest, other
      elif other or digest != merged[5]:
        merged[6] = True
    return merged

  def extract_output(self, accumulator):
    count, files, size, splits, class_names, _, other = accumulator
    return {
        'count': count,
        'files': files,
        'size': size,
        'splits': sorted(splits),
        'class_names': sorted(class_names, key=_sort_key),
        'distinct_contents': 2 if other else min(count, 1),
    }


def _add_new(values: list, value) -> None:
  if value not in values:
    values.append(value)


def _sort_key(class_name):
  return ('' if class_name is None else
          class_name if isinstance(class_name, str) else
          '\x00'.join(class_name))


class ReportCopies(beam.PTransform):
  """(index lines, texts of record lines) of the ingested images, a batch
  each -> (exact duplicate JSON lines, near-duplicate JSON lines or None).

  Args:
    records_prefix: Where the index, the record files and the copies' file
      go (in the staging folder).
    threshold: near_duplicate_threshold, or None for no near duplicates.
  """

  def __init__(self, records_prefix: str, threshold: Optional[int]):
    super().__init__()
    self._records_prefix = records_prefix
    self._threshold = threshold

  def expand(self, inputs):
    index_lines, lines = inputs
    copies_file = index_lines | 'FindCopies' >> side_file.WriteAndReduce(
        self._records_prefix + '-index', find_copies, self._threshold,
        output_path=self._records_prefix + '-copies.npy')
    written = lines | 'WriteRecords' >> beam.io.WriteToText(
        self._records_prefix, '.jsonl')
    copies = written | 'ReadCopies' >> beam.ParDo(
        _ReadCopies(), beam.pvalue.AsSingleton(copies_file)).with_outputs(
            _ReadCopies.DUPLICATE, _ReadCopies.NEAR_DUPLICATE)
    duplicates = (copies[_ReadCopies.DUPLICATE]
                  | 'SummarizeDuplicates' >> beam.CombinePerKey(
                      SummarizeGroup())
                  | 'DescribeDuplicates' >> beam.FlatMapTuple(duplicate_group))
    if self._threshold is None:
      return duplicates, None
    near = (copies[_ReadCopies.NEAR_DUPLICATE]
            | 'SummarizeNearDuplicates' >> beam.CombinePerKey(
                SummarizeGroup())
            | 'DescribeNearDuplicates' >> beam.FlatMapTuple(
                near_duplicate_group))
    return duplicates, near


def duplicate_group(digest: str, summary) -> Iterator[str]:
  """A JSON line for files with identical bytes (SummarizeGroup's summary):
  sha256, size, count, files (the first GROUP_FILES_LISTED), splits,
  class_names; nothing for a unique file."""
  if summary['count'] < 2:
    return
  yield json.dumps({
      'sha256': digest,
      'size': summary['size'],
      'count': summary['count'],
      'files': summary['files'],
      'splits': summary['splits'],
      'class_names': summary['class_names'],
  }, ensure_ascii=False)


def near_duplicate_group(_, summary) -> Iterator[str]:
  """A JSON line for a group of near duplicates (SummarizeGroup's summary):
  count, files (the first GROUP_FILES_LISTED), splits, class_names; nothing
  for a group of identical files only (the exact duplicates list them)."""
  if summary['distinct_contents'] < 2:
    return
  yield json.dumps({
      'count': summary['count'],
      'files': summary['files'],
      'splits': summary['splits'],
      'class_names': [name or '' for name in summary['class_names']],
  }, ensure_ascii=False)
