"""Draws a split's contact sheet: one row of thumbnails per class.

Layout (all sizes in pixels):

    <- LABEL_WIDTH -><- CELL_WIDTH -><- CELL_WIDTH -> ...  samples_per_class
    +---------------+--------------+--------------+
    |               |  thumbnail   |  thumbnail   |  ^ CELL_WIDTH
    | class name    |   (grey      |              |  |
    | N images      |    cell)     |              |  v
    |               | dahl…ull.jpg | bud.gif      |  ^ CAPTION_HEIGHT
    |               | 96 x 64      | 40 x 40      |  v
    +---------------+--------------+--------------+
    ... one row per class: the vocabulary's order, then any other class the
    split holds; at most MAX_ROWS rows

so a sheet of `rows` classes and `columns` samples is
`LABEL_WIDTH + columns * CELL_WIDTH` wide and `rows * ROW_HEIGHT` high
(`sheet_size`). Each thumbnail fills a THUMBNAIL_SIZE square, its aspect ratio
kept: large images are shrunk, small ones enlarged, tiny ones with
nearest-neighbour sampling so their pixels show as blocks (see `thumbnails`);
it is centred (letterboxed) in its grey cell. Under it, the caption: the
file's name (its basename, shortened in the middle with an ellipsis when it
does not fit, so the start and the extension stay) and the image's own size,
width x height, as stored in the Example. A class with fewer images than
columns leaves its last cells empty (a class with none says "0 images" in
red); an image Pillow cannot decode gets a cell with a cross and "cannot
decode" under its name. The samples are those `statistics` kept (see
`sampling`); `pictures` lists their full paths on the page. Text uses DejaVu
Sans, the font matplotlib ships (accented names, the ellipsis and the
multiplication sign; the charts use it too), drawn by FreeType.

`save_png` writes a sheet with a 256-colour palette (Pillow's median cut,
plus the exact colours of the background, cells and text), Floyd-Steinberg
dithered so that smooth gradients (a sky) do not break into flat patches:
40% of the full-colour size (for 20 classes of photos, 1.1 instead of
2.9 MB, 18% more than without dithering), plenty to recognize an image, not
meant for judging its colours.
"""

import functools
import os
from typing import BinaryIO, List, Optional, Sequence, Tuple, Union

import matplotlib
import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from image_example_gen.inspection import statistics as statistics_lib

__all__ = ['BACKGROUND', 'CAPTION_HEIGHT', 'CAPTION_WIDTH', 'CELL',
           'CELL_WIDTH', 'ERROR', 'FONT_SIZE', 'HEADING_SIZE', 'LABEL_WIDTH',
           'LINE_HEIGHT', 'MAX_ROWS', 'MUTED', 'PADDING', 'ROW_HEIGHT', 'RULE',
           'SMALL_FONT_SIZE', 'TEXT', 'THUMBNAIL_SIZE', 'caption_name',
           'draw_contact_sheet', 'draw_thumbnail', 'fit_middle', 'load_font',
           'save_png', 'sheet_classes', 'sheet_size']

CELL_WIDTH = 128
THUMBNAIL_SIZE = 120  # CELL_WIDTH less a 4-pixel margin on each side
CAPTION_HEIGHT = 34  # two lines of text under the thumbnail
ROW_HEIGHT = CELL_WIDTH + CAPTION_HEIGHT
CAPTION_WIDTH = CELL_WIDTH - 6  # pixels of text under a thumbnail
LABEL_WIDTH = 136
# At most this many classes (the first in vocabulary order) get a row, so a
# 1000-class dataset gives a sheet of ~1,200 x 16,000 pixels, not 160,000.
MAX_ROWS = 100

# The sheets' colours and text; near_duplicate_sheet draws with them too.
BACKGROUND = (255, 255, 255)
CELL = (232, 232, 232)
TEXT = (0, 0, 0)
MUTED = (96, 96, 96)
ERROR = (176, 0, 0)
RULE = (208, 208, 208)
_FONT_DIR = os.path.join(matplotlib.get_data_path(), 'fonts', 'ttf')
HEADING_SIZE = 13
FONT_SIZE = 12
SMALL_FONT_SIZE = 11
LINE_HEIGHT = 16
PADDING = 8
_COLOURS = 256
_ELLIPSIS = '\N{HORIZONTAL ELLIPSIS}'
_TIMES = '\N{MULTIPLICATION SIGN}'


def sheet_size(rows: int, columns: int) -> Tuple[int, int]:
  """(width, height) of a sheet of `rows` classes and `columns` samples."""
  return LABEL_WIDTH + columns * CELL_WIDTH, rows * ROW_HEIGHT


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
  class_names = sheet_classes(statistics, vocabulary)
  sheet = Image.new('RGB', sheet_size(len(class_names), columns), BACKGROUND)
  draw = ImageDraw.Draw(sheet)
  font, small = load_font(FONT_SIZE), load_font(SMALL_FONT_SIZE)
  heading = load_font(HEADING_SIZE, bold=True)
  for row, class_name in enumerate(class_names):
    top = row * ROW_HEIGHT
    if row:
      draw.line((0, top, sheet.width, top), fill=RULE)
    count = statistics.class_counts.get(class_name, 0)
    _draw_label(draw, heading, font, top, class_name or '(unlabeled)',
                f'{count} image{"" if count == 1 else "s"}',
                MUTED if count else ERROR)
    samples = statistics.samples_of(class_name)
    for column in range(columns):
      left = LABEL_WIDTH + column * CELL_WIDTH
      box = (left + 1, top + 1, left + CELL_WIDTH - 2, top + CELL_WIDTH - 2)
      draw.rectangle(box, fill=CELL)
      if column < len(samples):
        draw_thumbnail(sheet, draw, box, samples[column].thumbnail)
        _draw_caption(draw, font, small, left, top + CELL_WIDTH,
                      samples[column])
  return sheet


