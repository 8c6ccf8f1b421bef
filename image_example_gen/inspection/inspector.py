"""inspect(): the summary and pictures of an ImageExampleGen Examples artifact.

`collect` reads the artifact once, streaming (see `statistics`); `inspect`
turns what it gathered into summary lines and, given `out_dir`, pictures.
"""

import dataclasses
from typing import Any, Dict, List, Optional, Tuple

from image_example_gen.inspection import contact_sheet
from image_example_gen.inspection import locate
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
  """
  examples_dir: str
  report: Dict[str, Any]
  splits: Tuple[statistics_lib.SplitStatistics, ...]

  @property
  def class_names(self) -> List[str]:
    return list(self.report.get('class_names', []))

  def summary_lines(self) -> List[str]:
    return summary.summary_lines(self.examples_dir, self.report, self.splits)


def collect(path: str, *, split: Optional[str] = None,
            samples_per_class: int = 8) -> Inspection:
  """Reads the artifact `path` names (see `find_examples`), or one split of it.

  Raises:
    InspectionError: Bad path, unknown split, negative samples_per_class, or
      damaged shards.
  """
  if samples_per_class < 0:
    raise InspectionError(
        f'samples_per_class must be 0 or more, got {samples_per_class}')
  examples_dir = locate.find_examples(path)
  report = locate.read_report(examples_dir)
  names = locate.split_names(examples_dir, report)
  if split is not None:
    if split not in names:
      raise InspectionError(
          f'{examples_dir}: no split {split!r}; it has '
          f'{", ".join(names) or "no Split-* folder"}; pass one of them')
    names = [split]
  vocabulary = list(report.get('class_names', []))
  sampled = (set(vocabulary[:contact_sheet.MAX_ROWS])
             if len(vocabulary) > contact_sheet.MAX_ROWS else None)
  splits = tuple(
      statistics_lib.collect_split(
          name, locate.split_shards(examples_dir, name),
          samples_per_class=samples_per_class,
          thumbnail_size=contact_sheet.THUMBNAIL_SIZE,
          sampled_classes=sampled) for name in names)
  return Inspection(examples_dir, report, splits)


def inspect(path: str,
            *,
            split: Optional[str] = None,
            out_dir: Optional[str] = None,
            samples_per_class: int = 8) -> List[str]:
  """Summarizes an ImageExampleGen Examples artifact; draws it into out_dir.

  Reads the Examples once, streaming: memory holds the counts, one integer per
  image and `samples_per_class` thumbnails per class, never the images.

  Args:
    path: An Examples artifact folder or a pipeline root (`find_examples`).
    split: Only this split (the report's skipped files are always shown: they
      belong to input splits, not output ones).
    out_dir: When given, the folder (created if missing) that gets the
      contact sheets, class charts, sizes chart and index.html (`pictures`).
    samples_per_class: Thumbnails per class on the contact sheets: the images
      with the smallest image/key/sha256, so the same on every run; 0 draws
      no contact sheet and decodes no image.

  Returns:
    The summary lines (not printed: the caller prints them); with out_dir,
    a last line naming the page written.

  Raises:
    InspectionError: Bad path, unknown split, negative samples_per_class,
      damaged shards, or an out_dir that cannot be written.
  """
  inspection = collect(path, split=split, samples_per_class=samples_per_class)
  lines = inspection.summary_lines()
  if out_dir is None:
    return lines
  try:
    written = pictures.write_pictures(
        out_dir, title=f'Examples {inspection.examples_dir}', lines=lines,
        splits=inspection.splits, vocabulary=inspection.class_names,
        columns=samples_per_class)
  except OSError as error:
    raise InspectionError(
        f'{out_dir}: cannot write the pictures ({error.strerror or error}); '
        'pass a folder you can write to') from error
  note = ''
  if len(inspection.class_names) > contact_sheet.MAX_ROWS:
    note = (f' (contact sheets: the first {contact_sheet.MAX_ROWS} of '
            f'{len(inspection.class_names)} classes)')
  return lines + [f'Pictures: {written[-1]}{note}']
