"""Runs ImageExampleGen's Executor.Do the way TFX's launcher does, for tests."""

import os

from tfx.components.example_gen import utils
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from image_example_gen import Executor
from image_example_gen import IngestConfig


def run_executor(input_base, output_dir, config=IngestConfig(),
                 input_config=None, output_config=None,
                 beam_pipeline_args=None, progress_callback=None):
  """Runs Do into a new Examples artifact at output_dir; returns the artifact.

  Unset input/output configs get the component's defaults: pattern '*',
  hash buckets train:eval 2:1.
  """
  input_config = input_config or utils.make_default_input_config()
  if output_config is None:
    output_config = utils.make_default_output_config(input_config)
  examples = standard_artifacts.Examples()
  examples.uri = output_dir
  executor = Executor(Executor.Context(
      beam_pipeline_args=beam_pipeline_args,
      tmp_dir=os.path.join(output_dir, '.tmp'), unique_id='1'))
  executor.progress_callback = progress_callback
  executor.Do({}, {standard_component_specs.EXAMPLES_KEY: [examples]}, {
      standard_component_specs.INPUT_BASE_KEY: input_base,
      standard_component_specs.INPUT_CONFIG_KEY:
          proto_utils.proto_to_json(input_config),
      standard_component_specs.OUTPUT_CONFIG_KEY:
          proto_utils.proto_to_json(output_config),
      'ingest_config': config.to_json(),
  })
  return examples
