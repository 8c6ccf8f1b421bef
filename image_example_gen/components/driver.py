"""The ImageExampleGen driver: TFX's span/version logic, recursive fingerprint,
and the label vocabulary of the previous span.

TFX's FileBasedDriver fingerprints what a split pattern's glob matches; for
`<class>/<image>` folders that is the class folders, whose size and mtime do not
change when an image inside them does. This driver resolves {SPAN}/{VERSION}
exactly as TFX does, then fingerprints every file the ingest would read.

It also reads from ML Metadata the class vocabulary of the latest Examples
this component published in this pipeline and hands it to the executor
(`previous_class_names`), so that every class keeps its label id from span to
span: earlier classes keep theirs, new classes are appended.
"""

import json
from typing import Iterable, List, Optional

from ml_metadata.proto import metadata_store_pb2
from tfx.orchestration.portable import data_types as portable_data_types
from tfx.proto.orchestration import driver_output_pb2
from tfx.types import standard_artifacts

from tfx.components.example_gen import driver
from tfx.components.example_gen import input_processor
from tfx.proto import example_gen_pb2
from tfx.proto import range_config_pb2

from image_example_gen.core import artifact
from image_example_gen.core import config as config_lib
from image_example_gen.core import discovery

__all__ = ['ImageFolderDriver']


class _ImageFolderInputProcessor(input_processor.FileBasedInputProcessor):
  """FileBasedInputProcessor whose fingerprint walks matched folders.

  Overrides only public methods of TFX's InputProcessor interface
  (`get_input_fingerprint`, called by the driver after
  `resolve_span_and_version`), and keeps its own copy of its arguments.
  """

  def __init__(self, input_base_uri: str,
               splits: Iterable[example_gen_pb2.Input.Split],
               range_config: Optional[range_config_pb2.RangeConfig] = None):
    self._image_base = input_base_uri
    self._image_splits = list(splits)
    super().__init__(input_base_uri, self._image_splits, range_config)

  def get_input_fingerprint(self, span: int,
                            version: Optional[int]) -> Optional[str]:
    return '\n'.join(
        discovery.fingerprint(
            self._image_base, split.name,
            self.get_pattern_for_span_version(split.pattern, span, version))
        for split in self._image_splits)


class ImageFolderDriver(driver.FileBasedDriver):
  """FileBasedDriver with a fingerprint over every image file, and the
  vocabulary of the previous span."""

  def run(self, execution_info: portable_data_types.ExecutionInfo
         ) -> driver_output_pb2.DriverOutput:
    output = super().run(execution_info)
    previous = self._previous_class_names(execution_info)
    if previous is not None:
      output.exec_properties[
          config_lib.PREVIOUS_CLASS_NAMES_KEY].string_value = json.dumps(previous)
    return output

  def _previous_class_names(
      self, execution_info: portable_data_types.ExecutionInfo
  ) -> Optional[List[str]]:
    """The vocabulary of the newest live Examples of this pipeline node."""
    node_context = (f'{execution_info.pipeline_info.id}.'
                    f'{execution_info.pipeline_node.node_info.id}')
    with self._mlmd_connection as handle:
      context = handle.store.get_context_by_type_and_name('node', node_context)
      if context is None:
        return None
      examples_types = [
          artifact_type.id
          for artifact_type in handle.store.get_artifact_types()
          if artifact_type.name == standard_artifacts.Examples.TYPE_NAME
      ]
      published = [
          candidate for candidate in handle.store.get_artifacts_by_context(
              context.id)
          if candidate.type_id in examples_types and
          candidate.state == metadata_store_pb2.Artifact.LIVE and
          artifact.CLASS_NAMES_PROPERTY in candidate.custom_properties
      ]
    if not published:
      return None
    latest = max(published, key=lambda candidate: candidate.id)
    return list(artifact.class_names_from_property(latest.custom_properties[
        artifact.CLASS_NAMES_PROPERTY].string_value))

  def get_input_processor(
      self,
      splits: Iterable[example_gen_pb2.Input.Split],
      range_config: Optional[range_config_pb2.RangeConfig] = None,
      input_base_uri: Optional[str] = None
  ) -> input_processor.InputProcessor:
    assert input_base_uri
    return _ImageFolderInputProcessor(input_base_uri, splits, range_config)
