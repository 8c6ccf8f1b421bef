"""The split decided before encoding, in flat memory: stratified ranks and
near-duplicate groups.

The stratified split (core/stratify.py) deals each stratum's distinct
content keys out in order, so an image's split follows from its key's rank
among its stratum's keys. `SortKeysPerStratum` gets those keys to the
encoding through files, not through the runner:

1. The split's first pass emits, per batch of files and stratum, a key line
   (`keys_line`: the stratum and its content keys, signed64, base64), which
   `WriteToText` streams to the staging folder.
2. Once they are written, `sort_keys`, on one worker, reads them, and
   writes each stratum's distinct keys, sorted, to one file (8 bytes an
   image), whose name it passes on.
3. The encoding loads that file once per worker (`load_stratum_keys`) and
   finds an image's rank by binary search (`SplitPlan.split_of`).

Nothing is kept per path: the {path: split} dict and the GroupByKey of
(key, path) pairs that the first version held took about 1 KB an image on
the DirectRunner, and a combiner of the keys (the second) went through the
runner as accumulators and as a side input, several copies at once
(docs/scale.md).

With split_key='near_duplicate', near_duplicate_groups.GroupRepresentatives
gives every member of a group its representative's key and stratum, and the
keys that only the other members hold, which are taken out of the ranks: a
group then counts as one image in its representative's stratum, and every
member takes its rank, hence one split.
"""

import base64
import collections
import dataclasses
import json
from typing import Dict, Hashable, Optional, Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
import numpy as np

from image_example_gen.beam import near_duplicate_groups
from image_example_gen.beam import side_file
from image_example_gen.core import memory
from image_example_gen.core import stratify

__all__ = ['SortKeysPerStratum', 'SplitPlan', 'keys_line',
           'load_stratum_keys', 'sort_keys']


def keys_line(stratum: str, keys: Sequence[int]) -> str:
  """Content keys (signed64) of one stratum, of a batch of files, as one line
  of text: JSON [stratum, base64 of the little-endian int64 keys]."""
  encoded = base64.b64encode(np.asarray(keys, dtype='<i8').tobytes())
  return json.dumps([stratum, encoded.decode('ascii')], ensure_ascii=False)


def sort_keys(key_files: Sequence[str], keys_path: str) -> str:
  """Reads files of `keys_line`s and writes each stratum's distinct keys,
  sorted as unsigned 64-bit numbers (the order of the hex digests), to
  `keys_path`: the strata's names, then one array each, in .npy format.
  Returns `keys_path`."""
  pieces = collections.defaultdict(list)
  for file_name in sorted(key_files):
    with FileSystems.open(file_name) as file:
      for line in file:
        stratum, encoded = json.loads(line)
        pieces[stratum].append(np.frombuffer(base64.b64decode(encoded),
                                             dtype='<i8'))
  strata = sorted(pieces)
  with FileSystems.create(keys_path) as file:
    np.lib.format.write_array(file, np.array(strata, dtype=str))
    for stratum in strata:
      keys = np.unique(np.concatenate(pieces.pop(stratum)).view(np.uint64))
      np.lib.format.write_array(file, keys)
      del keys
  memory.release_freed()
  return keys_path


def load_stratum_keys(keys_path: str) -> Dict[str, np.ndarray]:
  """{stratum: its sorted distinct keys (uint64)}, from sort_keys's file."""
  with FileSystems.open(keys_path) as file:
    strata = np.lib.format.read_array(file)
    return {str(stratum): np.lib.format.read_array(file)
            for stratum in strata}


class SortKeysPerStratum(beam.PTransform):
  """Key lines (`keys_line`) -> the name of the file of each stratum's sorted
  distinct keys (`sort_keys`), one element: a side input for the encoding.

  Args:
    keys_prefix: Where the key lines and the sorted keys go (in the staging
      folder, which every worker reads).
  """

  def __init__(self, keys_prefix: str):
    super().__init__()
    self._keys_prefix = keys_prefix

  def expand(self, key_lines):
    return key_lines | 'SortKeys' >> side_file.WriteAndReduce(
        self._keys_prefix, sort_keys,
        output_path=self._keys_prefix + '-sorted.npy')


@dataclasses.dataclass(frozen=True)
class SplitPlan:
  """Chooses an image's output split from its content key.

  Attributes:
    split_names, bucket_limits: The hash-bucket output splits.
    stratified: Deal each stratum's keys out by rank (else hash buckets).
  """
  split_names: Sequence[str]
  bucket_limits: Sequence[int]
  stratified: bool

  def split_of(self, key: int, stratum: Hashable,
               stratum_keys: Optional[Dict[Hashable, np.ndarray]],
               groups=None, member: Optional[int] = None) -> Optional[str]:
    """The split of an image, or None to let OutputSplits hash it.

    Args:
      key: The image's content key (core.stratify.key_number, unsigned).
      stratum: Its stratum (class, or label set).
      stratum_keys: {stratum: sorted distinct keys}, load_stratum_keys's.
      groups: (representatives, absorbed), from GroupRepresentatives.
      member: The image's member id, with groups.
    """
    group = absorbed = None
    if groups is not None:
      representatives, absorbed = groups
      group = representatives.get(member)
    if group is not None:
      key, stratum = near_duplicate_groups.unsigned64(group[0]), group[1]
    if not self.stratified:
      if group is None:
        return None
      # A group's members share its representative's key, hashed as
      # OutputSplits hashes a content key.
      return stratify.bucket_split(f'{key:016x}'.encode(), self.split_names,
                                   self.bucket_limits)
    keys = stratum_keys.get(stratum) if stratum_keys else None
    if keys is None or not len(keys):
      return None  # Not seen by the first pass (changed since): hashed.
    rank, count = int(np.searchsorted(keys, np.uint64(key))), len(keys)
    taken_out = absorbed.get(stratum) if absorbed else None
    if taken_out is not None:
      rank -= int(np.searchsorted(taken_out, np.uint64(key)))
      count -= len(taken_out)
    return stratify.split_at_rank(min(rank, count - 1), count,
                                  self.split_names, self.bucket_limits)
