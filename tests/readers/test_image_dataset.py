"""image_dataset and read_class_names on small Examples written per test."""

import io
import os

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf
from tfx.proto import example_gen_pb2

from image_example_gen.core import artifact
from image_example_gen.core import example_encoder
from image_example_gen.core import files
from image_example_gen.core import ingest_report
from image_example_gen.readers.dataset import image_dataset
from image_example_gen.readers.dataset import read_class_names
from image_example_gen.core.image_probe import probe_image
from ingest_runner import ingest_folder
import image_factory


def _rgba_png(size=(40, 30)) -> bytes:
  """A PNG whose alpha runs from 0 to 255 (image_factory's RGBA is opaque)."""
  image = image_factory.crop(size)
  image.putalpha(Image.linear_gradient('L').resize(size))
  return image_factory.encode(image, 'PNG')


# name -> encoded image; every format, and the gray, alpha and palette modes.
_SOURCES = {
    'jpeg': image_factory.jpeg(),
    'jpeg_gray': image_factory.jpeg('L'),
    'png': image_factory.png(),
    'png_gray': image_factory.png('L'),
    'png_rgba': _rgba_png(),
    'png_palette': image_factory.png('P'),
    'png_palette_transparent': image_factory.png_with_transparency('P'),
    'gif_animated': image_factory.animated_gif(),
    'bmp': image_factory.bmp(),
}


def _example(data: bytes, labels=None) -> bytes:
  """A serialized Example of ImageExampleGen; labels: int, list, or None."""
  example = example_encoder.build_example(data, probe_image(data), 'x/y.img')
  if labels is not None:
    labels = [labels] if isinstance(labels, int) else labels
    feature = example.features.feature
    feature[artifact.LABEL].int64_list.value.extend(labels)
    feature[artifact.CLASS_TEXT].bytes_list.value.append(b'x')
  return example.SerializeToString()


