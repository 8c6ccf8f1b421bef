"""image_example_gen: a TFX ExampleGen that ingests folders of images.

Public surface:
  ImageExampleGen        the TFX component (imports TFX and TensorFlow)
  Executor               its executor
  ImageFolderToExamples  the Beam PTransform, usable without TFX
  IngestConfig           every ingest option, one typed object
  WriteTFRecords         the streaming TFRecord writer

The TFX parts load on first use, so that Beam workers, which only need the
transform, never import TensorFlow.
"""

from image_example_gen.config import IngestConfig
from image_example_gen.discovery import InputSplit
from image_example_gen.tfrecord_sink import WriteTFRecords
from image_example_gen.transform import COUNTS_KEY
from image_example_gen.transform import HashBucketSplit
from image_example_gen.transform import ImageFolderToExamples
from image_example_gen.transform import SKIPPED_KEY

__all__ = [
    'COUNTS_KEY', 'Executor', 'HashBucketSplit', 'ImageExampleGen',
    'ImageFolderToExamples', 'IngestConfig', 'InputSplit', 'SKIPPED_KEY',
    'WriteTFRecords'
]

_LAZY = {
    'ImageExampleGen': 'image_example_gen.component',
    'Executor': 'image_example_gen.executor',
}


def __getattr__(name):
  if name in _LAZY:
    import importlib  # pylint: disable=g-import-not-at-top
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
