"""The summary lines: what an Examples artifact holds, for a person to read.

Counts per split and class (read from the Examples, checked against the
ingest report), image sizes, formats and bytes per image per split, then the
files the ingest skipped, by reason, the groups of identical files the
report lists, and its near-duplicate groups (`IngestReport.
near_duplicate_lines`, from every group: near_duplicates.jsonl, not only the
first REPORT_GROUPS that ingest_report.json lists).
"""

import collections
import statistics as statistics_math
from typing import Any, Dict, List, Mapping, Optional, Sequence

from image_example_gen.core import artifact
from image_example_gen.core import ingest_report
from image_example_gen.inspection import statistics as statistics_lib

__all__ = ['summary_lines']

_REPORT = artifact.REPORT_FILE_NAME
_COMMON_SIZES = 3  # most common sizes listed per split
_FILES_PER_REASON = 5  # skipped files named per reason
_MAX_LINE = 200


def summary_lines(examples_dir: str, report: Mapping[str, Any],
                  splits: Sequence[statistics_lib.SplitStatistics],
                  full_report: ingest_report.IngestReport) -> List[str]:
  """The summary of an artifact: its report and the statistics of `splits`.

  Args:
    examples_dir: The artifact folder.
    report: Its ingest_report.json, as written.
    splits: The statistics of the splits inspected.
    full_report: The report with its full lists (`artifact.read_report`).
  """
  vocabulary = list(report.get('class_names', []))
  totals = {split: sum(counts.values())
            for split, counts in report['examples'].items()}
  lines = [
      f'Examples: {examples_dir}',
      f'Ingested from {report.get("input_base", "?")}: '
      f'{sum(totals.values())} images in {len(totals)} '
      f'split{"" if len(totals) == 1 else "s"} '
      f'({", ".join(f"{name} {count}" for name, count in totals.items())}), '
      f'{len(vocabulary)} classes',
  ]
  for split in splits:
    lines += _split_lines(split, vocabulary,
                          report['examples'].get(split.name, {}))
  lines += _skipped_lines(report.get('skipped', []),
                          report.get('skipped_per_reason'))
  lines += full_report.duplicate_lines()
  lines += _near_duplicate_lines(report, full_report)
  return lines


def _near_duplicate_lines(report: Mapping[str, Any],
                          full_report: ingest_report.IngestReport
                          ) -> List[str]:
  lines = full_report.near_duplicate_lines()
  counted = report.get('near_duplicate_groups')
  if counted is not None and counted != len(full_report.near_duplicates):
    lines.append(
        f'  WARNING: {_REPORT} counts {counted} near-duplicate groups, but '
        f'only {len(full_report.near_duplicates)} are listed (is '
        f'{ingest_report.NEAR_DUPLICATES_FILE_NAME} missing?); the figures '
        'above are of those listed')
  return lines


def _split_lines(split: statistics_lib.SplitStatistics,
                 vocabulary: Sequence[str],
                 reported: Mapping[str, int]) -> List[str]:
  classes = statistics_lib.ordered_classes(vocabulary, split.class_counts)
  lines = [f'Split {split.name}: {split.total} images',
           '  classes: ' + _counts(
               (name, split.class_counts.get(name, 0)) for name in classes)]
  if {name: count for name, count in split.class_counts.items() if count} != {
      name: count for name, count in reported.items() if count}:
    lines.append(f'  WARNING: {_REPORT} says {sum(reported.values())} images ('
                 + _counts(reported.items()) + ')')
  if not split.total:
    return lines
  heights = collections.Counter()
  widths = collections.Counter()
  for (height, width), count in split.sizes.items():
    heights[height] += count
    widths[width] += count
  lines.append(f'  height: {_min_median_max(heights)}; '
               f'width: {_min_median_max(widths)}')
  common = sorted(split.sizes.items(), key=lambda item: (-item[1], item[0]))
  lines.append('  most common sizes (height x width): ' + ', '.join(
      f'{height}x{width} ({count})'
      for (height, width), count in common[:_COMMON_SIZES]))
  lines.append('  formats: ' + _counts(
      sorted(split.formats.items(), key=lambda item: (-item[1], item[0]))))
  sizes = split.byte_sizes
  lines.append(
      f'  bytes per image: mean {_bytes(sum(sizes) / len(sizes))}, '
      f'median {_bytes(statistics_math.median(sizes))}, '
      f'min {_bytes(min(sizes))}, max {_bytes(max(sizes))}')
  return lines


def _skipped_lines(skipped: Sequence[Dict[str, Any]],
                   per_reason: Optional[Mapping[str, int]]) -> List[str]:
  """Counts per reason (the report's, which counts every file; its list
  holds only the first files of each reason), and the first files."""
  if not skipped and not per_reason:
    return [f'Skipped no file ({_REPORT}).']
  by_reason = collections.defaultdict(list)
  for entry in skipped:
    name = entry.get('relative_path', '?')
    if entry.get('policy'):
      name += f' [{entry["policy"]}]'
    by_reason[entry.get('reason', '?')].append(name)
  if per_reason is None:  # A report from before skipped.jsonl: all listed.
    per_reason = {reason: len(names) for reason, names in by_reason.items()}
  total = ingest_report.counted(sum(per_reason.values()), 'file')
  lines = [f'Skipped {total} ({_REPORT}): ' + _counts(
      (reason, per_reason[reason]) for reason in sorted(per_reason))]
  for reason in sorted(by_reason):
    names = by_reason[reason]
    shown = ', '.join(names[:_FILES_PER_REASON])
    more = per_reason.get(reason, len(names)) - min(len(names),
                                                   _FILES_PER_REASON)
    lines.append(_cut(f'  {reason}: {shown}' +
                      (f', ... and {more} more' if more > 0 else '')))
  return lines


def _counts(pairs) -> str:
  return ', '.join(f'{name or "(unlabeled)"} {count}' for name, count in pairs)


def _min_median_max(counts: Mapping[int, int]) -> str:
  """'min a, median b, max c' of values given as {value: how many}.

  The median is the lower one for an even number of values: a value seen.
  """
  values = sorted(counts)
  middle = (sum(counts.values()) - 1) // 2  # the lower median's position
  seen = 0
  for value in values:
    seen += counts[value]
    if seen > middle:
      return f'min {values[0]}, median {value}, max {values[-1]}'
  raise ValueError('no values')


def _bytes(size: float) -> str:
  if size < 1024:
    return f'{size:.0f} B'
  if size < 1024 * 1024:
    return f'{size / 1024:.1f} KiB'
  return f'{size / 1024 / 1024:.1f} MiB'


def _cut(line: str) -> str:
  return line if len(line) <= _MAX_LINE else line[:_MAX_LINE - 3] + '...'
