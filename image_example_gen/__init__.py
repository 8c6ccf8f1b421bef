"""image_example_gen: a TFX ExampleGen that ingests folders of images.

Public surface:
  ImageExampleGen        the TFX component (imports TFX and TensorFlow)
  Executor               its executor
  ImageStatisticsGen     TFX's StatisticsGen with the image schema
  image_dataset          reads the Examples as a tf.data.Dataset of images
  read_class_names       the label vocabulary of an Examples artifact
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
    'ImageFolderToExamples', 'ImageStatisticsGen', 'IngestConfig',
    'InputSplit', 'SKIPPED_KEY', 'WriteTFRecords', 'image_dataset',
    'read_class_names'
]

_LAZY = {
    'ImageExampleGen': 'image_example_gen.component',
    'Executor': 'image_example_gen.executor',
    'ImageStatisticsGen': 'image_example_gen.statistics_gen.component',
    'image_dataset': 'image_example_gen.dataset',
    'read_class_names': 'image_example_gen.dataset',
}


def __getattr__(name):
  if name in _LAZY:
    import importlib  # pylint: disable=g-import-not-at-top
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
