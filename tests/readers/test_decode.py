"""Training and serving see the same pixels: one decode for both.

`image_dataset` (training, evaluation) and the Trainer's serving signature
(`pipelines.image_trainer.serving_images`) both go through
`readers.decode.decode_and_resize`. This test feeds the same JPEG, PNG, GIF
and BMP files through both paths, from Examples the engine wrote, and asserts
identical pixels.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

import image_factory
from image_example_gen import IngestConfig
from image_example_gen import image_dataset
from image_example_gen import run_ingest
from image_example_gen.core import artifact
from image_example_gen.core import discovery
from image_example_gen.readers import decode
from pipelines import image_trainer

_FILES = {
    'a/photo.jpg': image_factory.jpeg(size=(97, 61)),
    'a/gray.png': image_factory.png(mode='L', size=(50, 80)),
    'a/alpha.png': image_factory.png(mode='RGBA', size=(33, 33)),
    'a/palette.png': image_factory.png_with_transparency('P', size=(21, 40)),
    'b/first_frame.gif': image_factory.animated_gif(size=(45, 30)),
    'b/picture.bmp': image_factory.bmp(size=(64, 20)),
    'b/small.jpg': image_factory.jpeg(mode='L', size=(8, 5)),
}


@pytest.fixture(name='examples_uri', scope='module')
def examples_uri_fixture(tmp_path_factory):
  root = tmp_path_factory.mktemp('images')
  for relative, data in _FILES.items():
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
  uri = str(tmp_path_factory.mktemp('examples'))
  run_ingest(str(root), uri, input_splits=[discovery.InputSplit('train', '*')],
             output_splits=None, config=IngestConfig(labels='none'))
  return uri


@pytest.mark.slow
def test_training_and_serving_decode_identical_pixels(examples_uri):
  [shard] = tf.io.gfile.glob(
      os.path.join(artifact.split_dir(examples_uri, 'train'), '*'))
  serialized = [record.numpy() for record in tf.data.TFRecordDataset(shard)]
  formats = sorted(
      tf.train.Example.FromString(record).features.feature[
          artifact.FORMAT].bytes_list.value[0].decode()
      for record in serialized)
  assert formats == ['bmp', 'gif', 'jpeg', 'jpeg', 'png', 'png', 'png']

  training = np.concatenate([
      batch.numpy() for batch in image_dataset(
          examples_uri, 'train', image_size=image_trainer.IMAGE_SIZE,
          channels=image_trainer.CHANNELS, batch_size=4, label_mode=None,
          deterministic=True)])
  serving = image_trainer.serving_images(tf.constant(serialized)).numpy()

  assert training.shape == (len(_FILES), *image_trainer.IMAGE_SIZE, 3)
  np.testing.assert_array_equal(training, serving)
  # Not trivially equal: real, different pictures.
  assert len({image.tobytes() for image in training}) == len(_FILES)


def test_decode_and_resize_is_the_decoder_plus_bilinear_resize():
  data = image_factory.png(size=(40, 30))
  expected = tf.image.resize(
      tf.io.decode_image(data, channels=3, expand_animations=False), (16, 12))

  got = decode.decode_and_resize(tf.constant(data), (16, 12), 3)

  np.testing.assert_array_equal(got.numpy(), expected.numpy())
