"""The ingest report: what was ingested per split and class, what was skipped.

The engine writes it as `ingest_report.json` at the root of the Examples
artifact (see core/artifact.py for the files and where they go), with the
complete list of skipped files in `skipped.jsonl` beside it: the JSON report
keeps the counts and the first `REPORT_EXAMPLES_PER_REASON` files of each
reason, so that it stays readable at a million files. The groups of
identical files and of near-duplicates likewise: the counts and the first
`REPORT_GROUPS` groups (and the first that span labels or straddle splits)
in the JSON, every group in `duplicates.jsonl` and `near_duplicates.jsonl`.
`build_report` writes those two files in order and keeps only what the JSON
lists (core/report_groups.py). `summary_lines()` is the human-readable
summary the engine logs and the commands print.
"""

import collections
import dataclasses
import functools
import json
import os
import posixpath
from typing import (Any, Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple)

from image_example_gen.core import external_sort
from image_example_gen.core import files
from image_example_gen.core import reasons
from image_example_gen.core import report_groups

__all__ = ['DUPLICATES_FILE_NAME', 'NEAR_DUPLICATES_FILE_NAME',
           'REPORT_FILE_NAME', 'SKIPPED_FILE_NAME', 'IngestReport',
           'build_report', 'counted', 'group_size']

REPORT_FILE_NAME = 'ingest_report.json'
SKIPPED_FILE_NAME = 'skipped.jsonl'
DUPLICATES_FILE_NAME = 'duplicates.jsonl'
NEAR_DUPLICATES_FILE_NAME = 'near_duplicates.jsonl'
# Groups of each list that the JSON report lists (the first); all are in
# DUPLICATES_FILE_NAME and NEAR_DUPLICATES_FILE_NAME.
REPORT_GROUPS = report_groups.REPORT_GROUPS
group_size = report_groups.group_size
# Skipped files per reason that the JSON report lists; all are in
# SKIPPED_FILE_NAME.
REPORT_EXAMPLES_PER_REASON = 100
# How many skipped files the summary names before "... and N more".
_SUMMARY_MAX_FILES = 20
# How many files of a near-duplicate group the summary names.
_SUMMARY_GROUP_FILES = 3
# A near-duplicate group of more than this share of the images (and more
# than OVERSIZED_GROUP_MIN_IMAGES) is flagged as a likely chain: groups are
# transitive, so similar low-content images (sky, blank pages) or overlapping
# crops can join into one group far larger than any photo's copies. Measured:
# 20,000 random crops of two photos (benchmarks/dataset.py) make one group of
# 12,744 at the default threshold (docs/near_duplicates.md).
OVERSIZED_GROUP_FRACTION = 0.01
OVERSIZED_GROUP_MIN_IMAGES = 20


