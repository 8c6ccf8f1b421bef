"""The ingest report's groups: all counted, only the first kept.

Two lists of the report are groups of files: the identical files
(`duplicates`) and the near-duplicate images (`near_duplicates`). Both grow
with the dataset. The engine sorts each into the file it copies into the
artifact and streams it once, in order, through a `GroupTally`, which
counts every group and keeps only the first `REPORT_GROUPS` and the first
`FLAGGED_GROUPS` flagged ones (those the summary names first: identical
files with different labels, `spans_labels`; near-duplicates that span
labels or straddle splits, `is_flagged`). At the million-file benchmark's
7,971 near-duplicate groups of 20 files, building the report held 5.5 MB
this way against 25.4 MB with every group parsed and kept
(`python -m benchmarks.report_profile`).
"""

import collections
import dataclasses
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

__all__ = ['FLAGGED_GROUPS', 'REPORT_GROUPS', 'GroupTally', 'GroupTotals',
           'count_groups', 'group_size', 'is_flagged', 'sort_key',
           'spans_labels', 'straddles_splits']

# Groups of each list that the JSON report lists (the first, in the list's
# order); all are in the list's own file.
REPORT_GROUPS = 100
# Flagged groups kept besides (the summary names the first 20).
FLAGGED_GROUPS = 20


@dataclasses.dataclass(frozen=True)
class GroupTotals:
  """Counts over every group of a list.

  Attributes:
    groups: Groups.
    files: Files in them (each group's `count`).
    sizes: {group size: groups}, smallest size first.
    spanning_labels: Groups whose files carry more than one label.
    straddling_splits: Groups with files in more than one split.
    files_straddling: Files in the groups that straddle splits.
    flagged: Groups flagged by the tally's test.
  """
  groups: int = 0
  files: int = 0
  sizes: Dict[int, int] = dataclasses.field(default_factory=dict)
  spanning_labels: int = 0
  straddling_splits: int = 0
  files_straddling: int = 0
  flagged: int = 0


class GroupTally:
  """Counts groups as they stream past, in their list's order, and keeps
  the first `listed` of them and the first `flagged` flagged ones."""

  def __init__(self, listed: Optional[int] = REPORT_GROUPS,
               flagged: int = FLAGGED_GROUPS,
               flag: Optional[Callable[[Dict[str, Any]], bool]] = None):
    """`listed=None` keeps every group; `flag` is the test of a flagged
    group (by default `is_flagged`)."""
    self._listed, self._flagged_kept = listed, flagged
    self._flag = flag or is_flagged
    self._kept: List[Dict[str, Any]] = []
    self._sizes = collections.Counter()
    self._counts = collections.Counter()

  def add(self, group: Dict[str, Any]) -> None:
    size = group_size(group)
    spans, straddles = spans_labels(group), straddles_splits(group)
    flagged = self._flag(group)
    self._sizes[size] += 1
    self._counts.update(
        groups=1, files=size, spanning_labels=int(spans),
        straddling_splits=int(straddles),
        files_straddling=size if straddles else 0, flagged=int(flagged))
    if (self._listed is None or self._counts['groups'] <= self._listed or
        flagged and self._counts['flagged'] <= self._flagged_kept):
      self._kept.append(group)

  @property
  def kept(self) -> Tuple[Dict[str, Any], ...]:
    """The groups kept, in the order they came."""
    return tuple(self._kept)

  @property
  def totals(self) -> GroupTotals:
    return GroupTotals(sizes=dict(sorted(self._sizes.items())),
                       **{field.name: self._counts[field.name]
                          for field in dataclasses.fields(GroupTotals)
                          if field.name != 'sizes'})


def count_groups(groups: Iterable[Dict[str, Any]]) -> GroupTotals:
  """The totals of a whole list of groups."""
  tally = GroupTally(listed=0, flagged=0)
  for group in groups:
    tally.add(group)
  return tally.totals


def group_size(group: Dict[str, Any]) -> int:
  """The number of files of a duplicate or near-duplicate group: its
  `count` (its `files` list names at most the first 20), or for a report
  written before counts the length of its list."""
  return group.get('count', len(group['files']))


def spans_labels(group: Dict[str, Any]) -> bool:
  """Whether a group's files carry more than one label."""
  return len(group['class_names']) > 1


def straddles_splits(group: Dict[str, Any]) -> bool:
  """Whether a group has files in more than one output split."""
  return len(group['splits']) > 1


def is_flagged(group: Dict[str, Any]) -> bool:
  """Whether a group spans labels or straddles splits."""
  return spans_labels(group) or straddles_splits(group)


def sort_key(largest_first: bool):
  """The order of a list of groups: by their files (identical files), or
  largest first, then by files (near-duplicates). Groups share no file, so
  their first files decide: a key holds one path, not every listed one (a
  sort run of 4,096 groups of 20 files held 6 MB more with the lists)."""
  if largest_first:
    return lambda group: (-group_size(group), group['files'][0])
  return lambda group: group['files'][0]
