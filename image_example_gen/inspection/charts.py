"""The matplotlib charts: class distribution of a split, image sizes.

Each function returns a `matplotlib.figure.Figure` drawn on its own Agg
canvas, so tests can look at it before it is saved, and the process-wide
pyplot backend is never switched (which would break a notebook's inline
plots). `save_png` writes a figure at DPI dots per inch, so a figure of
`figsize` inches gives a PNG of `figsize * DPI` pixels. Text is at least
FONT_SIZE points (14 pixels at 100 dpi). The same input gives the same PNG.

- `class_chart`: one horizontal bar per class, its name on the left (cut in
  the middle past 32 characters) and its count at the end of the bar (a
  class with no image: a red 0), first class on top. CHART_WIDTH inches
  (800 px) wide; BAR_PITCH inches (26 px) per class, at least
  CHART_MIN_HEIGHT inches (500 px) high; at most MAX_BARS classes.
- `sizes_chart` (900 x 660 px): width against height on log axes with the
  same range (so a 4032-pixel photo and 32-pixel icons are both readable,
  and square images lie on the dotted diagonal), one colour per split, one
  disc per split and distinct size whose area is proportional to its number
  of images, the 12 most common sizes shared by 2 or more images labelled
  with their count over all splits, and legends of splits and disc areas.
"""

import collections
import math
from typing import Dict, List, Mapping, Sequence, Tuple

from matplotlib import figure as figure_lib
from matplotlib import lines as lines_lib
from matplotlib import ticker
from matplotlib.backends import backend_agg

__all__ = ['BAR_PITCH', 'CHART_MIN_HEIGHT', 'CHART_WIDTH', 'DPI', 'FONT_SIZE',
           'MAX_BARS', 'class_chart', 'save_png', 'sizes_chart']

DPI = 100
FONT_SIZE = 10
CHART_WIDTH = 8.0
CHART_MIN_HEIGHT = 5.0
BAR_PITCH = 0.26
# A class chart of more classes would be taller than ~5,400 pixels (and
# take seconds to draw): it shows the first MAX_BARS (in the given order) and
# says so in its title.
MAX_BARS = 200

_LABEL_SIZE = 11
_TITLE_SIZE = 13
_BAR = '#4878a8'
_ZERO = '#b00000'
_MAX_NAME = 32  # characters of a class name shown
_SIZES_FIGURE = (9.0, 6.6)
# The square axes of the sizes chart, in inches from the lower left corner:
# room left for the tick labels and axis label, below for the same, above
# for the title; the legends stand right of the axes, in the last 2.5 inches.
_SIZES_AXES = (0.95, 0.75, 5.3, 5.3)  # left, bottom, width, height
_MAX_AREA = 1600.0  # points^2: the disc of the most common size
_MAX_AREA_PER_IMAGE = 60.0  # points^2: one image, when few share a size
_MIN_AREA = 6.0  # points^2: the smallest disc drawn, so one image shows
_COUNTS_LABELLED = 12  # sizes whose count is printed, the most common
# Tick values in pixels: powers of 2, and 1.5 times them when the range is
# too narrow for 4 powers of 2.
_POWERS = [2**power for power in range(16)]
_HALF_STEPS = sorted(_POWERS + [3 * 2**power for power in range(15)])


