"""Near-duplicate groups in Beam: from each image's fingerprint to groups.

`FindGroups` is a CombineFn over (member id, fingerprint) pairs. Workers add
their images to arrays of 64-bit words (16 bytes an image; Beam lifts the
combine, so each worker sends one compact accumulator); one worker then finds
the groups of the whole dataset in numpy (`near_duplicates.
edges_from_fingerprints`: banding, bucket comparison) and union-find, and
emits {member id: group id} for the images that have a near duplicate only,
usually a small share.

Why a global combine rather than a GroupByKey on band keys: the GroupByKey
would shuffle 16 keyed records an image, and the DirectRunner holds a
GroupByKey's whole input in memory (16 million records at a million images);
the arrays hold 16 MB. Measured on 1,036,000 fingerprints
(benchmarks/near_duplicate_eval.py): numpy, all buckets, 22 us an image;
pure-Python buckets, 74 us. docs/near_duplicates.md and docs/scale.md give
the cost at larger scale.

`ReportGroups` joins the groups with each image's path, split and label (read
from the exact duplicates' GroupByKey, which holds them already), and
describes every group with at least two distinct contents (groups of
identical files only are the exact duplicates the report lists already).
`SplitGroups` gives every member of a group one key (derived from its first
member's content) and its first member's stratum before the split, so that a
group lands in one split.
"""

import array
import hashlib
import json
from typing import Dict, Hashable, Iterable, Iterator, Tuple

import apache_beam as beam
import numpy as np

from image_example_gen.core import near_duplicates as nd

__all__ = ['FindGroups', 'ReportGroups', 'SplitGroups', 'fingerprint_record',
           'member_id', 'near_duplicate_group']


def member_id(relative_path: str) -> int:
  """A file's 64-bit id in the grouping: the first 8 bytes of the sha256 of
  its relative path, signed. Two of a million paths share an id with
  probability about 3e-8 (n^2 / 2^65); such a pair would be grouped as one
  image."""
  return int.from_bytes(
      hashlib.sha256(relative_path.encode('utf-8')).digest()[:8], 'big',
      signed=True)


def fingerprint_record(relative_path: str,
                       fingerprint: nd.Fingerprint) -> Tuple[int, int]:
  """(member id, fingerprint) as FindGroups takes them: both signed 64-bit
  ints, which every Beam coder encodes (Beam's VarIntCoder refuses 2^63 and
  above, half of all fingerprints)."""
  if fingerprint >= 1 << 63:
    fingerprint -= 1 << 64
  return member_id(relative_path), fingerprint


class FindGroups(beam.CombineFn):
  """(member id, fingerprint) pairs (`fingerprint_record`) -> {member id:
  group id} of every image that has a near duplicate (within `threshold`
  bits, transitively); the group id is the group's smallest member id."""

  def __init__(self, threshold: int):
    super().__init__()
    self._threshold = threshold

  def create_accumulator(self) -> Tuple[array.array, array.array]:
    return array.array('q'), array.array('q')

  def add_input(self, accumulator, element: Tuple[int, int]):
    ids, fingerprints = accumulator
    ids.append(element[0])
    fingerprints.append(element[1])
    return accumulator

  def merge_accumulators(self, accumulators):
    accumulators = iter(accumulators)
    ids, fingerprints = next(accumulators)
    for more_ids, more_fingerprints in accumulators:
      ids.extend(more_ids)
      fingerprints.extend(more_fingerprints)
    return ids, fingerprints

  def extract_output(self, accumulator) -> Dict[int, int]:
    ids, fingerprints = accumulator
    if not fingerprints:
      return {}
    ids = np.frombuffer(ids, dtype=np.int64)
    edges = nd.edges_from_fingerprints(
        np.frombuffer(fingerprints, dtype=np.uint64), self._threshold)
    union_find = nd.UnionFind()
    for a, b, _ in edges.tolist():
      union_find.union(int(ids[a]), int(ids[b]))
    return {member: group[0] for group in union_find.groups()
            for member in group}


def _in_group(element: Tuple[str, Iterable[Tuple[str, int, str, Hashable]]],
              groups: Dict[int, int]) -> Iterator[Tuple[int, tuple]]:
  """(group id, (path, digest, split, class)) of each grouped image among
  the files of one content, from (digest, [(path, size, split, class)])."""
  digest, copies = element
  for path, _, split, class_name in copies:
    group = groups.get(member_id(path))
    if group is not None:
      yield group, (path, digest, split, class_name)


def near_duplicate_group(_, members: Iterable[tuple]) -> Iterator[str]:
  """A JSON line for a group of near duplicates; nothing for a group of
  identical files only.

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


class ReportGroups(beam.PTransform):
  """JSON lines, one per near-duplicate group (`near_duplicate_group`).

  Input: a pair of PCollections: (member id, fingerprint) of every
  fingerprinted image, and (sha256 hex, [(relative path, size, output split,
  class name)]) of every content ingested, its files grouped (the exact
  duplicates' GroupByKey).
  """

  def __init__(self, threshold: int):
    super().__init__()
    self._threshold = threshold

  def expand(self, inputs):
    fingerprints, digests = inputs
    groups = fingerprints | 'FindGroups' >> beam.CombineGlobally(
        FindGroups(self._threshold))
    return (digests
            | 'MembersOfGroups' >> beam.FlatMap(
                _in_group, groups=beam.pvalue.AsSingleton(groups))
            | 'GroupMembers' >> beam.GroupByKey()
            | 'DescribeGroups' >> beam.FlatMapTuple(near_duplicate_group))


def _by_group(element, groups: Dict[int, int]):
  stratum, (key, path) = element
  group = groups.get(member_id(path))
  if group is None:
    yield element
  else:
    yield beam.pvalue.TaggedOutput('grouped', (group, (key, path, stratum)))


def _as_first_member(_, members) -> Iterator[Tuple[Hashable, Tuple[str, str]]]:
  """Every member keyed (stratum, (group key, path)) with the stratum of the
  group's first member (smallest content key, then path).

  The group key is the sha256 of that member's content key: the smallest of
  n keys is itself far from uniform (it sorts first), and the stratified split
  ranks by key, so every group would go to the first split.
  """
  members = list(members)
  key, _, stratum = min(members, key=lambda member: (member[0], member[1]))
  group_key = hashlib.sha256(key.encode()).hexdigest()
  for _, path, _ in members:
    yield stratum, (group_key, path)


class SplitGroups(beam.PTransform):
  """Gives every member of a near-duplicate group its group's stratum and
  content key, so that the split deals the group out as one image.

  Input: a pair of PCollections: (stratum, (content key, relative path)) of
  every image, and (member id, fingerprint) of every fingerprinted image.
  Output: a pair of PCollections of the same elements: the images alone,
  unchanged, and the members of groups, re-keyed.
  """

  def __init__(self, threshold: int):
    super().__init__()
    self._threshold = threshold

  def expand(self, inputs):
    keyed, fingerprints = inputs
    groups = fingerprints | 'FindGroups' >> beam.CombineGlobally(
        FindGroups(self._threshold))
    parts = keyed | 'SplitOffGroups' >> beam.FlatMap(
        _by_group, groups=beam.pvalue.AsSingleton(groups)).with_outputs(
            'grouped', main='single')
    regrouped = (parts.grouped
                 | 'GroupMembers' >> beam.GroupByKey()
                 | 'KeyByFirstMember' >> beam.FlatMapTuple(_as_first_member))
    return parts.single, regrouped
