"""inspect(): the summary and pictures of an ImageExampleGen Examples artifact.

`collect` reads the artifact once, streaming (see `statistics`); `inspect`
turns what it gathered into summary lines and, given `out_dir`, pictures.
"""

import dataclasses
from typing import Any, Dict, List, Optional, Tuple

from image_example_gen.core import ingest_report
from image_example_gen.inspection import contact_sheet
from image_example_gen.inspection import locate
from image_example_gen.inspection import near_duplicate_sheet
from image_example_gen.inspection import pictures
from image_example_gen.inspection import statistics as statistics_lib
from image_example_gen.inspection import summary
from image_example_gen.inspection.errors import InspectionError

__all__ = ['Inspection', 'collect', 'inspect']


@dataclasses.dataclass(frozen=True)
class Inspection:
  """What `collect` read.

  Attributes:
    examples_dir: The Examples artifact folder.
    report: Its ingest_report.json, as written.
    splits: The statistics of the splits inspected, in the report's order.
    full_report: The report with every skipped file and near-duplicate
      group (`artifact.read_report`).
    near_duplicate_members: {image/filename: Sample} of the files the
      near-duplicate sheet shows (found in any split), when asked for.
  """
  examples_dir: str
  report: Dict[str, Any]
  splits: Tuple[statistics_lib.SplitStatistics, ...]
  full_report: ingest_report.IngestReport
  near_duplicate_members: Dict[str, statistics_lib.Sample] = dataclasses.field(
      default_factory=dict)

  @property
  def class_names(self) -> List[str]:
    return list(self.report.get('class_names', []))

  @property
  def drawn_near_duplicates(self) -> List[near_duplicate_sheet.Group]:
    """The near-duplicate groups the sheet draws: the largest."""
    return near_duplicate_sheet.drawn_groups(
        self.full_report.near_duplicates)

  def summary_lines(self) -> List[str]:
    return summary.summary_lines(self.examples_dir, self.report, self.splits,
                                 self.full_report)

  def near_duplicate_picture_line(self) -> str:
    """What the near-duplicate picture shows, or why there is none."""
    groups = self.full_report.near_duplicates
    if self.full_report.near_duplicate_threshold is None:
      return ('Near-duplicate picture: none (this ingest did not look for '
              'near-duplicates)')
    if not groups:
      return 'Near-duplicate picture: none (no near-duplicate group)'
    drawn = len(self.drawn_near_duplicates)
    which = (f'all {drawn} groups' if drawn == len(groups) else
             f'the {drawn} largest of {len(groups)} groups')
    return (f'Near-duplicate picture: {pictures.NEAR_DUPLICATES_FILE}, '
            f'{which}, a row each (at most {near_duplicate_sheet.MAX_PER_ROW} '
            'images per row)')


def collect(path: str, *, split: Optional[str] = None,
            samples_per_class: int = 8,
            near_duplicates: bool = False) -> Inspection:
  """Reads the artifact `path` names (see `find_examples`), or one split of it.

  Args:
    path: An Examples artifact folder or a pipeline root.
    split: Only this split.
    samples_per_class: Contact-sheet samples kept per class.
    near_duplicates: Also pick the thumbnails of the files the
      near-duplicate sheet shows, while reading the split(s); the members in
      splits not inspected are then looked for in those splits' shards
      (each shard is read once at most, only until all are found).

  Raises:
    InspectionError: Bad path, unknown split, negative samples_per_class, or
      damaged shards.
  """
  if samples_per_class < 0:
    raise InspectionError(
        f'samples_per_class must be 0 or more, got {samples_per_class}')
  examples_dir = locate.find_examples(path)
  report = locate.read_report(examples_dir)
  full_report = locate.read_full_report(examples_dir)
  all_names = locate.split_names(examples_dir, report)
  names = all_names
  if split is not None:
    if split not in names:
      raise InspectionError(
          f'{examples_dir}: no split {split!r}; it has '
          f'{", ".join(names) or "no Split-* folder"}; pass one of them')
    names = [split]
  to_pick = (near_duplicate_sheet.files_to_pick(full_report.near_duplicates)
             if near_duplicates else set())
  vocabulary = list(report.get('class_names', []))
  sampled = (set(vocabulary[:contact_sheet.MAX_ROWS])
             if len(vocabulary) > contact_sheet.MAX_ROWS else None)
  splits = tuple(
      statistics_lib.collect_split(
          name, locate.split_shards(examples_dir, name),
          samples_per_class=samples_per_class,
          thumbnail_size=contact_sheet.THUMBNAIL_SIZE,
          sampled_classes=sampled, files_to_pick=to_pick) for name in names)
  members = {}
  for statistics in splits:
    members.update(statistics.picked)
  for other in all_names:
    missing = to_pick - members.keys()
    if not missing:
      break
    if other not in names:
      members.update(statistics_lib.pick_files(
          other, locate.split_shards(examples_dir, other), missing,
          thumbnail_size=contact_sheet.THUMBNAIL_SIZE))
  return Inspection(examples_dir, report, splits, full_report, members)


def inspect(path: str,
            *,
            split: Optional[str] = None,
            out_dir: Optional[str] = None,
            samples_per_class: int = 8) -> List[str]:
  """Summarizes an ImageExampleGen Examples artifact; draws it into out_dir.

  Reads the Examples once, streaming: memory holds the counts, one integer per
  image, `samples_per_class` thumbnails per class and, with out_dir, those of
  the near-duplicates drawn, never the images. The near-duplicate groups are
  the artifact's, whatever `split`: with out_dir, their members in other
  splits are read from those splits' shards.

  Args:
    path: An Examples artifact folder or a pipeline root (`find_examples`).
    split: Only this split (the report's skipped files are always shown: they
      belong to input splits, not output ones).
    out_dir: When given, the folder (created if missing) that gets the
      contact sheets, class charts, sizes chart, the near-duplicate sheet
      (when the report has groups) and index.html (`pictures`).
    samples_per_class: Thumbnails per class on the contact sheets: the images
      with the smallest image/key/sha256, so the same on every run; 0 draws
      no contact sheet (the near-duplicate sheet, with out_dir, still
      decodes the images it shows).

  Returns:
    The summary lines (not printed: the caller prints them); with out_dir,
    a line on the near-duplicate picture, and a last line naming the page
    written.

  Raises:
    InspectionError: Bad path, unknown split, negative samples_per_class,
      damaged shards, or an out_dir that cannot be written.
  """
  inspection = collect(path, split=split, samples_per_class=samples_per_class,
                       near_duplicates=out_dir is not None)
  lines = inspection.summary_lines()
  if out_dir is None:
    return lines
  lines.append(inspection.near_duplicate_picture_line())
  try:
    written = pictures.write_pictures(
        out_dir, title=f'Examples {inspection.examples_dir}', lines=lines,
        splits=inspection.splits, vocabulary=inspection.class_names,
        columns=samples_per_class,
        near_duplicates=inspection.drawn_near_duplicates,
        members=inspection.near_duplicate_members)
  except OSError as error:
    raise InspectionError(
        f'{out_dir}: cannot write the pictures ({error.strerror or error}); '
        'pass a folder you can write to') from error
  note = ''
  if len(inspection.class_names) > contact_sheet.MAX_ROWS:
    note = (f' (contact sheets: the first {contact_sheet.MAX_ROWS} of '
            f'{len(inspection.class_names)} classes)')
  return lines + [f'Pictures: {written[-1]}{note}']
