"""Draws the largest near-duplicate groups: one row of thumbnails per group.

Layout (all sizes in pixels), the contact sheet's cells with a taller
caption:

    <- LABEL_WIDTH -><- CELL_WIDTH -><- CELL_WIDTH -> ...  at most MAX_PER_ROW
    +---------------+--------------+--------------+
    |# Group 1      |  thumbnail   |  thumbnail   |  ^ CELL_WIDTH
    |# 9 images     |              |              |  |
    |# spans labels |              |              |  v
    |# straddles    | f000_bas….jpg| f000_png.png |  ^ CAPTION_HEIGHT
    |#   splits     | train        | eval         |  |
    |# +1 more      | cat          | dog          |  v
    +---------------+--------------+--------------+
    ... one row per group, largest first (the report's order): at most
    MAX_GROUPS rows

so a sheet of `rows` groups, the largest drawn having `n` images, is
`LABEL_WIDTH + min(n, MAX_PER_ROW) * CELL_WIDTH` wide and
`rows * ROW_HEIGHT` high (`sheet_size`). A group's cells show its first
MAX_PER_ROW files (the report sorts them by path); the label says
"+N more" for the others. Under each thumbnail: the file's name (as the
contact sheet shortens it), the split its Example is in, and its label. A
row whose group spans different labels (likely a labelling error) or
straddles splits (a leak from train into eval) is flagged: a red bar down
its left edge, the flag in red in its label, and the labels or splits that
differ in red under the thumbnails. A file of the report that no Example
holds gets a cross and "not in the Examples".

The thumbnails are those `statistics` picked by file name while it read the
Examples (`files_to_pick` names them); `save_png` is the contact sheet's.
"""

from typing import Any, List, Mapping, Sequence, Set, Tuple

from PIL import Image
from PIL import ImageDraw

from image_example_gen.core import ingest_report
from image_example_gen.inspection import contact_sheet as sheet_lib
from image_example_gen.inspection import statistics as statistics_lib

__all__ = ['CAPTION_HEIGHT', 'MAX_GROUPS', 'MAX_PER_ROW', 'ROW_HEIGHT',
           'draw_near_duplicates', 'drawn_groups', 'files_to_pick',
           'group_lines', 'sheet_size', 'shown_files', 'spans_labels',
           'straddles_splits']

MAX_GROUPS = 20  # rows: a sheet at most ~1,200 x 3,600 pixels
MAX_PER_ROW = 8  # thumbnails per group; "+N more" for the others
CAPTION_HEIGHT = 3 * sheet_lib.LINE_HEIGHT + 4  # name, split, label
ROW_HEIGHT = sheet_lib.CELL_WIDTH + CAPTION_HEIGHT

_FLAG_WIDTH = 4  # the red bar down a flagged row's left edge
_MISSING = 'not in the Examples'

Group = Mapping[str, Any]  # {'files', 'splits', 'class_names'}, as reported


def drawn_groups(groups: Sequence[Group]) -> List[Group]:
  """The groups that get a row: the first MAX_GROUPS (the largest)."""
  return list(groups[:MAX_GROUPS])


def shown_files(group: Group) -> List[str]:
  """The files of a group that get a cell: its first MAX_PER_ROW."""
  return list(group['files'][:MAX_PER_ROW])


def files_to_pick(groups: Sequence[Group]) -> Set[str]:
  """The files whose thumbnails the sheet of `groups` shows."""
  return {name for group in drawn_groups(groups)
          for name in shown_files(group)}


def spans_labels(group: Group) -> bool:
  return len(group['class_names']) > 1


def straddles_splits(group: Group) -> bool:
  return len(group['splits']) > 1


def sheet_size(groups: Sequence[Group]) -> Tuple[int, int]:
  """(width, height) of the sheet of `groups` (all drawn: see drawn_groups)."""
  columns = max((len(shown_files(group)) for group in groups), default=0)
  return (sheet_lib.LABEL_WIDTH + columns * sheet_lib.CELL_WIDTH,
          len(groups) * ROW_HEIGHT)


