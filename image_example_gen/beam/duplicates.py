"""The report's exact duplicates and near-duplicate groups, in flat memory.

Finding them needs every ingested image at once, but describing them needs
the path, split and label of the few images that turn out to be copies. So:

1. The encoding pass emits, per image, (member id, content key, fingerprint)
   as three 64-bit ints to `ImageIndex`, a CombineFn whose accumulator is
   int64 arrays (32 bytes an image); and a JSON line (`record_line`: path,
   sha256, size, split, class) that `WriteToText` streams to files in the
   staging folder, not to memory. Both go as one element per batch of files
   (a list of entries; lines joined by newlines), since Beam's cost per
   element outweighs ours per entry.
2. `ImageIndex` finds the ids of identical files (equal content keys, by a
   sort) and of near-duplicate groups (near_duplicate_groups.group_labels):
   sorted arrays of the copies' ids only (16 bytes a copy).
3. Once the record files are written, `_ReadCopies` streams them back and
   keeps the records of those copies, which `SummarizeGroup` (CombinePerKey)
   sums up per group, naming at most GROUP_FILES_LISTED files, into one JSON
   line per group (`duplicate_group`, `near_duplicate_group`).

Measured against the GroupByKey of one record per image it replaces
(docs/scale.md): the DirectRunner held that GroupByKey's whole input in
memory.
"""

import array
import bisect
import heapq
import json
from typing import Dict, Iterator, NamedTuple, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
import numpy as np

from image_example_gen.beam import near_duplicate_groups
from image_example_gen.core import stratify

__all__ = ['GROUP_FILES_LISTED', 'CopyIndex', 'ImageIndex', 'ReportCopies',
           'SummarizeGroup', 'duplicate_group', 'index_entry',
           'near_duplicate_group', 'record_line']

_NO_FINGERPRINT = None
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
  """What ImageIndex takes for an image: (member id, content key,
  fingerprint or None), ints signed64."""
  return (near_duplicate_groups.member_id(relative_path),
          near_duplicate_groups.signed64(stratify.key_number(sha256)),
          None if fingerprint is None else
          near_duplicate_groups.signed64(fingerprint))


def record_line(relative_path: str, sha256: str, size: int, split: str,
                class_name) -> str:
  """The JSON line kept on disk per image, read back for the copies only."""
  return json.dumps([relative_path, sha256, size, split, class_name],
                    ensure_ascii=False)


class ImageIndex(beam.CombineFn):
  """The index_entry of every ingested image, a batch of them per input ->
  a CopyIndex: the ids of every file whose content another file repeats,
  and of every image in a near-duplicate group (none when `threshold` is
  None: no near-duplicate detection). Arrays throughout, about 16 bytes a
  copy.
  """

  def __init__(self, threshold: Optional[int]):
    super().__init__()
    self._threshold = threshold

  def create_accumulator(self):
    # ids, content keys; ids and fingerprints of the fingerprinted images.
    return tuple(array.array('q') for _ in range(4))

  def add_input(self, accumulator, entries):
    ids, keys, fingerprinted, fingerprints = accumulator
    for identifier, key, fingerprint in entries:
      ids.append(identifier)
      keys.append(key)
      if fingerprint is not _NO_FINGERPRINT and self._threshold is not None:
        fingerprinted.append(identifier)
        fingerprints.append(fingerprint)
    return accumulator

  def merge_accumulators(self, accumulators):
    accumulators = iter(accumulators)
    merged = next(accumulators)
    for more in accumulators:
      for mine, theirs in zip(merged, more):
        mine.extend(theirs)
    return merged

  def extract_output(self, accumulator) -> 'CopyIndex':
    ids, keys, fingerprinted, fingerprints = (
        np.frombuffer(values, dtype=np.int64) for values in accumulator)
    order = np.argsort(keys, kind='stable')
    keys, ids = keys[order], ids[order]
    repeated = np.zeros(len(keys), dtype=bool)
    if len(keys) > 1:
      same = keys[1:] == keys[:-1]
      repeated[1:] |= same
      repeated[:-1] |= same
    duplicates = _SortedIds(ids[repeated], keys[repeated])
    if self._threshold is None:
      return CopyIndex(duplicates, None)
    indices, labels = near_duplicate_groups.group_labels(
        fingerprints, self._threshold)
    return CopyIndex(duplicates,
                     _SortedIds(fingerprinted[indices], labels))


