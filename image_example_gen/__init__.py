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

Everything but IngestConfig loads on first use: Beam workers, which need only
the transform, never import TensorFlow, and the `image-example-gen` command
starts without importing Beam.
"""

from image_example_gen.config import IngestConfig

__all__ = [
    'COUNTS_KEY', 'DUPLICATES_KEY', 'Executor', 'HashBucketSplit', 'ImageExampleGen',
    'ImageFolderToExamples', 'ImageStatisticsGen', 'IngestConfig',
    'InputSplit', 'SKIPPED_KEY', 'WriteTFRecords', 'image_dataset',
    'read_class_names'
]

_LAZY = {
    'COUNTS_KEY': 'image_example_gen.transform',
    'DUPLICATES_KEY': 'image_example_gen.transform',
    'Executor': 'image_example_gen.executor',
    'HashBucketSplit': 'image_example_gen.transform',
    'ImageExampleGen': 'image_example_gen.component',
    'ImageFolderToExamples': 'image_example_gen.transform',
    'ImageStatisticsGen': 'image_example_gen.statistics_gen.component',
    'InputSplit': 'image_example_gen.discovery',
    'SKIPPED_KEY': 'image_example_gen.transform',
    'WriteTFRecords': 'image_example_gen.tfrecord_sink',
    'image_dataset': 'image_example_gen.dataset',
    'read_class_names': 'image_example_gen.dataset',
}


def __getattr__(name):
  if name in _LAZY:
    import importlib  # pylint: disable=g-import-not-at-top
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
  return sorted(set(globals()) | set(__all__))
