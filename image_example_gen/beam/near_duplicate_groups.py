"""Near-duplicate groups in Beam: from each image's fingerprint to groups.

Per-image state is kept in arrays of 64-bit words, never as one Python
object or shuffled record per image; one worker finds the groups of the
whole dataset in numpy (`near_duplicates.edge_chunks`: banding, bucket
comparison) and array union-find (`group_roots`). Only the images that have
a near duplicate, usually a small share, leave it.

Why not a GroupByKey on band keys: it would shuffle 16 keyed records an
image, and the DirectRunner holds a GroupByKey's whole input in memory (16
million records at a million images); the arrays hold 16 bytes an image.
Measured on 1,036,000 fingerprints (benchmarks/near_duplicate_eval.py):
numpy, all buckets, 22 us an image; pure-Python buckets, 74 us.

- `beam.duplicates.find_copies` groups the ingested images for the report,
  from the index files the encoding wrote (`group_roots`, then
  `labels_of_groups`).
- `GroupRepresentatives`, a CombineFn (Beam lifts it, so each worker sends
  one compact accumulator), serves split_key='near_duplicate': every member
  of a group takes one representative's content key and stratum, so that
  the split deals the group out as one image.

Ids and fingerprints travel as signed 64-bit ints (`signed64`): Beam's
VarIntCoder, which a runner may infer for ints, refuses 2^63 and above.
"""

import array
import collections
import hashlib
from typing import Dict, Hashable, List, Tuple

import apache_beam as beam
import numpy as np

from image_example_gen.core import near_duplicates as nd

__all__ = ['GroupRepresentatives', 'group_members', 'member_id', 'signed64',
           'unsigned64']

_TWO_TO_64 = 1 << 64


def signed64(value: int) -> int:
  """An unsigned 64-bit number as the signed int with the same bits."""
  return value - _TWO_TO_64 if value >= 1 << 63 else value


def unsigned64(value: int) -> int:
  """The inverse of signed64."""
  return value + _TWO_TO_64 if value < 0 else value


def member_id(relative_path: str) -> int:
  """A file's 64-bit id in the grouping: the first 8 bytes of the sha256 of
  its relative path, signed. Two of a million paths share an id with
  probability about 3e-8 (n^2 / 2^65); such a pair would be grouped as one
  image."""
  return int.from_bytes(
      hashlib.sha256(relative_path.encode('utf-8')).digest()[:8], 'big',
      signed=True)


def group_labels(fingerprints: np.ndarray, threshold: int,
                 overwrite_input: bool = False
                 ) -> Tuple[np.ndarray, np.ndarray]:
  """(indices, labels): the indices into `fingerprints` (int64, signed64
  bits) of the images that have a near duplicate (within `threshold` bits,
  transitively), sorted, and the label of each one's group (both int32
  below 2^31 images): `labels_of_groups(group_roots(...))`. With
  `overwrite_input`, `fingerprints` is left sorted (its copy is spared)."""
  return labels_of_groups(group_roots(fingerprints, threshold,
                                      overwrite_input=overwrite_input))


def group_roots(fingerprints: np.ndarray, threshold: int,
                overwrite_input: bool = False) -> np.ndarray:
  """Each image's root: the smallest index into `fingerprints` (int64,
  signed64 bits) of the images within `threshold` bits of it, transitively
  (int32 below 2^31 images). With `overwrite_input`, `fingerprints` is left
  sorted (its copy is spared).

  The edges are folded into the groups as they are found
  (`near_duplicates.component_roots`), in arrays: a Python union-find holds
  two dict entries per grouped image, and a graph of every edge at once
  (scipy's, before) took +121 MB at a million images in groups
  (docs/scale.md).
  """
  count = len(fingerprints)
  if count < 2:
    return np.arange(count, dtype=np.int32)
  return nd.component_roots(count, nd.edge_chunks(
      fingerprints.view(np.uint64), threshold,
      overwrite_input=overwrite_input))


