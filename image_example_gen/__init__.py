"""image_example_gen: a TFX ExampleGen that ingests folders of images.

Public surface:
  run_ingest             the ingest engine: one call runs a whole ingest
  ImageExampleGen        the TFX component (imports TFX and TensorFlow)
  Executor               its executor (runs run_ingest)
  ImageStatisticsGen     TFX's StatisticsGen with the image schema
  image_dataset          reads the Examples as a tf.data.Dataset of images
  read_class_names       the label vocabulary of an Examples artifact
  ImageFolderToExamples  the Beam PTransform, usable without TFX
  IngestConfig           every ingest option, one typed object
  WriteTFRecords         the streaming TFRecord writer

The package is layered; each folder's docstring says what it may import:

  core/         plain Python: options, listing, labels, metadata, image checks,
                Example encoding, the artifact's format (no Beam pipeline
                API, no TensorFlow, no TFX)
  beam/         the Beam pipeline: transform, manifest, sink, progress, and
                the engine (run_ingest)
  components/   the TFX layer: component, driver, executor, statistics, schema
  readers/      TensorFlow readers: decode and image_dataset
  cli/          the image-example-gen command
  inspection/   summaries and pictures of an artifact

Everything but IngestConfig loads on first use: Beam workers, which need only
the transform, never import TensorFlow, and the `image-example-gen` command
starts without importing Beam.
"""

from image_example_gen.core.config import IngestConfig

__all__ = [
    'COUNTS_KEY', 'DUPLICATES_KEY', 'Executor', 'HashBucketSplit',
    'ImageExampleGen', 'ImageFolderToExamples', 'ImageStatisticsGen',
    'IngestConfig', 'InputSplit', 'SKIPPED_KEY', 'WriteTFRecords',
    'image_dataset', 'read_class_names', 'run_ingest'
]

_LAZY = {
    'COUNTS_KEY': 'image_example_gen.beam.transform',
    'DUPLICATES_KEY': 'image_example_gen.beam.transform',
    'Executor': 'image_example_gen.components.executor',
    'HashBucketSplit': 'image_example_gen.beam.transform',
    'ImageExampleGen': 'image_example_gen.components.component',
    'ImageFolderToExamples': 'image_example_gen.beam.transform',
    'ImageStatisticsGen':
        'image_example_gen.components.statistics_gen.component',
    'InputSplit': 'image_example_gen.core.discovery',
    'SKIPPED_KEY': 'image_example_gen.beam.transform',
    'WriteTFRecords': 'image_example_gen.beam.sink',
    'image_dataset': 'image_example_gen.readers.dataset',
    'read_class_names': 'image_example_gen.readers.dataset',
    'run_ingest': 'image_example_gen.beam.engine',
}


def __getattr__(name):
  if name in _LAZY:
    import importlib  # pylint: disable=g-import-not-at-top
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
  return sorted(set(globals()) | set(__all__))
