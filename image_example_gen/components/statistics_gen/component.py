"""ImageStatisticsGen: TFX's StatisticsGen for ImageExampleGen's Examples.

Only the executor differs (see executor.py); the inputs, outputs and options
are StatisticsGen's.
"""

from tfx.components.statistics_gen import component as statistics_gen_component
from tfx.dsl.components.base import executor_spec

from image_example_gen.components.statistics_gen import executor

__all__ = ['ImageStatisticsGen']


class ImageStatisticsGen(statistics_gen_component.StatisticsGen):
  """Statistics of image Examples, computed with the image schema.

  ```
  statistics_gen = ImageStatisticsGen(examples=example_gen.outputs['examples'])
  schema_gen = tfx.components.SchemaGen(
      statistics=statistics_gen.outputs['statistics'])
  ```

  Like StatisticsGen, it takes `examples`, an optional `schema`,
  `stats_options` and `exclude_splits`, and outputs `statistics`. Without a
  schema it uses `image_example_gen.components.image_schema.image_schema` for the
  Examples' class vocabulary: TFDV computes byte sizes, not top-k values, for
  `image/encoded`, and no vocabulary for file names and hashes. The
  statistics record the schema's domains, so SchemaGen infers the same
  domains (image, label range, formats) for ExampleValidator, Transform and
  the Trainer.
  """

  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)