@dataclasses.dataclass(frozen=True)
class IngestReport:
  """Counts and skipped files of one ingest.

  Attributes:
    input_base: The ingested folder.
    class_names: The class vocabulary; label i is class_names[i].
    examples: {output split: {class name ('' if unlabeled): count}}.
    skipped: One dict per skipped file: relative_path (to input_base), split
      (the input split), reason (one of `reasons`) and detail; sorted by path.
      All of them, or only the first (see skipped_totals).
    duplicates: Groups of ingested files with identical bytes, a dict each:
      sha256, size, count (files), files (relative paths, the first 20),
      splits (output splits) and class_names (more than one: a labelling
      error); sorted by first file. All of them, or only the first (see
      duplicate_totals).
    multi_label: Whether images have several labels each.
    prepared: {action: {source format: count}}: the images transcoded,
      turned upright and downscaled (core.publish), per source format.
    near_duplicates: Groups of near-duplicate images (with at least two
      distinct contents), a dict each: count (images), files (relative
      paths, the first 20), splits (output splits) and class_names; largest
      group first. All of them, or only the first (see
      near_duplicate_totals).
    near_duplicate_threshold: The threshold the groups were found with, in
      bits; None when near-duplicate detection was off.
    duplicate_totals: The counts over every duplicate group when
      `duplicates` holds only the first (`build_report` with a lists_dir);
      None: `duplicates` holds them all, and they are counted.
    near_duplicate_totals: Likewise for `near_duplicates`.
    skipped_totals: {input split: {reason: count}} over every skipped file
      when `skipped` holds only the first REPORT_EXAMPLES_PER_REASON of each
      input split and reason (`build_report` with a lists_dir); None:
      `skipped` holds them all, and they are counted.
  """
  input_base: str
  class_names: Tuple[str, ...]
  examples: Dict[str, Dict[str, int]]
  skipped: Tuple[Dict[str, str], ...]
  duplicates: Tuple[Dict[str, Any], ...] = ()
  multi_label: bool = False
  prepared: Dict[str, Dict[str, int]] = dataclasses.field(default_factory=dict)
  near_duplicates: Tuple[Dict[str, Any], ...] = ()
  near_duplicate_threshold: Optional[int] = None
  duplicate_totals: Optional[report_groups.GroupTotals] = None
  near_duplicate_totals: Optional[report_groups.GroupTotals] = None
  skipped_totals: Optional[Dict[str, Dict[str, int]]] = None

  @functools.cached_property
  def _skipped_counted(self) -> Dict[str, Dict[str, int]]:
    if self.skipped_totals is not None:
      return self.skipped_totals
    return _SkippedTally(listed=0).add_all(self.skipped).totals

  @functools.cached_property
  def _duplicates_counted(self) -> report_groups.GroupTotals:
    return self.duplicate_totals or report_groups.count_groups(self.duplicates)

  @functools.cached_property
  def _near_duplicates_counted(self) -> report_groups.GroupTotals:
    return self.near_duplicate_totals or report_groups.count_groups(
        self.near_duplicates)

  @property
  def examples_per_split(self) -> Dict[str, int]:
    return {split: sum(by_class.values())
            for split, by_class in self.examples.items()}

  @property
  def total_examples(self) -> int:
    return sum(self.examples_per_split.values())

  @property
  def skipped_per_reason(self) -> Dict[str, int]:
    counts = collections.Counter()
    for by_reason in self._skipped_counted.values():
      counts.update(by_reason)
    return dict(sorted(counts.items()))

  @property
  def total_skipped(self) -> int:
    return sum(self.skipped_per_reason.values())

  def skipped_per_reason_in(self, split: str) -> Dict[str, int]:
    """{reason: count} of the files skipped in input split `split`."""
    return dict(sorted(self._skipped_counted.get(split, {}).items()))

  @property
  def duplicate_groups(self) -> int:
    """Groups of identical files."""
    return self._duplicates_counted.groups

  @property
  def redundant_copies(self) -> int:
    """Ingested files that repeat another's bytes (all copies but one)."""
    counted = self._duplicates_counted
    return counted.files - counted.groups

  @property
  def conflicting_duplicate_groups(self) -> int:
    """Duplicate groups whose copies carry different labels."""
    return self._duplicates_counted.spanning_labels

  @property
  def near_duplicate_groups(self) -> int:
    return self._near_duplicates_counted.groups

  @property
  def near_duplicate_images(self) -> int:
    """Images in a near-duplicate group."""
    return self._near_duplicates_counted.files

  @property
  def near_duplicate_groups_spanning_labels(self) -> int:
    """Near-duplicate groups whose images carry different labels: likely
    labelling errors."""
    return self._near_duplicates_counted.spanning_labels

  @property
  def near_duplicate_groups_straddling_splits(self) -> int:
    """Near-duplicate groups with images in more than one split: the leak
    that split_key='near_duplicate' removes."""
    return self._near_duplicates_counted.straddling_splits

  @property
  def near_duplicate_images_straddling_splits(self) -> int:
    """Images in the near-duplicate groups that straddle splits."""
    return self._near_duplicates_counted.files_straddling

  @property
  def oversized_near_duplicate_groups(self) -> Tuple[Dict[str, Any], ...]:
    """Near-duplicate groups too large to be one photo's copies (more than
    OVERSIZED_GROUP_FRACTION of the images and OVERSIZED_GROUP_MIN_IMAGES).
    They are among the first listed: groups share no image, so fewer than
    1 / OVERSIZED_GROUP_FRACTION = REPORT_GROUPS can be this large."""
    limit = max(OVERSIZED_GROUP_MIN_IMAGES,
                OVERSIZED_GROUP_FRACTION * self.total_examples)
    return tuple(group for group in self.near_duplicates
                 if group_size(group) > limit)

  @property
  def near_duplicate_group_sizes(self) -> Dict[int, int]:
    """{group size: number of groups}."""
    return dict(self._near_duplicates_counted.sizes)

  @property
  def bad_files(self) -> int:
    """Skipped files other than hidden ones, which are expected noise."""
    return sum(count for reason, count in self.skipped_per_reason.items()
               if reason != reasons.HIDDEN)

  @property
  def bad_fraction(self) -> float:
    seen = self.total_examples + self.bad_files
    return self.bad_files / seen if seen else 0.0

  def to_json(self) -> str:
    return json.dumps(
        {
            'input_base': self.input_base,
            'class_names': list(self.class_names),
            'total_examples': self.total_examples,
            'examples_per_split': self.examples_per_split,
            'examples': self.examples,
            'total_skipped': self.total_skipped,
            'skipped_per_reason': self.skipped_per_reason,
            'skipped_file': SKIPPED_FILE_NAME,
            'skipped': self._first_skipped_per_reason(),
            'duplicate_groups': self.duplicate_groups,
            'redundant_copies': self.redundant_copies,
            'duplicates_file': DUPLICATES_FILE_NAME,
            'duplicates': _listed(self.duplicates,
                                  report_groups.spans_labels),
            'multi_label': self.multi_label,
            'prepared': self.prepared,
            **self._near_duplicates_json(),
        },
        ensure_ascii=False, indent=1)

  def _near_duplicates_json(self) -> Dict[str, Any]:
    if self.near_duplicate_threshold is None:
      return {'near_duplicate_threshold': None}
    return {
        'near_duplicate_threshold': self.near_duplicate_threshold,
        'near_duplicate_groups': self.near_duplicate_groups,
        'images_in_near_duplicate_groups': self.near_duplicate_images,
        'near_duplicate_group_sizes': {
            str(size): count
            for size, count in self.near_duplicate_group_sizes.items()},
        'near_duplicate_groups_spanning_labels':
            self.near_duplicate_groups_spanning_labels,
        'near_duplicate_groups_straddling_splits':
            self.near_duplicate_groups_straddling_splits,
        'images_in_straddling_near_duplicate_groups':
            self.near_duplicate_images_straddling_splits,
        'oversized_near_duplicate_groups': len(
            self.oversized_near_duplicate_groups),
        'near_duplicates_file': NEAR_DUPLICATES_FILE_NAME,
        'near_duplicates': _listed(self.near_duplicates,
                                   report_groups.is_flagged),
    }

  def _first_skipped_per_reason(self) -> List[Dict[str, str]]:
    shown = collections.Counter()
    first = []
    for entry in self.skipped:
      shown[entry['reason']] += 1
      if shown[entry['reason']] <= REPORT_EXAMPLES_PER_REASON:
        first.append(entry)
    return first

  @classmethod
  def from_json(cls, text: str) -> 'IngestReport':
    return cls.from_dict(json.loads(text))

  @classmethod
  def from_dict(cls, values: Dict[str, Any]) -> 'IngestReport':
    """From the parsed JSON of `to_json`."""
    return cls(values['input_base'], tuple(values['class_names']),
               values['examples'], tuple(values['skipped']),
               tuple(values.get('duplicates', ())),
               bool(values.get('multi_label', False)),
               dict(values.get('prepared', {})),
               tuple(values.get('near_duplicates', ())),
               values.get('near_duplicate_threshold'))

  def custom_properties(self) -> Dict[str, int]:
    """Totals for the Examples artifact's MLMD custom properties."""
    properties = {
        'num_examples': self.total_examples,
        'num_skipped': self.total_skipped,
        'num_classes': len(self.class_names),
        'num_duplicate_groups': self.duplicate_groups,
        'num_redundant_copies': self.redundant_copies,
        'num_duplicate_groups_with_different_labels':
            self.conflicting_duplicate_groups,
    }
    for split, count in self.examples_per_split.items():
      properties[f'num_examples_{split}'] = count
    for reason, count in self.skipped_per_reason.items():
      properties[f'num_skipped_{reason}'] = count
    for action, by_format in self.prepared.items():
      properties[f'num_{action}'] = sum(by_format.values())
    if self.near_duplicate_threshold is not None:
      properties.update({
          'num_near_duplicate_groups': self.near_duplicate_groups,
          'num_near_duplicate_images': self.near_duplicate_images,
          'num_near_duplicate_groups_spanning_labels':
              self.near_duplicate_groups_spanning_labels,
          'num_near_duplicate_groups_straddling_splits':
              self.near_duplicate_groups_straddling_splits,
          'num_oversized_near_duplicate_groups': len(
              self.oversized_near_duplicate_groups),
      })
    return properties

  def summary_lines(self) -> List[str]:
    """A summary a person can read: counts per split and class, skips."""
    lines = [f'Ingested {self.total_examples} images from {self.input_base}']
    for split, by_class in self.examples.items():
      per_class = ', '.join(f'{name or "(unlabeled)"}: {count}'
                            for name, count in sorted(by_class.items()))
      lines.append(f'  {split}: {sum(by_class.values())} ({per_class})')
    lines += self.prepared_lines()
    lines += self.duplicate_lines()
    lines += self.near_duplicate_lines()
    if not self.total_skipped:
      lines.append('Skipped no file.')
      return lines
    per_reason = ', '.join(
        f'{reason}: {count}' for reason, count in self.skipped_per_reason.items())
    lines.append(f'Skipped {counted(self.total_skipped, "file")} '
                 f'({per_reason}):')
    # The first files by path: the first of their reason too, so kept.
    for entry in self.skipped[:_SUMMARY_MAX_FILES]:
      lines.append(f'  {entry["relative_path"]}: {entry["reason"]} '
                   f'({entry["detail"]})')
    if self.total_skipped > _SUMMARY_MAX_FILES:
      lines.append(f'  ... and {self.total_skipped - _SUMMARY_MAX_FILES} more, '
                   f'listed in {SKIPPED_FILE_NAME}')
    return lines


  def prepared_lines(self) -> List[str]:
    """What was done to publish images: none when all kept their bytes."""
    names = {'transcoded': 'Transcoded', 'rotated': 'Turned upright',
             'downscaled': 'Downscaled'}
    return [
        f'{names.get(action, action)}: {sum(by_format.values())} ('
        + ', '.join(f'{source}: {count}'
                    for source, count in by_format.items()) + ')'
        for action, by_format in self.prepared.items()
    ]

  def duplicate_lines(self) -> List[str]:
    """The duplicate groups for a person; none without duplicates."""
    if not self.duplicates:
      return []
    conflicting = self.conflicting_duplicate_groups
    lines = [f'Duplicates: {counted(self.duplicate_groups, "group")} of '
             f'identical files, '
             f'{counted(self.redundant_copies, "redundant copy", "redundant copies")}'
             + (f', {conflicting} with different labels (a labelling '
                'error):' if conflicting else ':')]
    # Conflicting groups first; the report keeps the first of those too.
    shown = sorted(self.duplicates,
                   key=lambda group: not report_groups.spans_labels(group)
                   )[:_SUMMARY_MAX_FILES]
    for group in shown:
      labels = (f' labelled {" / ".join(group["class_names"])}'
                if report_groups.spans_labels(group) else '')
      lines.append(f'  {", ".join(group["files"])} ({group["size"]} bytes)'
                   f'{labels}')
    if self.duplicate_groups > len(shown):
      lines.append(f'  ... and {self.duplicate_groups - len(shown)} more '
                   f'groups, listed in {DUPLICATES_FILE_NAME}')
    return lines


  def near_duplicate_lines(self) -> List[str]:
    """The near-duplicate groups for a person: counts, then the groups that
    span labels or straddle splits; none when detection was off."""
    if self.near_duplicate_threshold is None:
      return []
    within = f'within {self.near_duplicate_threshold} bits'
    if not self.near_duplicate_groups:
      return [f'Near-duplicates: none ({within}).']
    sizes = ', '.join(f'{count} of {size}' for size, count in
                      self.near_duplicate_group_sizes.items())
    spanning = self.near_duplicate_groups_spanning_labels
    straddling = self.near_duplicate_groups_straddling_splits
    lines = [f'Near-duplicates ({within}): '
             f'{counted(self.near_duplicate_groups, "group")}, '
             f'{self.near_duplicate_images} images (groups: {sizes})']
    for group in self.oversized_near_duplicate_groups:
      share = group_size(group) / max(self.total_examples, 1)
      lines.append(
          f'  WARNING: one group holds {group_size(group)} images '
          f'({share:.0%} of all): a chain of similar images (sky, blank '
          'pages, overlapping crops) rather than copies of one photo; '
          'split_key=\'near_duplicate\' puts it in a single split. Lower '
          f'near_duplicate_threshold (now {self.near_duplicate_threshold}) '
          'to break it up')
    if spanning:
      lines.append(f'  {_groups(spanning, "span")} different labels '
                   '(likely labelling errors)')
    if straddling:
      images = self.near_duplicate_images_straddling_splits
      lines.append(
          f'  {_groups(straddling, "straddle", f" ({images} images)")} '
          'splits: eval holds near copies of train images; '
          "split_key='near_duplicate' keeps each group in one split")
    flagged = [group for group in self.near_duplicates
               if report_groups.is_flagged(group)][:_SUMMARY_MAX_FILES]
    for group in flagged:
      notes = []
      if report_groups.spans_labels(group):
        notes.append(f'labelled {" / ".join(group["class_names"])}')
      if report_groups.straddles_splits(group):
        notes.append(f'in {" / ".join(group["splits"])}')
      files, count = group['files'], group_size(group)
      shown = ', '.join(files[:_SUMMARY_GROUP_FILES]) + (
          f' and {count - _SUMMARY_GROUP_FILES} more'
          if count > _SUMMARY_GROUP_FILES else '')
      lines.append(f'  {shown} ({"; ".join(notes)})')
    flagged_total = self._near_duplicates_counted.flagged
    if flagged_total > len(flagged):
      lines.append(f'  ... and {flagged_total - len(flagged)} more '
                   f'groups, listed in {NEAR_DUPLICATES_FILE_NAME}')
    return lines


