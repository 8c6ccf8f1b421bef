"""The data-validation part both sample pipelines share.

ImageStatisticsGen -> SchemaGen -> ExampleValidator over ImageExampleGen's
Examples. ImageStatisticsGen is TFX's StatisticsGen with the image schema: no
top-k over image bytes, no vocabulary of file names or hashes, and statistics
from which SchemaGen infers the image, label and format domains, so that
ExampleValidator, Transform and the Trainer see them.
"""

from typing import Tuple

from tfx import v1 as tfx

from image_example_gen import ImageStatisticsGen

__all__ = ['components']


def components(example_gen) -> Tuple:
  """(statistics_gen, schema_gen, example_validator) over the Examples."""
  statistics_gen = ImageStatisticsGen(examples=example_gen.outputs['examples'])
  schema_gen = tfx.components.SchemaGen(
      statistics=statistics_gen.outputs['statistics'])
  example_validator = tfx.components.ExampleValidator(
      statistics=statistics_gen.outputs['statistics'],
      schema=schema_gen.outputs['schema'])
  return statistics_gen, schema_gen, example_validator