def sheet_classes(statistics: statistics_lib.SplitStatistics,
                  vocabulary: Sequence[str]) -> List[str]:
  """The classes that get a row, in order: at most MAX_ROWS."""
  return statistics_lib.ordered_classes(
      vocabulary, statistics.class_counts)[:MAX_ROWS]


def save_png(sheet: Image.Image, file: Union[str, BinaryIO]) -> None:
  """Writes a sheet as a PNG with a 256-colour palette, to a path or a file."""
  fixed = (BACKGROUND, CELL, TEXT, MUTED, ERROR, RULE)
  palette = sheet.quantize(_COLOURS - len(fixed))
  colours = palette.getpalette()[:3 * (_COLOURS - len(fixed))]
  palette.putpalette(colours + [level for colour in fixed for level in colour])
  indexed = sheet.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)
  # The sheet's own colours stay exact: median cut averages white with the
  # near-white of photos, and Pillow looks colours up at 6 bits a channel.
  indices = np.array(indexed)
  rgb = np.asarray(sheet).astype(np.uint32)
  packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
  for index, (red, green, blue) in enumerate(fixed, len(colours) // 3):
    indices[packed == (red << 16) | (green << 8) | blue] = index
  result = Image.fromarray(indices, 'P')
  result.putpalette(indexed.getpalette())
  result.save(file, format='PNG', optimize=True)


def caption_name(filename: str) -> str:
  """The basename of `filename` as a caption shows it: shortened in the
  middle with an ellipsis when wider than CAPTION_WIDTH pixels."""
  return fit_middle(load_font(FONT_SIZE),
                    filename.replace('\\', '/').rsplit('/')[-1], CAPTION_WIDTH)


@functools.lru_cache(maxsize=None)
def load_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
  """DejaVu Sans, which matplotlib ships (accents, the ellipsis and the
  multiplication sign; Pillow's default font has ASCII only), at `size` px."""
  try:
    return ImageFont.truetype(
        os.path.join(_FONT_DIR, 'DejaVuSans-Bold.ttf' if bold else
                     'DejaVuSans.ttf'), size)
  except OSError:  # matplotlib without its fonts: ASCII is still readable
    return ImageFont.load_default(size=size)


def _draw_label(draw, heading, font, top: int, name: str, count: str,
                colour) -> None:
  width = LABEL_WIDTH - 2 * PADDING
  middle = top + CELL_WIDTH // 2
  draw.text((PADDING, middle - LINE_HEIGHT - 2),
            fit_middle(heading, name, width), fill=TEXT, font=heading)
  draw.text((PADDING, middle + 2), count, fill=colour, font=font)


def _draw_caption(draw, font, small, left: int, top: int,
                  sample: statistics_lib.Sample) -> None:
  centre = left + CELL_WIDTH // 2
  draw.text((centre, top + 2), caption_name(sample.filename), fill=TEXT,
            font=font, anchor='ma')
  if sample.thumbnail is None:
    second, colour = 'cannot decode', ERROR
  elif sample.width and sample.height:
    second, colour = f'{sample.width} {_TIMES} {sample.height}', MUTED
  else:
    return
  draw.text((centre, top + 2 + LINE_HEIGHT), second, fill=colour, font=small,
            anchor='ma')


def fit_middle(font, text: str, width: int) -> str:
  """The text, its middle cut out with an ellipsis so it fits `width` px.

  Keeps as many characters as fit (found by bisection: the width grows with
  the characters kept), one more from the start than the end when odd, so
  that both the start of a name and its extension stay readable.
  """
  if font.getlength(text) <= width:
    return text

  def shortened(kept: int) -> str:
    tail = kept // 2
    return text[:kept - tail] + _ELLIPSIS + (text[-tail:] if tail else '')

  low, high = 0, len(text) - 1  # shortened(low) fits (or low is 0)
  while low < high:
    middle = (low + high + 1) // 2
    if font.getlength(shortened(middle)) <= width:
      low = middle
    else:
      high = middle - 1
  return shortened(low)


def draw_thumbnail(sheet, draw, box, thumbnail: Optional[Image.Image]) -> None:
  """Centres a thumbnail in `box` (left, top, right, bottom, inclusive); a
  cross when it is None (an image Pillow cannot decode, or none found)."""
  left, top, right, bottom = box
  if thumbnail is None:
    draw.line((left, top, right, bottom), fill=MUTED, width=2)
    draw.line((left, bottom, right, top), fill=MUTED, width=2)
    return
  x = left + (right - left + 1 - thumbnail.width) // 2
  y = top + (bottom - top + 1 - thumbnail.height) // 2
  sheet.paste(thumbnail, (x, y))