def _listed(groups: Sequence[Dict[str, Any]],
            flag: Callable[[Dict[str, Any]], bool]) -> List[Dict[str, Any]]:
  """The groups the JSON report lists: the first REPORT_GROUPS, and the
  first FLAGGED_GROUPS that `flag` flags."""
  tally = report_groups.GroupTally(flag=flag)
  for group in groups:
    tally.add(group)
  return list(tally.kept)


def counted(count: int, noun: str, plural: Optional[str] = None) -> str:
  """'1 group', '2 groups': the count and its noun agreeing."""
  return f'{count} {noun if count == 1 else plural or noun + "s"}'


def _groups(count: int, verb: str, detail: str = '') -> str:
  """'1 group spans', '2 groups span': count, noun and verb agreeing."""
  if count == 1:
    return f'1 group{detail} {verb}s'
  return f'{count} groups{detail} {verb}'


def build_report(input_base: str, class_names: Sequence[str],
                 split_names: Sequence[str], skipped_lines: Iterable[str],
                 count_lines: Iterable[str],
                 duplicate_lines: Iterable[str] = (),
                 multi_label: bool = False,
                 prepared_lines: Iterable[str] = (),
                 near_duplicate_lines: Optional[Iterable[str]] = None,
                 near_duplicate_threshold: Optional[int] = None,
                 lists_dir: Optional[str] = None) -> IngestReport:
  """Builds the report from the pipeline's skipped and count outputs.

  With `lists_dir`, the whole lists are written there in their order
  (SKIPPED_FILE_NAME, DUPLICATES_FILE_NAME, NEAR_DUPLICATES_FILE_NAME;
  `artifact.write_artifact_files` copies them), sorted on disk, and the
  report keeps their counts and only their first entries: memory stays
  flat however many files are skipped or grouped. Without, it keeps all.

  Args:
    input_base: The ingested folder.
    class_names: The class vocabulary.
    split_names: The output splits, in order (each appears, even if empty).
    skipped_lines: JSON lines, one per skipped file.
    count_lines: JSON lines [[split, class_name], count].
    duplicate_lines: JSON lines, one per group of identical files.
    multi_label: Whether images have several labels each.
    prepared_lines: JSON lines [[action, source format], count].
    near_duplicate_lines: JSON lines, one per group of near duplicates;
      None when detection was off.
    near_duplicate_threshold: The threshold they were found with.
    lists_dir: A local folder for the whole lists, or None.
  """
  examples: Dict[str, Dict[str, int]] = {name: {} for name in split_names}
  for line in count_lines:
    (split, class_name), count = json.loads(line)
    examples[split][class_name] = count
  examples = {split: dict(sorted(by_class.items()))
              for split, by_class in examples.items()}

  def list_path(name: str) -> Optional[str]:
    return os.path.join(lists_dir, name) if lists_dir else None

  streamed = lists_dir is not None
  skipped = _SkippedTally(REPORT_EXAMPLES_PER_REASON if streamed else None)
  _stream_sorted(skipped_lines,
                 lambda entry: (entry['relative_path'], entry['split']),
                 skipped.add, list_path(SKIPPED_FILE_NAME))
  duplicates = report_groups.GroupTally(
      REPORT_GROUPS if streamed else None, flag=report_groups.spans_labels)
  _stream_sorted(duplicate_lines, report_groups.sort_key(largest_first=False),
                 duplicates.add, list_path(DUPLICATES_FILE_NAME))
  near_duplicates = report_groups.GroupTally(
      REPORT_GROUPS if streamed else None, flag=report_groups.is_flagged)
  _stream_sorted(near_duplicate_lines or (),
                 report_groups.sort_key(largest_first=True),
                 near_duplicates.add, list_path(NEAR_DUPLICATES_FILE_NAME))
  return IngestReport(
      posixpath.normpath(input_base) if '://' not in input_base else input_base,
      tuple(class_names), examples, tuple(skipped.kept), duplicates.kept,
      multi_label, _prepared(prepared_lines), near_duplicates.kept,
      near_duplicate_threshold if near_duplicate_lines is not None else None,
      duplicate_totals=duplicates.totals if streamed else None,
      near_duplicate_totals=near_duplicates.totals if streamed else None,
      skipped_totals=skipped.totals if streamed else None)


