"""The split decided before encoding, in flat memory: stratified ranks and
near-duplicate groups.

The stratified split (core/stratify.py) deals each stratum's distinct
content keys out in order, so an image's split follows from its key's rank
among its stratum's keys. `SortedKeys` (CombinePerKey over (stratum, content
keys of a batch of files)) keeps each stratum's keys as an int64 array, 8 bytes an image, and
emits them sorted and distinct; the encoding pass, which hashes each file
anyway, finds its rank by binary search (`SplitPlan.split_of`). Nothing is
kept per path: the {path: split} dict and the GroupByKey of (key, path)
pairs that this replaces held about 1 KB an image on the DirectRunner
(docs/scale.md).

With split_key='near_duplicate', near_duplicate_groups.GroupRepresentatives
gives every member of a group its representative's key and stratum, and the
keys that only the other members hold, which are taken out of the ranks: a
group then counts as one image in its representative's stratum, and every
member takes its rank, hence one split.
"""

import array
import dataclasses
from typing import Dict, Hashable, Optional, Sequence

import apache_beam as beam
import numpy as np

from image_example_gen.beam import near_duplicate_groups
from image_example_gen.core import stratify

__all__ = ['SortedKeys', 'SplitPlan']


class SortedKeys(beam.CombineFn):
  """Content keys (signed64) of one stratum, a batch of them per input ->
  their distinct values as a sorted uint64 array (the order of the hex
  digests). Batches, not keys: see beam.transform's _DigestFilesDoFn."""

  def create_accumulator(self) -> array.array:
    return array.array('q')

  def add_input(self, accumulator: array.array,
                keys: Sequence[int]) -> array.array:
    accumulator.extend(keys)
    return accumulator

  def merge_accumulators(self, accumulators) -> array.array:
    accumulators = iter(accumulators)
    merged = next(accumulators)
    for more in accumulators:
      merged.extend(more)
    return merged

  def extract_output(self, accumulator: array.array) -> np.ndarray:
    return np.unique(np.frombuffer(accumulator, dtype=np.int64).view(
        np.uint64))


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
      stratum_keys: {stratum: sorted distinct keys}, from SortedKeys.
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
