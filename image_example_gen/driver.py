"""The ImageExampleGen driver: TFX's span/version logic, recursive fingerprint.

TFX's FileBasedDriver fingerprints what a split pattern's glob matches; for
`<class>/<image>` folders that is the class folders, whose size and mtime do not
change when an image inside them does. This driver resolves {SPAN}/{VERSION}
exactly as TFX does, then fingerprints every file the ingest would read.
"""

from typing import Iterable, Optional

from tfx.components.example_gen import driver
from tfx.components.example_gen import input_processor
from tfx.proto import example_gen_pb2
from tfx.proto import range_config_pb2

from image_example_gen import discovery

__all__ = ['ImageFolderDriver']


class _ImageFolderInputProcessor(input_processor.FileBasedInputProcessor):
  """FileBasedInputProcessor whose fingerprint walks matched folders."""

  def __init__(self, input_base_uri: str,
               splits: Iterable[example_gen_pb2.Input.Split],
               range_config: Optional[range_config_pb2.RangeConfig] = None):
    self._splits_for_fingerprint = list(splits)
    super().__init__(input_base_uri, self._splits_for_fingerprint,
                     range_config)

  def resolve_span_and_version(self):
    span, version = super().resolve_span_and_version()
    self._fingerprint = '\n'.join(
        discovery.fingerprint(
            self._input_base_uri, split.name,
            self.get_pattern_for_span_version(split.pattern, span, version))
        for split in self._splits_for_fingerprint)
    return span, version


class ImageFolderDriver(driver.FileBasedDriver):
  """FileBasedDriver with a fingerprint over every image file."""

  def get_input_processor(
      self,
      splits: Iterable[example_gen_pb2.Input.Split],
      range_config: Optional[range_config_pb2.RangeConfig] = None,
      input_base_uri: Optional[str] = None
  ) -> input_processor.InputProcessor:
    assert input_base_uri
    return _ImageFolderInputProcessor(input_base_uri, splits, range_config)
