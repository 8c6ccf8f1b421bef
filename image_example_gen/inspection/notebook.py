"""What `InteractiveContext.show()` draws for an ImageExampleGen Examples artifact.

TFX's notebook `show(channel)` looks up each artifact's type name in its
visualization registry (`tfx.orchestration.experimental.interactive.
visualizations`) and calls the registered `display(artifact)`. TFX 1.16
registers nothing for `Examples` (its standard visualizations cover
ExampleStatistics, ExampleAnomalies, Schema and ModelEvaluation), so without
this module `show()` prints only the artifact's heading.

`register_notebook_visualization()` registers `ImageExamplesVisualization`
for `Examples`. For an artifact ImageExampleGen wrote (a local folder with
`ingest_report.json`) it displays the summary (counts per split and class,
sizes, formats, skipped files) and each split's contact sheet as an inline
PNG; any other Examples artifact goes to the visualization registered for
`Examples` before ours, if any, else shows nothing more, as TFX does.
Registering before or after creating the InteractiveContext both work: the
context registers only its four standard types.

    from image_example_gen.inspection import register_notebook_visualization
    register_notebook_visualization()
    context.show(example_gen.outputs['examples'])
"""

import base64
import html
import io
import os
from typing import Optional

from tfx import types
from tfx.orchestration.experimental.interactive import visualizations
from tfx.types import standard_artifacts

from image_example_gen.core import artifact
from image_example_gen.inspection import contact_sheet
from image_example_gen.inspection import inspector
from image_example_gen.inspection.errors import InspectionError

__all__ = ['ImageExamplesVisualization', 'artifact_html',
           'register_notebook_visualization']

_SAMPLES_PER_CLASS = 8


class ImageExamplesVisualization(visualizations.ArtifactVisualization):
  """Summary and contact sheets of ImageExampleGen's Examples in a notebook.

  Attributes:
    fallback: The visualization for other Examples artifacts (set by
      `register_notebook_visualization`); None shows nothing for them.
  """

  ARTIFACT_TYPE = standard_artifacts.Examples
  fallback: Optional[visualizations.ArtifactVisualization] = None

  def display(self, examples: types.Artifact) -> str:
    """Displays the artifact (through IPython) and returns the HTML shown.

    For an artifact ImageExampleGen did not write, returns what the fallback
    returns ('' without one).
    """
    uri = examples.uri
    if '://' in uri or not os.path.isfile(
        os.path.join(uri, artifact.REPORT_FILE_NAME)):
      return self.fallback.display(examples) if self.fallback else ''
    try:
      page = artifact_html(uri)
    except InspectionError as error:
      page = f'<pre>{html.escape(str(error))}</pre>'
    _show_html(page)
    return page


def artifact_html(examples_dir: str, *,
                  samples_per_class: int = _SAMPLES_PER_CLASS) -> str:
  """HTML with the summary and each split's contact sheet as an inline PNG."""
  inspection = inspector.collect(examples_dir,
                                 samples_per_class=samples_per_class)
  parts = ['<div>', '<pre>' + html.escape('\n'.join(
      inspection.summary_lines())) + '</pre>']
  for split in inspection.splits:
    sheet = contact_sheet.draw_contact_sheet(
        split, inspection.class_names, columns=samples_per_class)
    buffer = io.BytesIO()
    contact_sheet.save_png(sheet, buffer)
    data = base64.b64encode(buffer.getvalue()).decode('ascii')
    parts.append(f'<div><b>{html.escape(split.name)}</b></div>')
    parts.append(f'<img src="data:image/png;base64,{data}" '
                 f'alt="contact sheet of {html.escape(split.name)}">')
  parts.append('</div>')
  return '\n'.join(parts)


def register_notebook_visualization(
    registry: Optional[visualizations.ArtifactVisualizationRegistry] = None
) -> ImageExamplesVisualization:
  """Registers ImageExamplesVisualization for Examples; returns the instance.

  The visualization registered for Examples until now becomes its fallback;
  registering again keeps the first fallback.

  Args:
    registry: The registry; TFX's (the one `InteractiveContext.show` uses)
      when None.
  """
  registry = registry or visualizations.get_registry()
  previous = registry.get_visualization(standard_artifacts.Examples.TYPE_NAME)
  if isinstance(previous, ImageExamplesVisualization):
    previous = previous.fallback
  registry.register(ImageExamplesVisualization)
  ours = registry.get_visualization(standard_artifacts.Examples.TYPE_NAME)
  ours.fallback = previous
  return ours


def _show_html(page: str) -> None:
  try:
    from IPython import display  # pylint: disable=g-import-not-at-top
  except ImportError:  # No IPython: the returned HTML is all there is.
    return
  display.display(display.HTML(page))
