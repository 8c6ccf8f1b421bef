"""Runs an ingest for tests, as ImageExampleGen's executor does.

The engine (`run_ingest`) with the split arguments the executor derives from
TFX's input and output configs, then the executor's own recording on a new
Examples artifact: what `Executor.Do` does, without faking a TFX launcher.
"""

from tfx.components.example_gen import utils
from tfx.types import standard_artifacts

from image_example_gen import IngestConfig
from image_example_gen import run_ingest
from image_example_gen.components import executor


def ingest_folder(input_base, output_dir, config=IngestConfig(),
                  input_config=None, output_config=None,
                  beam_pipeline_args=None, progress_callback=None,
                  previous_class_names=None):
  """Ingests into a new Examples artifact at output_dir; returns the artifact.

  Unset input/output configs get the component's defaults: pattern '*',
  hash buckets train:eval 2:1.
  """
  input_config = input_config or utils.make_default_input_config()
  if output_config is None:
    output_config = utils.make_default_output_config(input_config)
  report = run_ingest(
      input_base, output_dir, config=config,
      beam_pipeline_args=beam_pipeline_args or (),
      progress_callback=progress_callback,
      previous_class_names=previous_class_names,
      **executor.split_arguments(input_config, output_config))
  examples = standard_artifacts.Examples()
  examples.uri = output_dir
  executor.record_on_artifact(examples, report, list(report.examples))
  return examples
