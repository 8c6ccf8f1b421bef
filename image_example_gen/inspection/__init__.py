"""Looks inside an ImageExampleGen Examples artifact: summary and pictures.

Public surface:
  find_examples(path)        the artifact folder of a path or pipeline root
  inspect(path, *, split, out_dir, samples_per_class)
                             the summary lines; pictures and index.html in out_dir
  InspectionError            bad input, with a one-line message
  register_notebook_visualization()
                             makes InteractiveContext.show() draw these
                             artifacts (imports TFX: loaded on first use)
  ImageExamplesVisualization the TFX notebook visualization itself

Modules, one job each: `locate` (folders and files), `records` (TFRecord
reading), `statistics` (streaming per-split counts and samples), `sampling`
(the deterministic sample), `thumbnails` (decoding), `contact_sheet`,
`near_duplicate_sheet` (the largest near-duplicate groups), `charts`,
`html_page`, `pictures` (writing them), `summary` (the text), `inspector`
(inspect), `notebook` (the TFX visualization).

The summary reads the Examples without TensorFlow.
"""

from image_example_gen.inspection.errors import InspectionError
from image_example_gen.inspection.inspector import inspect
from image_example_gen.inspection.locate import find_examples

__all__ = [
    'ImageExamplesVisualization', 'InspectionError', 'find_examples',
    'inspect', 'register_notebook_visualization'
]

_LAZY = {
    'ImageExamplesVisualization': 'image_example_gen.inspection.notebook',
    'register_notebook_visualization': 'image_example_gen.inspection.notebook',
}


def __getattr__(name):
  if name in _LAZY:
    import importlib  # pylint: disable=g-import-not-at-top
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
