"""Labels agree with tf.keras.utils.image_dataset_from_directory on one folder."""

import json
import pytest
import os
import shutil

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that
from apache_beam.testing.util import equal_to
import tensorflow as tf

from image_example_gen import ImageFolderToExamples
import example_reader
import paths

_TESTDATA = str(paths.TESTDATA)


def _copy_good_images(destination):
  """Copies the decodable images of testdata/images (Keras fails on others)."""
  with open(os.path.join(_TESTDATA, 'MANIFEST.json'), encoding='utf-8') as file:
    entries = json.load(file)
  copied = []
  for entry in entries:
    if entry['expected'] == 'ok' and entry['path'].startswith('images/'):
      relative = entry['path'][len('images/'):]
      target = os.path.join(destination, relative)
      os.makedirs(os.path.dirname(target), exist_ok=True)
      shutil.copyfile(os.path.join(_TESTDATA, entry['path']), target)
      copied.append(relative)
  return copied


def _filename_and_label(record):
  example = example_reader.parse(record)
  return (example_reader.feature_value(example, 'image/filename').decode(),
          example_reader.feature_value(example, 'image/class/label'))


@pytest.mark.slow
def test_labels_match_keras_image_dataset_from_directory(tmp_path):
  root = str(tmp_path / 'photos')
  copied = _copy_good_images(root)
  dataset = tf.keras.utils.image_dataset_from_directory(
      root, labels='inferred', shuffle=False, batch_size=None,
      image_size=(16, 16))
  keras_labels = [int(label) for _, label in dataset]
  keras_files = [os.path.relpath(path, root) for path in dataset.file_paths]
  # Keras lists only known extensions; we also read e.g. extension-less files.
  assert set(keras_files) < set(copied)
  assert len(keras_files) >= 20
  keras_pairs = sorted(zip(keras_files, keras_labels))

  with TestPipeline() as pipeline:
    outputs = pipeline | ImageFolderToExamples(root)
    ours = outputs['train'] | beam.Map(_filename_and_label)
    assert_that(
        ours | beam.Filter(lambda pair: pair[0] in set(keras_files)),
        equal_to(keras_pairs), label='SameLabelsAsKeras')
    assert_that(ours | 'Filenames' >> beam.Map(lambda pair: pair[0]),
                equal_to(copied), label='EveryImageOnce')