def _stream_sorted(lines: Iterable[str], key: Callable[[Dict[str, Any]], Any],
                   add: Callable[[Dict[str, Any]], None],
                   path: Optional[str]) -> None:
  """Passes the JSON `lines`, parsed, to `add` in the order of `key`, and
  with `path` writes them there in that order."""
  ordered = external_sort.sorted_lines(
      lines, key=lambda line: key(json.loads(line)))

  def added():
    for line in ordered:
      add(json.loads(line))
      yield line

  if path:
    files.write_lines(path, added())
  else:
    collections.deque(added(), maxlen=0)


class _SkippedTally:
  """Counts skipped files per input split and reason as they come (in path
  order), keeping the first `listed` of each split and reason (None: all).
  Per split, so that a refused input split's error can name its files."""

  def __init__(self, listed: Optional[int]):
    self._listed = listed
    self.kept: List[Dict[str, str]] = []
    self._counts: Dict[str, collections.Counter] = {}

  def add(self, entry: Dict[str, str]) -> None:
    counts = self._counts.setdefault(entry['split'], collections.Counter())
    counts[entry['reason']] += 1
    if self._listed is None or counts[entry['reason']] <= self._listed:
      self.kept.append(entry)

  def add_all(self, entries: Iterable[Dict[str, str]]) -> '_SkippedTally':
    for entry in entries:
      self.add(entry)
    return self

  @property
  def totals(self) -> Dict[str, Dict[str, int]]:
    return {split: dict(sorted(counts.items()))
            for split, counts in sorted(self._counts.items())}


def _prepared(lines: Iterable[str]) -> Dict[str, Dict[str, int]]:
  """{action: {source format: count}} from [[action, format], count] lines."""
  prepared: Dict[str, Dict[str, int]] = {}
  for line in lines:
    (action, source_format), count = json.loads(line)
    prepared.setdefault(action, {})[source_format] = count
  return {action: dict(sorted(by_format.items()))
          for action, by_format in sorted(prepared.items())}