def draw_near_duplicates(
    groups: Sequence[Group],
    members: Mapping[str, statistics_lib.Sample]) -> Image.Image:
  """The sheet of `groups` (all drawn, in order; see drawn_groups).

  Args:
    groups: The groups, as the ingest report lists them.
    members: {image/filename: Sample} of their shown files (a file missing
      gets a cross).
  """
  image = Image.new('RGB', sheet_size(groups), sheet_lib.BACKGROUND)
  draw = ImageDraw.Draw(image)
  font = sheet_lib.load_font(sheet_lib.FONT_SIZE)
  small = sheet_lib.load_font(sheet_lib.SMALL_FONT_SIZE)
  heading = sheet_lib.load_font(sheet_lib.HEADING_SIZE, bold=True)
  for row, group in enumerate(groups):
    top = row * ROW_HEIGHT
    if row:
      draw.line((0, top, image.width, top), fill=sheet_lib.RULE)
    if spans_labels(group) or straddles_splits(group):
      draw.rectangle((0, top + 1, _FLAG_WIDTH - 1, top + ROW_HEIGHT - 1),
                     fill=sheet_lib.ERROR)
    _draw_label(draw, heading, font, top, row, group)
    for column, filename in enumerate(shown_files(group)):
      left = sheet_lib.LABEL_WIDTH + column * sheet_lib.CELL_WIDTH
      box = (left + 1, top + 1, left + sheet_lib.CELL_WIDTH - 2,
             top + sheet_lib.CELL_WIDTH - 2)
      draw.rectangle(box, fill=sheet_lib.CELL)
      member = members.get(filename)
      sheet_lib.draw_thumbnail(image, draw, box,
                               member.thumbnail if member else None)
      _draw_caption(draw, font, small, left, top + sheet_lib.CELL_WIDTH,
                    filename, member, group)
  return image


def group_lines(groups: Sequence[Group],
                members: Mapping[str, statistics_lib.Sample]) -> List[str]:
  """The files on the sheet, per row: the group, then each file (numbered
  with its column, from 1 at the left) with its split and label."""
  lines = []
  for row, group in enumerate(groups, 1):
    notes = [f'{ingest_report.group_size(group)} images']
    if spans_labels(group):
      notes.append('spans labels ' + ' / '.join(
          _label(name) for name in group['class_names']))
    if straddles_splits(group):
      notes.append('straddles splits ' + ' / '.join(group['splits']))
    lines.append(f'Group {row} ({"; ".join(notes)})')
    for column, filename in enumerate(shown_files(group), 1):
      member = members.get(filename)
      where = (f'{member.split}, {_label(member.class_name)}' if member
               else _MISSING)
      lines.append(f'  {column:>2}  {filename}  ({where})')
    more = ingest_report.group_size(group) - len(shown_files(group))
    if more > 0:
      lines.append(f'      and {more} more, listed in the report')
  return lines


def _label(class_name: str) -> str:
  return class_name or '(unlabeled)'


def _draw_label(draw, heading, font, top: int, row: int,
                group: Group) -> None:
  left = sheet_lib.PADDING + _FLAG_WIDTH
  width = sheet_lib.LABEL_WIDTH - left - sheet_lib.PADDING
  lines = [(f'Group {row + 1}', sheet_lib.TEXT, heading),
           (f'{ingest_report.group_size(group)} images', sheet_lib.MUTED, font)]
  if spans_labels(group):
    lines.append(('spans labels', sheet_lib.ERROR, font))
  if straddles_splits(group):
    lines.append(('straddles splits', sheet_lib.ERROR, font))
  more = ingest_report.group_size(group) - len(shown_files(group))
  if more > 0:
    lines.append((f'+{more} more', sheet_lib.TEXT, font))
  y = top + sheet_lib.PADDING
  for text, colour, text_font in lines:
    draw.text((left, y), sheet_lib.fit_middle(text_font, text, width),
              fill=colour, font=text_font)
    y += sheet_lib.LINE_HEIGHT + 2


def _draw_caption(draw, font, small, left: int, top: int, filename: str,
                  member, group: Group) -> None:
  centre = left + sheet_lib.CELL_WIDTH // 2
  draw.text((centre, top + 2), sheet_lib.caption_name(filename),
            fill=sheet_lib.TEXT, font=font, anchor='ma')
  if member is None:
    captions = [(_MISSING, sheet_lib.ERROR)]
  else:
    captions = [
        (member.split,
         sheet_lib.ERROR if straddles_splits(group) else sheet_lib.MUTED),
        (_label(member.class_name),
         sheet_lib.ERROR if spans_labels(group) else sheet_lib.MUTED)]
    if member.thumbnail is None:
      captions[0] = (f'{member.split}: cannot decode', sheet_lib.ERROR)
  for line, (text, colour) in enumerate(captions, 1):
    draw.text((centre, top + 2 + line * sheet_lib.LINE_HEIGHT),
              sheet_lib.fit_middle(small, text, sheet_lib.CAPTION_WIDTH),
              fill=colour, font=small, anchor='ma')
