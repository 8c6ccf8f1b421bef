"""The TFX executor of ImageExampleGen: the ingest engine, for a TFX launcher.

`Executor.Do` turns the execution properties into the engine's arguments,
runs `beam.engine.run_ingest` (which writes the splits, the report and the
label map into the artifact), and records on the Examples artifact what is
TFX's: its split names, payload and file format, and the report's totals as
ML Metadata custom properties (core.artifact.mlmd_properties).
"""

import json
import os
from typing import Any, Callable, Dict, List, Optional

from tfx import types
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from image_example_gen.beam import engine
from image_example_gen.beam import progress
from image_example_gen.beam import transform
from image_example_gen.core import artifact
from image_example_gen.core import config as config_lib
from image_example_gen.core import discovery
from image_example_gen.core import ingest_report

__all__ = ['Executor', 'record_on_artifact', 'split_arguments']


class Executor(base_beam_executor.BaseBeamExecutor):
  """Turns image folders into a TFX Examples artifact of tf.train.Examples.

  Attributes:
    progress_callback: Called with each `progress.Snapshot` while the ingest
      runs, besides the progress lines logged every 5 s.
  """

  progress_callback: Optional[Callable[[progress.Snapshot], None]] = None

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    """Ingests the images; see the module docstring.

    Args:
      input_dict: Unused (ExampleGen has no input artifact).
      output_dict: `examples`: the Examples artifact to fill.
      exec_properties: `input_base`, `input_config`, `output_config` (JSON of
        example_gen_pb2 protos), `ingest_config` (IngestConfig JSON) and,
        from the driver, `previous_class_names` (JSON list: the vocabulary
        of the Examples published before, whose label ids stay).

    Raises:
      engine.IngestError: No usable image in a split, or too many bad files.
      transform.BadFileError: A bad file, with on_bad_image='fail'.
    """
    self._log_startup(input_dict, output_dict, exec_properties)
    input_config = example_gen_pb2.Input()
    proto_utils.json_to_proto(
        exec_properties[standard_component_specs.INPUT_CONFIG_KEY],
        input_config)
    output_config = example_gen_pb2.Output()
    proto_utils.json_to_proto(
        exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY],
        output_config)
    examples = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.EXAMPLES_KEY])
    previous = exec_properties.get(config_lib.PREVIOUS_CLASS_NAMES_KEY)
    report = engine.run_ingest(
        exec_properties[standard_component_specs.INPUT_BASE_KEY],
        examples.uri,
        config=config_lib.IngestConfig.from_json(
            exec_properties[config_lib.INGEST_CONFIG_KEY]),
        previous_class_names=json.loads(previous) if previous else None,
        make_pipeline=self._make_beam_pipeline,
        staging_dir=os.path.join(self._get_tmp_dir(), 'image_example_gen'),
        progress_callback=self.progress_callback,
        **split_arguments(input_config, output_config))
    # The report's splits: the configured ones, or the split folders the
    # engine found when none was configured.
    record_on_artifact(examples, report, list(report.examples))


def split_arguments(input_config: example_gen_pb2.Input,
                    output_config: example_gen_pb2.Output) -> Dict[str, Any]:
  """run_ingest's split arguments for TFX's input and output configs."""
  split_config = output_config.split_config
  return dict(
      input_splits=[discovery.InputSplit(split.name, split.pattern)
                    for split in input_config.splits],
      output_splits=[transform.HashBucketSplit(split.name, split.hash_buckets)
                     for split in split_config.splits] or None,
      partition_feature_name=split_config.partition_feature_name or None)


def record_on_artifact(examples: types.Artifact,
                       report: ingest_report.IngestReport,
                       split_names: List[str]) -> None:
  """Records an ingest on its Examples artifact: split names, payload and
  file format, and the report's totals as MLMD custom properties."""
  examples.split_names = artifact_utils.encode_split_names(split_names)
  for key, value in artifact.mlmd_properties(report).items():
    if isinstance(value, int):
      examples.set_int_custom_property(key, value)
    else:
      examples.set_string_custom_property(key, value)
  examples_utils.set_payload_format(examples,
                                    example_gen_pb2.FORMAT_TF_EXAMPLE)
  # TFX's readers accept only this file format name; they detect the real
  # compression of each file from its name (`*.gz` or not).
  examples_utils.set_file_format(examples, 'tfrecords_gzip')