class _SortedIds:
  """{id: value} as two int64 arrays sorted by id: 16 bytes an entry, where
  a dict of Python ints takes about 100."""

  def __init__(self, ids: np.ndarray, values: np.ndarray):
    order = np.argsort(ids, kind='stable')
    self._ids = np.ascontiguousarray(ids[order])
    self._values = np.ascontiguousarray(values[order])

  def __len__(self) -> int:
    return len(self._ids)

  def as_dict(self) -> Dict[int, int]:
    return dict(zip(self._ids.tolist(), self._values.tolist()))

  def get(self, identifier: int) -> Optional[int]:
    position = int(np.searchsorted(self._ids, identifier))
    if position < len(self._ids) and self._ids[position] == identifier:
      return int(self._values[position])
    return None


class CopyIndex(NamedTuple):
  """What ImageIndex found: `duplicates` maps a file's id to its content key,
  `groups` (None without near-duplicate detection) an image's id to its
  group's label; both hold the copies only."""
  duplicates: _SortedIds
  groups: Optional[_SortedIds]


class _ReadCopies(beam.DoFn):
  """Streams a file of record lines; emits the records of copies, keyed by
  their group: (sha256, record) to DUPLICATE and (group id, record) to
  NEAR_DUPLICATE, a record being (path, sha256, split, class, size)."""

  DUPLICATE = 'duplicate'
  NEAR_DUPLICATE = 'near_duplicate'

  def process(self, file_name: str, index: CopyIndex):
    duplicates, groups = index
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
  the class names, up to two distinct contents and the size of the first.
  Bounded whatever the group's size: a group of a million blank images
  costs what a group of `max_files` does."""

  def __init__(self, max_files: int = GROUP_FILES_LISTED):
    super().__init__()
    self._max_files = max_files

  def create_accumulator(self):
    return [0, [], set(), set(), set()]

  def add_input(self, accumulator, record):
    path, sha256, split, class_name, size = record
    accumulator[0] += 1
    files = accumulator[1]
    if len(files) < self._max_files:
      bisect.insort(files, (path, size))
    elif (path, size) < files[-1]:
      files.pop()
      bisect.insort(files, (path, size))
    accumulator[2].add(split)
    accumulator[3].add(class_name)
    if len(accumulator[4]) < 2:
      accumulator[4].add(sha256)
    return accumulator

  def merge_accumulators(self, accumulators):
    merged = self.create_accumulator()
    for count, files, splits, class_names, digests in accumulators:
      merged[0] += count
      merged[1] = heapq.nsmallest(self._max_files, merged[1] + files)
      merged[2] |= splits
      merged[3] |= class_names
      merged[4] = set(sorted(merged[4] | digests)[:2])
    return merged

  def extract_output(self, accumulator):
    count, files, splits, class_names, digests = accumulator
    return {
        'count': count,
        'files': [path for path, _ in files],
        'size': files[0][1] if files else 0,
        'splits': sorted(splits),
        'class_names': sorted(class_names, key=_sort_key),
        'distinct_contents': len(digests),
    }


def _sort_key(class_name):
  return ('' if class_name is None else
          class_name if isinstance(class_name, str) else
          '\x00'.join(class_name))


class ReportCopies(beam.PTransform):
  """(lists of index entries, texts of record lines) of the ingested images
  -> (exact duplicate JSON lines, near-duplicate JSON lines or None).

  Args:
    records_prefix: Where the record files go (in the staging folder).
    threshold: near_duplicate_threshold, or None for no near duplicates.
  """

  def __init__(self, records_prefix: str, threshold: Optional[int]):
    super().__init__()
    self._records_prefix = records_prefix
    self._threshold = threshold

  def expand(self, inputs):
    entries, lines = inputs
    index = entries | 'IndexImages' >> beam.CombineGlobally(
        ImageIndex(self._threshold))
    written = lines | 'WriteRecords' >> beam.io.WriteToText(
        self._records_prefix, '.jsonl')
    copies = written | 'ReadCopies' >> beam.ParDo(
        _ReadCopies(), beam.pvalue.AsSingleton(index)).with_outputs(
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
