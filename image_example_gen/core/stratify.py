"""Stratified hash splits: every class keeps its share in every split.

Plain hash buckets give each split its share of the images only on average: a
class of 10 images may put 9 of them in train. With `stratify=True`, the
images of each stratum (a class; for multi-label data, an image's set of
labels) are ordered by their content key (the sha256 of their bytes) and
dealt out in that order by their rank, so that each split receives, of every
stratum of n images, within one image of n times its share of the buckets.

The assignment is deterministic and keyed on the content, as the default
hash split is: identical files get the same key, are ranked as one image,
and land in the same split. Unlike the default, it depends on the other
images of the stratum: adding images can move some existing ones.

At scale the ingest keeps, per stratum, only the sorted distinct keys as
64-bit numbers (`key_number`: the first 16 hex digits, so numeric order is
the digests' order) and finds each image's rank by binary search
(`split_at_rank`): 8 bytes an image instead of a {path: split} entry
(beam/split_plan.py). `stratified_assignment` and `assign_stratum` do the
same in one process; the tests hold the ingest's ranks to them.
"""

import collections
import hashlib
from typing import Dict, Hashable, Iterable, Iterator, Sequence, Tuple

__all__ = ['assign_stratum', 'bucket_split', 'key_number', 'split_at_rank',
           'stratified_assignment']


def key_number(hex_digest: str) -> int:
  """A content key as an unsigned 64-bit number: its first 16 hex digits.

  Numbers order as the digests do (two digests sharing 16 hex digits, with
  probability about n^2 / 2^65, count as one key).
  """
  return int(hex_digest[:16], 16)


def bucket_split(key: bytes, split_names: Sequence[str],
                 bucket_limits: Sequence[int]) -> str:
  """The plain hash-bucket split of a key: its sha256 modulo the buckets."""
  bucket = int(hashlib.sha256(key).hexdigest(), 16) % bucket_limits[-1]
  return next(name for name, limit in zip(split_names, bucket_limits)
              if bucket < limit)


def split_at_rank(rank: int, count: int, split_names: Sequence[str],
                  bucket_limits: Sequence[int]) -> str:
  """The split of the key of rank `rank` (0-based) among `count` distinct
  keys of a stratum: the keys are dealt out in order, so that split i gets
  ceil(limit_i * count / total) - ceil(limit_(i-1) * count / total)."""
  position = rank * bucket_limits[-1] // count
  return next(name for name, limit in zip(split_names, bucket_limits)
              if position < limit)


def stratified_assignment(
    images: Iterable[Tuple[Hashable, str, str]],
    split_names: Sequence[str],
    bucket_limits: Sequence[int]) -> Dict[str, str]:
  """{relative path: output split} of every image.

  Args:
    images: (stratum, content key, relative path) of every image to assign.
    split_names: The output splits, in order.
    bucket_limits: Their cumulative hash buckets (split i holds buckets
      [bucket_limits[i-1], bucket_limits[i])), as in OutputSplits.

  Returns:
    Each image's split: in every stratum of n distinct contents, split i gets
    ceil(limit_i * n / total) - ceil(limit_(i-1) * n / total) of them, within
    one of n * buckets_i / total.
  """
  members = collections.defaultdict(list)
  for stratum, key, path in images:
    members[stratum].append((key, path))
  assignment = {}
  for stratum_members in members.values():
    assignment.update(assign_stratum(stratum_members, split_names,
                                     bucket_limits))
  return assignment


def assign_stratum(members: Iterable[Tuple[str, str]],
                   split_names: Sequence[str],
                   bucket_limits: Sequence[int]) -> Iterator[Tuple[str, str]]:
  """(relative path, output split) of the images of one stratum.

  Args:
    members: (content key, relative path) of each image of the stratum.
    split_names, bucket_limits: As for stratified_assignment.
  """
  paths_by_key = collections.defaultdict(list)
  for key, path in members:
    paths_by_key[key].append(path)
  keys = sorted(paths_by_key)
  for rank, key in enumerate(keys):
    split = split_at_rank(rank, len(keys), split_names, bucket_limits)
    for path in paths_by_key[key]:
      yield path, split
