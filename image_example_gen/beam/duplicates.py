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
   sort) and of near-duplicate groups (near_duplicate_groups.group_roots).
   It writes them, the copies only (16 bytes a copy), to one file beside the
   index, and passes on that file's name.
3. `_WriteCopyLines` loads that file once per bundle, streams the record
   files back and writes the records of the copies, each under its group's
   key (`group_summaries.copy_line`), to files beside them;
   `group_summaries.summarize_groups`, on one worker, sorts those lines on
   local disk and sums up each group, naming at most GROUP_FILES_LISTED
   files, into one JSON line.

Why files, and not a CombineFn of arrays (before): a runner encodes a
combine's accumulator and its result to pass them on, and the in-process
DirectRunner held several copies of them at once. At a million images
(benchmarks/copies_profile.py) the accumulator's 32 MB grew the memory
through the run and then by 164 MB in the 0.3 s that passed it on; the
group summaries' CombinePerKey, for the same reason, rose 90 MB at the end
of the run. docs/scale.md has the figures.
"""

import base64
import itertools
import json
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
import numpy as np

from image_example_gen.beam import group_summaries
from image_example_gen.beam import near_duplicate_groups
from image_example_gen.beam import side_file
from image_example_gen.core import files
from image_example_gen.core import memory
from image_example_gen.core import stratify

__all__ = ['CopyIndex', 'ReportCopies', 'copy_index', 'find_copies',
           'index_entry', 'index_line', 'load_copy_index',
           'read_index', 'record_line']

# An index entry on disk: member id, content key, fingerprint (0 when
# `fingerprinted` is 0: none), little-endian, packed.
INDEX_DTYPE = np.dtype([('id', '<i8'), ('key', '<i8'), ('fingerprint', '<i8'),
                        ('fingerprinted', 'u1')])


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
  for the grouping, whose banding is the peak (about 20 B an image beside
  the fingerprints' 8 at a million images, traced by tracemalloc), then the
  grouped images' ids."""
  ids, keys = read_index(index_files, ('id', 'key'))
  duplicates = _exact_duplicates(ids, keys)
  del ids, keys
  if threshold is None:
    return CopyIndex(duplicates, None)
  fingerprints, = read_index(index_files, ('fingerprint',),
                             fingerprinted_only=True)
  roots = near_duplicate_groups.group_roots(fingerprints, threshold,
                                            overwrite_input=True)
  del fingerprints
  indices, labels = near_duplicate_groups.labels_of_groups(roots)
  del roots
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
    """Takes `ids` and sorts it in place (no copy: a copy of a million ids
    took 8 MB more at the find_copies step's peak)."""
    order = np.argsort(ids, kind='stable')
    self._values = values[order]
    del order
    ids.sort()
    self._ids = ids

  def __len__(self) -> int:
    return len(self._ids)

  @classmethod
  def from_sorted(cls, ids: np.ndarray, values: np.ndarray) -> '_SortedIds':
    sorted_ids = cls.__new__(cls)
    sorted_ids._ids, sorted_ids._values = ids, values  # pylint: disable=protected-access
    return sorted_ids

  def as_dict(self) -> Dict[int, int]:
    return dict(zip(self._ids.tolist(), self._values.tolist()))

  def find(self, identifiers: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(found, values): whether each of `identifiers` (int64) is here, and
    its value where it is (0 elsewhere). One searchsorted for the whole
    array: per id, numpy's scalar call took about 4.5 us, 9 s of a
    million-file run's report (py-spy, benchmarks/copies_profile.py)."""
    if not len(self._ids):
      return (np.zeros(len(identifiers), dtype=bool),
              np.zeros(len(identifiers), dtype=np.int64))
    positions = np.minimum(np.searchsorted(self._ids, identifiers),
                           len(self._ids) - 1)
    found = self._ids[positions] == identifiers
    return found, np.where(found, self._values[positions], 0)


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


class _WriteCopyLines(beam.DoFn):
  """Streams a file of record lines and writes, to a file of its own beside
  it, a `group_summaries.copy_line` for each copy: under its sha256
  (DUPLICATE) if another file has its bytes, and under its group's label
  (NEAR_DUPLICATE) if it is in a near-duplicate group. Emits that file's
  name, the same for the same input: a retried bundle writes it again.

  The lines go to a file, not through Beam: a PCollection of them, written
  by WriteToText, cost about 10 us a line in Beam's per-element steps
  (WindowInto, the bundle writer), 10 s at a million copies (py-spy,
  benchmarks/copies_profile.py). The CopyIndex comes as the path of its
  file, loaded once per bundle and let go at its end: a runner keeps a
  DoFn to the end of the pipeline, and the in-process DirectRunner's
  steps after this one (the group summaries, the report's lines) ran
  12-16 MB higher at a million copies with the index kept (16 bytes a
  copy). A load takes about 2 ms a million copies (12 MB, the page cache
  warm).

  Args:
    lines_prefix: The prefix of the files written (in the staging folder).
  """

  # Record lines looked up in the copy index at a time.
  _CHUNK_LINES = 4096

  def __init__(self, lines_prefix: str):
    super().__init__()
    self._lines_prefix = lines_prefix
    self._copy_index = side_file.LoadedFile(load_copy_index)

  def process(self, file_name: str, copies_path: str):
    duplicates, groups = self._copy_index.get(copies_path)
    if not len(duplicates) and not groups:
      return
    output_name = (f'{self._lines_prefix}-'
                   f'{FileSystems.split(file_name)[1]}.txt')
    records = files.read_lines(file_name)
    with FileSystems.create(output_name) as output:
      while True:
        lines = list(itertools.islice(records, self._CHUNK_LINES))
        if not lines:
          break
        output.write(''.join(_copy_lines(lines, duplicates, groups)).encode(
            'utf-8'))
    yield output_name

  def finish_bundle(self):
    self._copy_index.release()
    memory.release_freed()


def _copy_lines(lines: List[str], duplicates: _SortedIds,
                groups: Optional[_SortedIds]) -> Iterable[str]:
  """The copy lines (with their line ends) of `lines`, record lines."""
  heads = [json.loads(line)[:2] for line in lines]
  members = np.fromiter(
      (near_duplicate_groups.member_id(path) for path, _ in heads),
      dtype=np.int64, count=len(heads))
  repeated, _ = duplicates.find(members)
  grouped, labels = (groups.find(members) if groups
                     else (np.zeros(len(lines), dtype=bool), None))
  for index in np.flatnonzero(repeated | grouped).tolist():
    if repeated[index]:
      yield group_summaries.copy_line(
          group_summaries.DUPLICATE, heads[index][1], lines[index]) + '\n'
    if grouped[index]:
      yield group_summaries.copy_line(
          group_summaries.NEAR_DUPLICATE, str(labels[index]),
          lines[index]) + '\n'


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
    summaries_file = (
        written
        | 'WriteCopyLines' >> beam.ParDo(
            _WriteCopyLines(self._records_prefix + '-copy-lines'),
            beam.pvalue.AsSingleton(copies_file))
        | 'ListCopyLines' >> beam.combiners.ToList()
        | 'SummarizeGroups' >> beam.Map(
            group_summaries.summarize_groups,
            self._records_prefix + '-groups.txt'))
    summaries = summaries_file | 'ReadSummaries' >> beam.FlatMap(
        _tagged_summaries).with_outputs(group_summaries.DUPLICATE,
                                        group_summaries.NEAR_DUPLICATE)
    return (summaries[group_summaries.DUPLICATE],
            None if self._threshold is None
            else summaries[group_summaries.NEAR_DUPLICATE])


def _tagged_summaries(summaries_path: str):
  for kind, line in group_summaries.read_summaries(summaries_path):
    yield beam.pvalue.TaggedOutput(kind, line)
