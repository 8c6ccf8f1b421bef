"""The report's exact duplicates and near-duplicate groups, in flat memory.

Finding them needs every ingested image at once, but describing them needs
the path, split and label of the few images that turn out to be copies. So:

1. The encoding pass emits, per image, (member id, content key, fingerprint)
   as three 64-bit ints to `ImageIndex`, a CombineFn whose accumulator is
   int64 arrays (32 bytes an image); and a JSON line (`record_line`: path,
   sha256, size, split, class) that `WriteToText` streams to files in the
   staging folder, not to memory.
2. `ImageIndex` finds the ids of identical files (equal content keys, by a
   sort) and of near-duplicate groups (near_duplicate_groups.group_members):
   dicts of the copies only.
3. Once the record files are written, `_ReadCopies` streams them back and
   keeps the records of those copies, which a GroupByKey of copies only then
   gathers into one JSON line per group (`duplicate_group`,
   `near_duplicate_group`).

Measured against the GroupByKey of one record per image it replaces
(docs/scale.md): the DirectRunner held that GroupByKey's whole input in
memory.
"""

import array
import json
from typing import Iterable, Iterator, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
import numpy as np

from image_example_gen.beam import near_duplicate_groups
from image_example_gen.core import stratify

__all__ = ['ImageIndex', 'ReportCopies', 'duplicate_group', 'index_entry',
           'near_duplicate_group', 'record_line']

_NO_FINGERPRINT = None


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
  """index_entry of every ingested image -> (duplicates, groups):
  {member id: content key} of every file whose content another file repeats,
  and {member id: group id} of every image in a near-duplicate group (None
  when `threshold` is None: no near-duplicate detection).
  """

  def __init__(self, threshold: Optional[int]):
    super().__init__()
    self._threshold = threshold

  def create_accumulator(self):
    # ids, content keys; ids and fingerprints of the fingerprinted images.
    return tuple(array.array('q') for _ in range(4))

  def add_input(self, accumulator, element):
    ids, keys, fingerprinted, fingerprints = accumulator
    identifier, key, fingerprint = element
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

  def extract_output(self, accumulator):
    ids, keys, fingerprinted, fingerprints = (
        np.frombuffer(values, dtype=np.int64) for values in accumulator)
    order = np.argsort(keys, kind='stable')
    keys, ids = keys[order], ids[order]
    repeated = np.zeros(len(keys), dtype=bool)
    if len(keys) > 1:
      same = keys[1:] == keys[:-1]
      repeated[1:] |= same
      repeated[:-1] |= same
    duplicates = dict(zip(ids[repeated].tolist(), keys[repeated].tolist()))
    if self._threshold is None:
      return duplicates, None
    groups = {}
    for group in near_duplicate_groups.group_members(
        fingerprinted, fingerprints, self._threshold):
      members = [int(fingerprinted[index]) for index in group]
      group_id = min(members)
      for member in members:
        groups[member] = group_id
    return duplicates, groups


class _ReadCopies(beam.DoFn):
  """Streams a file of record lines; emits the records of copies, keyed by
  their group: (sha256, (path, size, split, class)) to DUPLICATE and
  (group id, (path, sha256, split, class)) to NEAR_DUPLICATE."""

  DUPLICATE = 'duplicate'
  NEAR_DUPLICATE = 'near_duplicate'

  def process(self, file_name: str, index):
    duplicates, groups = index
    if not duplicates and not groups:
      return
    with FileSystems.open(file_name) as file:
      for line in file:
        path, sha256, size, split, class_name = json.loads(line)
        member = near_duplicate_groups.member_id(path)
        if member in duplicates:
          yield beam.pvalue.TaggedOutput(
              self.DUPLICATE,
              (sha256, (path, size, split, _hashable(class_name))))
        group = groups.get(member) if groups else None
        if group is not None:
          yield beam.pvalue.TaggedOutput(
              self.NEAR_DUPLICATE,
              (group, (path, sha256, split, _hashable(class_name))))


def _hashable(class_name):
  """A multi-label class key comes back from JSON as a list."""
  return tuple(class_name) if isinstance(class_name, list) else class_name


class ReportCopies(beam.PTransform):
  """(index entries, record lines) of the ingested images -> (exact
  duplicate JSON lines, near-duplicate JSON lines or None).

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
                  | 'GroupDuplicates' >> beam.GroupByKey()
                  | 'DescribeDuplicates' >> beam.FlatMapTuple(duplicate_group))
    if self._threshold is None:
      return duplicates, None
    near = (copies[_ReadCopies.NEAR_DUPLICATE]
            | 'GroupNearDuplicates' >> beam.GroupByKey()
            | 'DescribeNearDuplicates' >> beam.FlatMapTuple(
                near_duplicate_group))
    return duplicates, near


def duplicate_group(digest: str, copies) -> Iterator[str]:
  """A JSON line for files with identical bytes; nothing for a unique file.

  Args:
    digest: The files' sha256, hex.
    copies: (relative path, size, output split, class name) of each file.
  """
  copies = sorted(copies)
  if len(copies) < 2:
    return
  yield json.dumps({
      'sha256': digest,
      'size': copies[0][1],
      'files': [path for path, _, _, _ in copies],
      'splits': sorted({split for _, _, split, _ in copies}),
      'class_names': sorted({name for _, _, _, name in copies}),
  }, ensure_ascii=False)


def near_duplicate_group(_, members: Iterable[tuple]) -> Iterator[str]:
  """A JSON line for a group of near duplicates; nothing for a group of
  identical files only (the exact duplicates list them).

  Args:
    members: (relative path, sha256 hex, output split, class name) of each.
  """
  members = sorted(members)
  if len({digest for _, digest, _, _ in members}) < 2:
    return
  yield json.dumps({
      'files': [path for path, _, _, _ in members],
      'splits': sorted({split for _, _, split, _ in members}),
      'class_names': sorted({name or '' for _, _, _, name in members}),
  }, ensure_ascii=False)