def class_chart(split: str,
                class_counts: Sequence[Tuple[str, int]]) -> figure_lib.Figure:
  """A horizontal bar per (class, count), in the given order from the top."""
  shown = list(class_counts[:MAX_BARS])
  names = [_shorten(name or '(unlabeled)', _MAX_NAME) for name, _ in shown]
  counts = [count for _, count in shown]
  total = sum(count for _, count in class_counts)
  height = max(CHART_MIN_HEIGHT, 1.6 + BAR_PITCH * len(names))
  figure = _figure((CHART_WIDTH, height))
  axes = figure.add_subplot()
  title = (f'{split}: {total} image{"" if total == 1 else "s"}, '
           f'{len(class_counts)} class{"" if len(class_counts) == 1 else "es"}')
  if len(shown) < len(class_counts):
    title += f' (the first {len(shown)} shown)'
  axes.set_title(title, fontsize=_TITLE_SIZE)
  if not names:
    axes.set_axis_off()
    axes.text(0.5, 0.5, 'no images', ha='center', va='center',
              fontsize=_LABEL_SIZE, transform=axes.transAxes)
    figure.tight_layout()
    return figure
  positions = range(len(names))
  bars = axes.barh(positions, counts, height=0.7, color=_BAR)
  labels = axes.bar_label(bars, padding=4, fontsize=_LABEL_SIZE)
  for label, count in zip(labels, counts):
    if not count:
      label.set_color(_ZERO)
      label.set_fontweight('bold')
  axes.set_yticks(positions, names, fontsize=_LABEL_SIZE)
  axes.set_ylim(len(names) - 0.5, -0.5)  # the first class on top
  axes.set_xlabel('images', fontsize=_LABEL_SIZE)
  axes.tick_params(axis='x', labelsize=FONT_SIZE)
  axes.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
  axes.set_xlim(0, max(max(counts), 1) * 1.12)
  axes.grid(axis='x', color='#dddddd', linewidth=0.8)
  axes.set_axisbelow(True)
  for side in ('top', 'right'):
    axes.spines[side].set_visible(False)
  figure.tight_layout()
  return figure


def sizes_chart(
    sizes_by_split: Mapping[str, Mapping[Tuple[int, int], int]]
) -> figure_lib.Figure:
  """Width against height of every image, on log axes, a colour per split.

  Args:
    sizes_by_split: {split: {(height, width): images}}; a disc's area is
      proportional to the number of images of that size in that split (at
      least _MIN_AREA, so a single image shows among thousands).
  """
  figure = _figure(_SIZES_FIGURE)
  left, bottom, width, height = _SIZES_AXES
  axes = figure.add_axes((left / _SIZES_FIGURE[0], bottom / _SIZES_FIGURE[1],
                          width / _SIZES_FIGURE[0], height / _SIZES_FIGURE[1]))
  totals: Dict[Tuple[int, int], int] = collections.Counter()
  unsized = 0
  for sizes in sizes_by_split.values():
    for (height, width), count in sizes.items():
      if height > 0 and width > 0:
        totals[(width, height)] += count
      else:
        unsized += count
  images = sum(totals.values())
  title = (f'Image sizes: {images} image{"" if images == 1 else "s"}, '
           f'{len(totals)} distinct size{"" if len(totals) == 1 else "s"}')
  if unsized:
    title += f' ({unsized} without a size not shown)'
  axes.set_title(title, fontsize=_TITLE_SIZE)
  axes.set_xscale('log')
  axes.set_yscale('log')
  axes.set_xlabel('width (pixels, log scale)', fontsize=_LABEL_SIZE)
  axes.set_ylabel('height (pixels, log scale)', fontsize=_LABEL_SIZE)
  if not totals:
    axes.set_xlim(16, 4096)
    axes.set_ylim(16, 4096)
    _pixel_ticks(axes, 16, 4096)
    axes.text(0.5, 0.5, 'no images', ha='center', va='center',
              fontsize=_LABEL_SIZE, transform=axes.transAxes)
    return figure
  largest = max(max(sizes.values(), default=1)
                for sizes in sizes_by_split.values())  # the largest disc
  per_image = min(_MAX_AREA_PER_IMAGE, _MAX_AREA / largest)
  split_handles = []
  for split, sizes in sizes_by_split.items():
    points = sorted(((width, height), count)
                    for (height, width), count in sizes.items()
                    if height > 0 and width > 0)
    if not points:
      continue
    collection = axes.scatter(
        [width for (width, _), _ in points],
        [height for (_, height), _ in points],
        s=[max(_MIN_AREA, per_image * count) for _, count in points],
        alpha=0.5, linewidths=1.0, zorder=2)
    collection.set_edgecolor(collection.get_facecolor()[0][:3])
    split_handles.append(lines_lib.Line2D(
        [], [], linestyle='', marker='o', markersize=9, alpha=0.6,
        color=collection.get_facecolor()[0][:3],
        label=f'{split}: {sum(count for _, count in points)} images'))
  # Same range on both axes, a margin around the discs.
  low = min(min(size) for size in totals) / 1.5
  high = max(max(size) for size in totals) * 1.5
  axes.set_xlim(low, high)
  axes.set_ylim(low, high)  # square axes: the diagonal is at 45 degrees
  axes.plot([low, high], [low, high], linestyle=':', color='#999999',
            linewidth=1.0, zorder=1)
  _pixel_ticks(axes, low, high)
  axes.grid(which='major', color='#eeeeee', linewidth=0.8, zorder=0)
  axes.set_axisbelow(True)
  # The most common sizes get their count, right of their largest disc.
  largest_at = collections.Counter()
  for sizes in sizes_by_split.values():
    for (height, width), count in sizes.items():
      largest_at[(width, height)] = max(largest_at[(width, height)], count)
  labelled = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
  for (width, height), count in labelled[:_COUNTS_LABELLED]:
    if count < 2:
      break
    radius = math.sqrt(max(_MIN_AREA,
                           per_image * largest_at[(width, height)])) / 2
    axes.annotate(str(count), (width, height), xytext=(radius + 2, 0),
                  textcoords='offset points', ha='left', va='center',
                  fontsize=FONT_SIZE, fontweight='bold', zorder=3)
  square = lines_lib.Line2D([], [], linestyle=':', color='#999999',
                            label='square (width = height)')
  legend = axes.legend(handles=split_handles + [square], loc='upper left',
                       bbox_to_anchor=(1.03, 1.0), fontsize=FONT_SIZE,
                       title='split', title_fontsize=FONT_SIZE,
                       alignment='left', frameon=False)
  axes.add_artist(legend)
  # Room for the largest disc (diameter in font sizes) beside and between
  # the entries.
  diameter = math.sqrt(max(_MIN_AREA, per_image * largest)) / FONT_SIZE
  axes.legend(handles=_area_handles(per_image, largest),
              loc='lower left', bbox_to_anchor=(1.03, 0.0), fontsize=FONT_SIZE,
              title='disc area: images of one\nsize in a split; bold\n'
              'number: all splits', title_fontsize=FONT_SIZE, frameon=False,
              alignment='left', handlelength=max(2.0, diameter + 0.4),
              handletextpad=0.8, labelspacing=max(1.0, diameter),
              borderpad=max(0.4, diameter / 2))
  return figure