def _write_shard(path: str, records) -> None:
  """Gzip when the name ends in .gz, as ImageExampleGen's shards."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with tf.io.TFRecordWriter(path, 'GZIP' if path.endswith('.gz') else '') as w:
    for record in records:
      w.write(record)


def _artifact(root, shards, class_names=None, split='train') -> str:
  """Writes {shard name: records} to root/Split-<split>; with class_names,
  an ingest report beside it. Returns root."""
  root = str(root)
  for name, records in shards.items():
    _write_shard(os.path.join(artifact.split_dir(root, split), name), records)
  if class_names is not None:  # Only the report: no labels.txt.
    report = ingest_report.IngestReport('/in', tuple(class_names), {}, ())
    files.write_text(os.path.join(root, artifact.REPORT_FILE_NAME),
                     report.to_json())
  return root


def _labelled(count: int):
  """`count` records labelled 0..count-1 (the label identifies the record)."""
  return [_example(image_factory.png(size=(8, 6)), labels=i)
          for i in range(count)]


def _decode_expected(data: bytes, channels: int):
  """What the docstring promises before resizing: decode_image, except
  where it refuses the channel count (JPEG/GIF to 4, GIF/BMP to 1)."""
  image_format = probe_image(data).format
  if channels == 4 and image_format in ('jpeg', 'gif'):
    rgb = tf.io.decode_image(data, channels=3, expand_animations=False)
    return tf.concat([rgb, tf.fill([*rgb.shape[:2], 1], np.uint8(255))], -1)
  if channels == 1 and image_format in ('gif', 'bmp'):
    return tf.image.rgb_to_grayscale(
        tf.io.decode_image(data, channels=3, expand_animations=False))
  return tf.io.decode_image(data, channels=channels, expand_animations=False)


@pytest.mark.parametrize('channels', [1, 3, 4])
def test_every_format_and_mode_decodes_and_resizes(tmp_path, channels):
  uri = _artifact(tmp_path, {'data': [_example(data)
                                      for data in _SOURCES.values()]})
  (images,) = list(image_dataset(uri, image_size=(24, 20), channels=channels,
                                 batch_size=len(_SOURCES)))
  assert images.dtype == tf.float32
  assert images.shape == (len(_SOURCES), 24, 20, channels)
  for image, (name, data) in zip(images.numpy(), _SOURCES.items()):
    expected = tf.image.resize(_decode_expected(data, channels), (24, 20))
    np.testing.assert_allclose(image, expected.numpy(), atol=1e-4,
                               err_msg=name)
  assert images.numpy().min() >= 0 and images.numpy().max() <= 255
  assert images.numpy().max() > 1  # [0, 255], not rescaled to [0, 1]


def test_gif_gives_its_first_frame(tmp_path):
  data = image_factory.animated_gif()
  frames = tf.io.decode_gif(data).numpy().astype(np.float32)
  uri = _artifact(tmp_path, {'data': [_example(data)]})
  (images,) = list(image_dataset(uri, image_size=(30, 40)))
  np.testing.assert_allclose(images[0], frames[0])
  assert np.abs(images[0] - frames[1]).max() > 50


def test_alpha_and_gray_at_native_size_match_pillow(tmp_path):
  """Alpha dropped (not composited) for 3 channels, kept for 4; gray
  repeated to RGB; JPEG gets an opaque alpha. Checked against Pillow."""
  rgba, gray = _rgba_png(), image_factory.png('L')
  uri = _artifact(tmp_path, {'data': [_example(rgba), _example(gray),
                                      _example(image_factory.jpeg())]})
  pixels = lambda data: np.asarray(Image.open(io.BytesIO(data)),
                                   np.float32)
  rgb3, gray3, _ = list(image_dataset(uri, image_size=(30, 40),
                                      batch_size=3))[0].numpy()
  rgba4, gray4, jpeg4 = list(image_dataset(uri, image_size=(30, 40),
                                           channels=4, batch_size=3))[0].numpy()
  assert pixels(rgba)[..., 3].min() < 10  # really translucent
  np.testing.assert_array_equal(rgb3, pixels(rgba)[..., :3])
  np.testing.assert_array_equal(rgba4, pixels(rgba))
  np.testing.assert_array_equal(gray3,
                                np.repeat(pixels(gray)[..., None], 3, -1))
  assert (gray4[..., 3] == 255).all() and (jpeg4[..., 3] == 255).all()


def test_pixels_match_keras_image_dataset_from_directory(tmp_path):
  files = {'a.jpg': image_factory.jpeg(), 'b.png': image_factory.png('P'),
           'c.bmp': image_factory.bmp()}
  for name, data in files.items():
    (tmp_path / 'photos' / 'cls').mkdir(parents=True, exist_ok=True)
    (tmp_path / 'photos' / 'cls' / name).write_bytes(data)
  keras = tf.keras.utils.image_dataset_from_directory(
      str(tmp_path / 'photos'), image_size=(20, 16), shuffle=False,
      batch_size=3)
  uri = _artifact(tmp_path / 'out',
                  {'data': [_example(data, 0) for data in files.values()]})
  (keras_images, _), = list(keras)
  (images, _), = list(image_dataset(uri, image_size=(20, 16), batch_size=3))
  np.testing.assert_array_equal(images, keras_images)


@pytest.mark.parametrize('names', [['data.gz'], ['data-00000-of-00001'],
                                   ['a.gz', 'b', 'c.gz']])
def test_gzip_uncompressed_and_mixed_shards(tmp_path, names):
  records = _labelled(7)
  shards = {name: records[i::len(names)] for i, name in enumerate(names)}
  uri = _artifact(tmp_path, shards)
  labels = np.concatenate([labels for _, labels in image_dataset(
      uri, image_size=(6, 8), batch_size=3)])
  assert sorted(labels) == list(range(7))


def test_label_modes(tmp_path):
  png = image_factory.png(size=(8, 6))
  uri = _artifact(tmp_path, {'data': [_example(png, 2), _example(png, 0)]})
  batch = lambda **options: list(image_dataset(
      uri, image_size=(6, 8), batch_size=2, **options))[0]

  images, labels = batch()
  assert labels.dtype == tf.int64 and labels.numpy().tolist() == [2, 0]
  assert images.shape == (2, 6, 8, 3)
  _, labels = batch(label_mode='categorical', num_classes=4)
  assert labels.dtype == tf.float32
  np.testing.assert_array_equal(labels, [[0, 0, 1, 0], [1, 0, 0, 0]])
  images_only = batch(label_mode=None)
  assert isinstance(images_only, tf.Tensor) and images_only.shape == (2, 6, 8,
                                                                      3)


def test_multi_hot_labels(tmp_path):
  png = image_factory.png(size=(8, 6))
  uri = _artifact(tmp_path, {'data': [_example(png, [0, 3]), _example(png, [2]),
                                      _example(png, [])]})
  with pytest.raises(ValueError, match="several|multi_hot"):
    image_dataset(uri, label_mode='int')
  _, labels = list(image_dataset(uri, image_size=(6, 8), label_mode='multi_hot',
                                 num_classes=4))[0]
  assert labels.dtype == tf.float32
  np.testing.assert_array_equal(labels, [[1, 0, 0, 1], [0, 0, 1, 0],
                                         [0, 0, 0, 0]])


def test_num_classes_defaults_to_the_report(tmp_path):
  uri = _artifact(tmp_path, {'data': _labelled(2)},
                  class_names=['ant', 'bee', 'cow', 'dog', 'eel'])
  _, labels = list(image_dataset(uri, image_size=(6, 8),
                                 label_mode='categorical'))[0]
  np.testing.assert_array_equal(labels, np.eye(5)[:2])


def test_one_hot_without_num_classes_or_report_raises(tmp_path):
  uri = _artifact(tmp_path, {'data': _labelled(2)})
  for label_mode in ('categorical', 'multi_hot'):
    with pytest.raises(ValueError, match='pass num_classes'):
      image_dataset(uri, label_mode=label_mode)
  with pytest.raises(ValueError, match='pass num_classes'):
    image_dataset([f'{uri}/Split-train/*'], label_mode='categorical')


def test_label_out_of_range_fails(tmp_path):
  uri = _artifact(tmp_path, {'data': _labelled(3)})
  dataset = image_dataset(uri, image_size=(6, 8), label_mode='categorical',
                          num_classes=2)
  with pytest.raises(tf.errors.InvalidArgumentError, match='out of range'):
    list(dataset)


def test_unlabeled_examples_give_images_only(tmp_path):
  uri = _artifact(tmp_path, {'data': [_example(image_factory.jpeg())] * 3})
  for label_mode in ('int', 'categorical'):
    (images,) = list(image_dataset(uri, image_size=(6, 8),
                                   label_mode=label_mode))
    assert isinstance(images, tf.Tensor) and images.shape == (3, 6, 8, 3)


def test_empty_shards(tmp_path):
  """The first record decides labels even after an empty shard; an empty
  split gives an empty dataset of (images, labels)."""
  uri = _artifact(tmp_path / 'a', {'a': [], 'b.gz': _labelled(2)})
  _, labels = list(image_dataset(uri, image_size=(6, 8)))[0]
  assert labels.numpy().tolist() == [0, 1]
  empty = image_dataset(_artifact(tmp_path / 'b', {'a': []}), image_size=(6, 8))
  assert len(empty.element_spec) == 2 and not list(empty)


def test_file_patterns_as_a_trainer_gets_them(tmp_path):
  uri = _artifact(tmp_path, {'a.gz': _labelled(3)}, class_names=['x', 'y'])
  _artifact(tmp_path, {'b': _labelled(2)}, split='eval')
  patterns = [os.path.join(uri, 'Split-eval', '*')]
  labels = [labels for _, labels in image_dataset(patterns, image_size=(6, 8))]
  assert labels[0].numpy().tolist() == [0, 1]
  assert read_class_names(patterns) == ['x', 'y']


def test_shuffle_batches_and_drop_remainder(tmp_path):
  uri = _artifact(tmp_path, {'a.gz': _labelled(10), 'b': _labelled(10)})
  read = lambda **options: [labels.numpy().tolist() for _, labels in
                            image_dataset(uri, image_size=(6, 8), batch_size=6,
                                          **options)]
  in_order = read()
  shuffled = read(shuffle=True, seed=3)
  assert [len(batch) for batch in in_order] == [6, 6, 6, 2]
  assert sum(shuffled, []) != sum(in_order, [])
  assert sorted(sum(shuffled, [])) == sorted(sum(in_order, []))
  assert read(shuffle=True, seed=3) == shuffled
  dataset = image_dataset(uri, image_size=(6, 8), batch_size=6,
                          drop_remainder=True)
  assert dataset.element_spec[0].shape == (6, 6, 8, 3)
  assert len(list(dataset)) == 3


def test_uri_without_the_split_names_its_splits(tmp_path):
  uri = _artifact(tmp_path, {'data': _labelled(1)})
  _artifact(tmp_path, {'data': _labelled(1)}, split='eval')
  with pytest.raises(ValueError, match=r"no Split-test .*splits: eval, train"):
    image_dataset(uri, 'test')
  missing = str(tmp_path / 'nowhere')
  with pytest.raises(ValueError, match=f"'{missing}'.*not a folder"):
    image_dataset(missing)


def test_patterns_matching_nothing_are_named(tmp_path):
  uri = _artifact(tmp_path, {'data': _labelled(1)})
  empty = os.path.join(uri, 'Split-eval', '*')
  with pytest.raises(ValueError, match='No file matches') as error:
    image_dataset([os.path.join(uri, 'Split-train', '*'), empty])
  assert empty in str(error.value)
  assert 'Split-train' not in str(error.value)


def test_invalid_options_raise(tmp_path):
  uri = _artifact(tmp_path, {'data': _labelled(1)})
  for options, message in [({'channels': 2}, 'channels'),
                           ({'label_mode': 'binary'}, 'label_mode'),
                           ({'image_size': (0, 4)}, 'image_size'),
                           ({'batch_size': 0}, 'batch_size')]:
    with pytest.raises(ValueError, match=message):
      image_dataset(uri, **options)


@pytest.mark.slow
def test_reads_an_artifact_written_by_the_executor(make_tree, tmp_path):
  files = {'train/ant/a1.jpg': image_factory.jpeg(),
           'train/bee/b1.png': image_factory.png('RGBA'),
           'eval/ant/a2.gif': image_factory.animated_gif(size=(50, 70)),
           'eval/bee/b2.bmp': image_factory.bmp(size=(64, 64)),
           'eval/cow/c1.jpg': image_factory.jpeg('L', size=(90, 30))}
  examples = ingest_folder(
      make_tree(files), str(tmp_path / 'out'),
      input_config=example_gen_pb2.Input(splits=[
          example_gen_pb2.Input.Split(name='train', pattern='train/*'),
          example_gen_pb2.Input.Split(name='eval', pattern='eval/*')]))

  (images, labels), = list(image_dataset(examples.uri, 'eval',
                                         image_size=(64, 64), channels=3,
                                         batch_size=16))
  assert images.shape == (3, 64, 64, 3) and images.dtype == tf.float32
  assert sorted(labels.numpy().tolist()) == [0, 1, 2]
  by_label = {0: 'eval/ant/a2.gif', 1: 'eval/bee/b2.bmp', 2: 'eval/cow/c1.jpg'}
  for image, label in zip(images.numpy(), labels.numpy()):
    expected = tf.image.resize(tf.io.decode_image(
        files[by_label[label]], channels=3, expand_animations=False), (64, 64))
    np.testing.assert_allclose(image, expected.numpy(), atol=1e-4)
  assert read_class_names(examples) == ['ant', 'bee', 'cow']
  (_, train_labels), = list(image_dataset(examples, label_mode='categorical'))
  assert train_labels.shape == (2, 3)
