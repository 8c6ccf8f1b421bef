"""What the report says of each group of copies, summed up from sorted lines.

`beam.duplicates` reads back the records of the files that are copies (of
identical files, and in near-duplicate groups) as `copy_line`s: the group's
key, then the image's record line. `summarize_groups`, on one worker, puts
them in order on local disk (`core.external_sort`), so that each group's
lines come together, and sums each group up as it passes (`GroupSummary`)
into one JSON line (`duplicate_group`, `near_duplicate_group`).

Why a sort, and not Beam's CombinePerKey (before): the in-process
DirectRunner held each bundle's accumulators for every group, their encoded
copies in its shuffle and the merged ones all at once, at the end of the
run. At the million-file benchmark's 7,971 near-duplicate groups of about
125 images, that was +90 MB above the imports against +34 MB at 100,000
files (`python -m benchmarks.copies_profile`), the ingest's peak; docs/
scale.md has the figures of both. The sort holds one run of lines and one
group's summary, whatever the number of groups.
"""

import bisect
import itertools
import json
from typing import Iterator, List, Optional, Sequence, Tuple

from apache_beam.io.filesystems import FileSystems

from image_example_gen.core import external_sort
from image_example_gen.core import files

__all__ = ['DUPLICATE', 'GROUP_FILES_LISTED', 'NEAR_DUPLICATE', 'GroupSummary',
           'copy_line', 'duplicate_group', 'near_duplicate_group',
           'read_summaries', 'summarize_groups']

# The kinds of group, the first character of a copy line and of a summary
# line.
DUPLICATE = 'd'
NEAR_DUPLICATE = 'n'
# Files of a group that its report line names (all are counted): bounded, so
# that a group of a million blank images stays a small record. At 20, a group
# of up to 20 (the usual copies of a photo) is listed whole.
GROUP_FILES_LISTED = 20
# Copy lines (about 150 B) sorted in memory at a time: about 4 MB.
_RUN_LINES = 16384


def copy_line(kind: str, group_key: str, record_line: str) -> str:
  """The line that puts a copy's record (`duplicates.record_line`) in its
  group: the kind (DUPLICATE or NEAR_DUPLICATE), the group's key (which must
  not hold a tab), a tab, the record."""
  return f'{kind}{group_key}\t{record_line}'


def _group_of(line: str) -> str:
  return line[:line.index('\t')]


class GroupSummary:
  """What the report says of one group, from its files' records, added in
  any order: the number of files, the first `max_files` paths in sorted
  order, the size of the first, the splits, the class names, and whether
  the group holds two distinct contents. Bounded whatever the group's
  size: a group of a million blank images costs what one of `max_files`
  does."""

  def __init__(self, max_files: int = GROUP_FILES_LISTED):
    self._max_files = max_files
    self.count = 0
    self._files: List[str] = []
    self._first_size = 0
    self._splits: List[str] = []
    self._class_names: list = []
    self._digest: Optional[str] = None
    self._distinct = False

  def add(self, path: str, sha256: str, size: int, split: str,
          class_name) -> None:
    """One file's record (`duplicates.record_line`'s fields); a multi-label
    class name is a list."""
    self.count += 1
    if not self._files or path < self._files[0]:
      self._first_size = size
    if len(self._files) < self._max_files:
      bisect.insort(self._files, path)
    elif path < self._files[-1]:
      self._files.pop()
      bisect.insort(self._files, path)
    if split not in self._splits:
      self._splits.append(split)
    if class_name not in self._class_names:
      self._class_names.append(class_name)
    if self._digest is None:
      self._digest = sha256
    elif sha256 != self._digest:
      self._distinct = True

  def as_dict(self) -> dict:
    return {
        'count': self.count,
        'files': list(self._files),
        'size': self._first_size,
        'splits': sorted(self._splits),
        'class_names': sorted(self._class_names, key=_class_sort_key),
        'distinct_contents': 2 if self._distinct else min(self.count, 1),
    }


def _class_sort_key(class_name):
  return ('' if class_name is None else
          class_name if isinstance(class_name, str) else
          '\x00'.join(class_name))


def summarize_groups(file_names: Sequence[str], output_path: str,
                     max_files: int = GROUP_FILES_LISTED,
                     run_lines: int = _RUN_LINES) -> str:
  """Reads the copy lines of `file_names`, writes one summary line per group
  to `output_path` (the kind, then the JSON of `duplicate_group` or
  `near_duplicate_group`; none for a group that is no group of copies), and
  returns `output_path`. `run_lines` lines are sorted in memory at a time."""
  ordered = external_sort.sorted_lines(
      itertools.chain.from_iterable(map(files.read_lines, sorted(file_names))),
      key=None, run_lines=run_lines)
  with FileSystems.create(output_path) as output:
    for group, lines in itertools.groupby(ordered, key=_group_of):
      summary = GroupSummary(max_files)
      for line in lines:
        summary.add(*json.loads(line[len(group) + 1:]))
      kind, key = group[0], group[1:]
      describe = (duplicate_group if kind == DUPLICATE
                  else near_duplicate_group)
      for described in describe(key, summary.as_dict()):
        output.write(f'{kind}{described}\n'.encode('utf-8'))
  return output_path


def read_summaries(summaries_path: str) -> Iterator[Tuple[str, str]]:
  """(kind, JSON line) of each group in summarize_groups's file."""
  for line in files.read_lines(summaries_path):
    yield line[0], line[1:]


def duplicate_group(digest: str, summary: dict) -> Iterator[str]:
  """A JSON line for files with identical bytes (GroupSummary.as_dict):
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


def near_duplicate_group(_, summary: dict) -> Iterator[str]:
  """A JSON line for a group of near duplicates (GroupSummary.as_dict):
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