def save_png(figure: figure_lib.Figure, path: str) -> None:
  figure.savefig(path, format='png', dpi=DPI)


def _figure(size: Tuple[float, float]) -> figure_lib.Figure:
  figure = figure_lib.Figure(figsize=size, dpi=DPI)
  backend_agg.FigureCanvasAgg(figure)
  return figure


def _pixel_ticks(axes, low: float, high: float) -> None:
  """Ticks at powers of 2 (and 1.5 times them in a narrow range), as numbers."""
  ticks = [value for value in _POWERS if low <= value <= high]
  if len(ticks) < 4:
    ticks = [value for value in _HALF_STEPS if low <= value <= high]
  for axis in (axes.xaxis, axes.yaxis):
    axis.set_major_locator(ticker.FixedLocator(ticks))
    axis.set_major_formatter(ticker.FixedFormatter([str(t) for t in ticks]))
    axis.set_minor_locator(ticker.NullLocator())
  axes.tick_params(labelsize=FONT_SIZE)


def _area_handles(per_image: float, largest: int) -> List[lines_lib.Line2D]:
  """Legend entries: discs for 1 image, the largest count, and one between."""
  counts = [1]
  middle = 10**int(math.log10(max(largest, 1)) - 1e-9) if largest > 10 else 0
  if 1 < middle < largest:
    counts.append(middle)
  if largest > 1:
    counts.append(largest)
  return [
      lines_lib.Line2D([], [], linestyle='', marker='o', color='#888888',
                       alpha=0.5,
                       markersize=math.sqrt(max(_MIN_AREA, per_image * count)),
                       label=f'{count} image{"" if count == 1 else "s"}')
      for count in counts
  ]


def _shorten(text: str, limit: int) -> str:
  """The text, its middle replaced with an ellipsis past `limit` characters."""
  if len(text) <= limit:
    return text
  head = (limit - 1) - (limit - 1) // 2
  return text[:head] + '\N{HORIZONTAL ELLIPSIS}' + text[-((limit - 1) // 2):]