def labels_of_groups(roots: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
  """(indices, labels) of the images that share their root (`group_roots`)
  with another: their indices, sorted, and their roots, as `roots`' type.

  A bool an image marks them, where a bincount of the roots took 8 bytes,
  and their indices come from an arange of `roots`' type (flatnonzero's
  int64 and its int32 copy took 12 bytes an image at the step's peak). A
  caller that can let the fingerprints go before this step should: at a
  million images they are 8 MB of its peak (copy_index)."""
  count = len(roots)
  positions = np.arange(count, dtype=roots.dtype)
  # Not its own root, or some other image's root.
  in_group = roots != positions
  in_group[roots[in_group]] = True
  grouped = positions[in_group]
  del positions, in_group
  return grouped, roots[grouped]


def group_members(ids: np.ndarray, fingerprints: np.ndarray,
                  threshold: int) -> List[List[int]]:
  """The groups (lists of indices into `ids`, two or more each, sorted) of
  images whose fingerprints lie within `threshold` bits, transitively."""
  indices, labels = group_labels(fingerprints, threshold)
  groups = collections.defaultdict(list)
  for index, label in zip(indices.tolist(), labels.tolist()):
    groups[label].append(index)
  return list(groups.values())


def _mix(key: int) -> int:
  """splitmix64's finalizer: a uniform 64-bit hash of a 64-bit key."""
  key = (key ^ (key >> 30)) * 0xBF58476D1CE4E5B9 % _TWO_TO_64
  key = (key ^ (key >> 27)) * 0x94D049BB133111EB % _TWO_TO_64
  return key ^ (key >> 31)


class GroupRepresentatives(beam.CombineFn):
  """(member id, fingerprint, content key, stratum) of every image (ints
  signed64) -> (representatives, absorbed):

  - representatives: {member id: (content key signed64, stratum)} of each
    member of a near-duplicate group: its representative's;
  - absorbed: {stratum: sorted uint64 array} of the content keys that only
    group members other than the representative hold, which the stratified
    split takes out of its ranks, so that a group counts as one image.

  The representative is the member whose content key hashes lowest
  (`_mix`): a uniform choice. (The smallest key itself would rank every
  group first among its stratum's keys, so into the first split.)

  Accumulator: four int64 arrays (32 bytes an image), and the strata seen
  as a list the images index (with its inverse, a dict).
  """

  def __init__(self, threshold: int):
    super().__init__()
    self._threshold = threshold

  def create_accumulator(self):
    return [array.array('q') for _ in range(4)], [], {}

  def add_input(self, accumulator, element):
    (ids, fingerprints, keys, strata_index), strata, lookup = accumulator
    identifier, fingerprint, key, stratum = element
    ids.append(identifier)
    fingerprints.append(fingerprint)
    keys.append(key)
    strata_index.append(_index_of(strata, lookup, stratum))
    return accumulator

  def merge_accumulators(self, accumulators):
    accumulators = iter(accumulators)
    merged = next(accumulators)
    (ids, fingerprints, keys, strata_index), strata, lookup = merged
    for (more_ids, more_fps, more_keys, more_index), more_strata, _ in (
        accumulators):
      ids.extend(more_ids)
      fingerprints.extend(more_fps)
      keys.extend(more_keys)
      remap = [_index_of(strata, lookup, stratum) for stratum in more_strata]
      strata_index.extend(remap[index] for index in more_index)
    return merged

  def extract_output(self, accumulator):
    (ids, fingerprints, keys, strata_index), strata, _ = accumulator
    ids = np.frombuffer(ids, dtype=np.int64)
    keys = np.frombuffer(keys, dtype=np.int64)
    representatives = {}
    absorbed = collections.defaultdict(set)
    for group in group_members(ids, np.frombuffer(fingerprints, np.int64),
                               self._threshold):
      chosen = min(group, key=lambda index: (
          _mix(unsigned64(int(keys[index]))), int(ids[index])))
      key = int(keys[chosen])
      value = (key, strata[strata_index[chosen]])
      for index in group:
        representatives[int(ids[index])] = value
        if int(keys[index]) != key:
          absorbed[strata[strata_index[index]]].add(
              unsigned64(int(keys[index])))
    return representatives, {
        stratum: np.array(sorted(values), dtype=np.uint64)
        for stratum, values in absorbed.items()}


def _index_of(strata: List[Hashable], lookup: Dict[Hashable, int],
              stratum: Hashable) -> int:
  """The index of `stratum` in `strata`, appended if new."""
  index = lookup.get(stratum)
  if index is None:
    index = lookup[stratum] = len(strata)
    strata.append(stratum)
  return index
