"""The matplotlib charts: class distribution of a split, image sizes.

Each function returns a `matplotlib.figure.Figure` drawn on its own Agg
canvas, so tests can look at it before it is saved, and the process-wide
pyplot backend is never switched (which would break a notebook's inline
plots). `save_png` writes a figure.
"""

import math
from typing import Mapping, Sequence, Tuple

from matplotlib import figure as figure_lib
from matplotlib import ticker
from matplotlib.backends import backend_agg

__all__ = ['class_chart', 'save_png', 'sizes_chart']

_DPI = 80


def class_chart(split: str,
                class_counts: Sequence[Tuple[str, int]]) -> figure_lib.Figure:
  """A bar chart with one labelled bar per (class, count), in the given order."""
  names = [name or '(unlabeled)' for name, _ in class_counts]
  counts = [count for _, count in class_counts]
  width = min(max(4.0, 1.5 + 0.35 * len(names)), 24.0)
  figure = _figure((width, 3.2))
  axes = figure.add_subplot()
  bars = axes.bar(range(len(names)), counts, color='#4878a8')
  axes.bar_label(bars, fontsize=8)
  axes.set_xticks(range(len(names)), names,
                  rotation=0 if len(names) <= 6 else 90, fontsize=8)
  axes.set_ylabel('images')
  axes.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
  axes.set_title(f'{split}: {sum(counts)} images, {len(names)} classes',
                 fontsize=10)
  axes.margins(y=0.15)
  figure.tight_layout()
  return figure


def sizes_chart(
    sizes_by_split: Mapping[str, Mapping[Tuple[int, int], int]]
) -> figure_lib.Figure:
  """Width against height of every image, one colour per split.

  Args:
    sizes_by_split: {split: {(height, width): images}}; a point's area grows
      with the number of images of that size.
  """
  figure = _figure((4.8, 4.0))
  axes = figure.add_subplot()
  for split, sizes in sizes_by_split.items():
    if not sizes:
      continue
    heights = [height for height, _ in sizes]
    widths = [width for _, width in sizes]
    areas = [12 * math.sqrt(count) for count in sizes.values()]
    axes.scatter(widths, heights, s=areas, alpha=0.6,
                 label=f'{split} ({sum(sizes.values())})')
  axes.set_xlabel('width (px)')
  axes.set_ylabel('height (px)')
  axes.set_title('image sizes', fontsize=10)
  if axes.collections:
    axes.legend(fontsize=8)
  figure.tight_layout()
  return figure


def save_png(figure: figure_lib.Figure, path: str) -> None:
  figure.savefig(path, format='png', dpi=_DPI)


def _figure(size: Tuple[float, float]) -> figure_lib.Figure:
  figure = figure_lib.Figure(figsize=size, dpi=_DPI)
  backend_agg.FigureCanvasAgg(figure)
  return figure
