"""Writes an inspection's pictures and its index.html into a folder.

Files written (`<split>` for each split inspected):

- `contact_sheet_<split>.png`: thumbnails, a row per class, each captioned
  with its file name and size (`contact_sheet`; 256 colours), unless no
  samples were asked for;
- `classes_<split>.png`: the class distribution, a bar per class (`charts`);
- `sizes.png`: width against height of every image on log axes, a colour per
  split, disc area proportional to the images of a size;
- `near_duplicates.png`: the largest near-duplicate groups, a row of
  thumbnails per group (`near_duplicate_sheet`; 256 colours), when the
  report has any;
- `index.html`: the summary and all of the above (`html_page`), with, under
  each contact sheet and the near-duplicates, the full path of every file on
  it (folded).

Other files in the folder are left alone; these are overwritten (a
`near_duplicates.png` of an earlier run is removed when there is no group).
"""

import os
from typing import List, Mapping, Optional, Sequence

from image_example_gen.inspection import charts
from image_example_gen.inspection import contact_sheet
from image_example_gen.inspection import html_page
from image_example_gen.inspection import near_duplicate_sheet
from image_example_gen.inspection import statistics as statistics_lib

__all__ = ['INDEX_FILE', 'NEAR_DUPLICATES_FILE', 'NEAR_DUPLICATES_HEADING',
           'SIZES_FILE', 'classes_file', 'contact_sheet_file', 'sheet_files',
           'write_pictures']

INDEX_FILE = 'index.html'
SIZES_FILE = 'sizes.png'
NEAR_DUPLICATES_FILE = 'near_duplicates.png'
NEAR_DUPLICATES_HEADING = 'Near-duplicates'


def contact_sheet_file(split: str) -> str:
  return f'contact_sheet_{split}.png'


def classes_file(split: str) -> str:
  return f'classes_{split}.png'


def write_pictures(out_dir: str, *, title: str, lines: Sequence[str],
                   splits: Sequence[statistics_lib.SplitStatistics],
                   vocabulary: Sequence[str], columns: int,
                   near_duplicates: Sequence[near_duplicate_sheet.Group] = (),
                   members: Optional[Mapping[str, statistics_lib.Sample]] = None
                   ) -> List[str]:
  """Writes the pictures and index.html; returns the paths written.

  Args:
    out_dir: The folder (created if missing).
    title: The page title.
    lines: The summary lines shown on the page.
    splits: The statistics of the splits to draw.
    vocabulary: The class vocabulary (the order of rows and bars).
    columns: Samples per class on the contact sheets; 0 draws none.
    near_duplicates: The near-duplicate groups to draw, a row each (see
      near_duplicate_sheet.drawn_groups); none: no near_duplicates.png.
    members: {image/filename: Sample} of the files they show.
  """
  os.makedirs(out_dir, exist_ok=True)
  written, sections, details = [], [], {}
  for split in splits:
    names = []
    heading = f'Split {split.name}'
    if columns:
      sheet = contact_sheet.draw_contact_sheet(split, vocabulary,
                                               columns=columns)
      names.append(contact_sheet_file(split.name))
      contact_sheet.save_png(sheet, os.path.join(out_dir, names[-1]))
      details[heading] = ('Files on the contact sheet',
                          sheet_files(split, vocabulary))
    classes = statistics_lib.ordered_classes(vocabulary, split.class_counts)
    chart_name = classes_file(split.name)
    charts.save_png(
        charts.class_chart(split.name, [
            (name, split.class_counts.get(name, 0)) for name in classes]),
        os.path.join(out_dir, chart_name))
    names.append(chart_name)
    sections.append((heading, names))
    written += names
  near_duplicates_path = os.path.join(out_dir, NEAR_DUPLICATES_FILE)
  if near_duplicates:
    members = members or {}
    contact_sheet.save_png(
        near_duplicate_sheet.draw_near_duplicates(near_duplicates, members),
        near_duplicates_path)
    sections.append((NEAR_DUPLICATES_HEADING, [NEAR_DUPLICATES_FILE]))
    details[NEAR_DUPLICATES_HEADING] = (
        'Files in the near-duplicate groups drawn',
        near_duplicate_sheet.group_lines(near_duplicates, members))
    written.append(NEAR_DUPLICATES_FILE)
  elif os.path.isfile(near_duplicates_path):
    os.remove(near_duplicates_path)  # an earlier run's: not this artifact's
  charts.save_png(
      charts.sizes_chart({split.name: split.sizes for split in splits}),
      os.path.join(out_dir, SIZES_FILE))
  sections.append(('Image sizes', [SIZES_FILE]))
  written.append(SIZES_FILE)
  with open(os.path.join(out_dir, INDEX_FILE), 'w', encoding='utf-8') as file:
    file.write(html_page.render_page(title, lines, sections, details))
  written.append(INDEX_FILE)
  return [os.path.join(out_dir, name) for name in written]


def sheet_files(split: statistics_lib.SplitStatistics,
                vocabulary: Sequence[str]) -> List[str]:
  """The files on a split's contact sheet: per row its class, then its files.

  Each file is numbered with its column, from 1 at the left.
  """
  lines = []
  for class_name in contact_sheet.sheet_classes(split, vocabulary):
    lines.append(class_name or '(unlabeled)')
    samples = split.samples_of(class_name)
    lines += [f'  {column:>2}  {sample.filename}'
              for column, sample in enumerate(samples, 1)]
    if not samples:
      lines.append('      (no image)')
  return lines
