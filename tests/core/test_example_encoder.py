"""Tests of example_encoder and example_proto against TensorFlow's own Example.

build_example must write exactly the documented feature keys, and the
Example classes of example_proto (declared without importing TensorFlow)
must be wire-compatible with tf.train.Example: TF parses what they write,
and both serialize the same Example to the same bytes.
"""

import hashlib

import pytest
import tensorflow as tf
from google.protobuf import text_encoding
from google.protobuf import text_format

import image_factory as factory
from image_example_gen.core import artifact
from image_example_gen.core import example_encoder
from image_example_gen.core import example_proto
from image_example_gen.core.image_probe import ImageInfo

# Built by image_factory.png('RGBA', size=(40, 30)): 40 wide, 30 high, RGBA.
RGBA_PNG_INFO = ImageInfo(format='png', height=30, width=40, channels=4)
UNICODE_PATH = 'Gärten am See/blüte 01 – 東京.png'
UNICODE_CLASS = 'Gärten am See'


@pytest.fixture(name='png_bytes')
def fixture_png_bytes():
  return factory.png('RGBA', size=(40, 30))


def roundtrip_through_tensorflow(example) -> tf.train.Example:
  return tf.train.Example.FromString(example.SerializeToString())


def expected_example(data: bytes, relative_path: str, label=None,
                     class_name=None) -> tf.train.Example:
  """The documented Example of RGBA_PNG_INFO, written as a text proto."""
  def entry(key, kind, value):
    return f'feature {{ key: "{key}" value {{ {kind} {{ value: {value} }} }} }}'

  def quoted(raw: bytes):
    return '"' + text_encoding.CEscape(raw, as_utf8=False) + '"'

  info = RGBA_PNG_INFO
  entries = [
      entry('image/encoded', 'bytes_list', quoted(data)),
      entry('image/format', 'bytes_list', quoted(info.format.encode())),
      entry('image/height', 'int64_list', info.height),
      entry('image/width', 'int64_list', info.width),
      entry('image/channels', 'int64_list', info.channels),
      entry('image/source_format', 'bytes_list', quoted(info.format.encode())),
      entry('image/original/height', 'int64_list', info.height),
      entry('image/original/width', 'int64_list', info.width),
      entry('image/filename', 'bytes_list',
            quoted(relative_path.encode('utf-8'))),
      entry('image/key/sha256', 'bytes_list',
            quoted(hashlib.sha256(data).hexdigest().encode())),
  ]
  if label is not None:
    entries += [
        entry('image/class/label', 'int64_list', label),
        entry('image/class/text', 'bytes_list',
              quoted(class_name.encode('utf-8'))),
    ]
  return text_format.Parse('features { %s }' % ' '.join(entries),
                           tf.train.Example())


def tensorflow_example(data: bytes, info: ImageInfo, relative_path: str,
                       label=None, class_name=None) -> tf.train.Example:
  """The same Example, built with TensorFlow's own classes."""
  def as_bytes(value):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

  def as_int(value):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))

  feature = {
      'image/encoded': as_bytes(data),
      'image/format': as_bytes(info.format.encode()),
      'image/height': as_int(info.height),
      'image/width': as_int(info.width),
      'image/channels': as_int(info.channels),
      'image/source_format': as_bytes(info.format.encode()),
      'image/original/height': as_int(info.height),
      'image/original/width': as_int(info.width),
      'image/filename': as_bytes(relative_path.encode('utf-8')),
      'image/key/sha256': as_bytes(hashlib.sha256(data).hexdigest().encode()),
  }
  if label is not None:
    feature['image/class/label'] = as_int(label)
    feature['image/class/text'] = as_bytes(class_name.encode('utf-8'))
  return tf.train.Example(features=tf.train.Features(feature=feature))


# --- The Example's content -----------------------------------------------------


def test_labeled_example_is_exactly_the_documented_proto(png_bytes):
  example = example_encoder.build_example(
      png_bytes, RGBA_PNG_INFO, 'flower/petals.png', label=2,
      class_name='flower')

  assert roundtrip_through_tensorflow(example) == expected_example(
      png_bytes, 'flower/petals.png', label=2, class_name='flower')


def test_unlabeled_example_is_exactly_the_documented_proto(png_bytes):
  example = example_encoder.build_example(png_bytes, RGBA_PNG_INFO,
                                          'petals.png')

  parsed = roundtrip_through_tensorflow(example)

  assert parsed == expected_example(png_bytes, 'petals.png')
  assert not [key for key in parsed.features.feature
              if key.startswith('image/class/')]


def test_key_constants_are_the_documented_keys():
  assert (artifact.ENCODED, artifact.FORMAT,
          artifact.HEIGHT, artifact.WIDTH,
          artifact.CHANNELS, artifact.FILENAME,
          artifact.LABEL, artifact.CLASS_TEXT,
          artifact.SHA256) == (
              'image/encoded', 'image/format', 'image/height', 'image/width',
              'image/channels', 'image/filename', 'image/class/label',
              'image/class/text', 'image/key/sha256')


def test_label_zero_still_writes_the_class_features(png_bytes):
  example = example_encoder.build_example(
      png_bytes, RGBA_PNG_INFO, 'a/x.png', label=0, class_name='a')

  feature = roundtrip_through_tensorflow(example).features.feature

  assert list(feature['image/class/label'].int64_list.value) == [0]
  assert list(feature['image/class/text'].bytes_list.value) == [b'a']


def test_encoded_image_is_byte_identical_and_sha256_matches_hashlib(png_bytes):
  example = example_encoder.build_example(png_bytes, RGBA_PNG_INFO, 'x.png')

  feature = roundtrip_through_tensorflow(example).features.feature

  assert feature['image/encoded'].bytes_list.value[0] == png_bytes
  sha256 = feature['image/key/sha256'].bytes_list.value[0].decode('ascii')
  assert sha256 == hashlib.sha256(png_bytes).hexdigest()


def test_unicode_filename_and_class_round_trip_as_utf8(png_bytes):
  example = example_encoder.build_example(
      png_bytes, RGBA_PNG_INFO, UNICODE_PATH, label=1,
      class_name=UNICODE_CLASS)

  feature = roundtrip_through_tensorflow(example).features.feature

  filename = feature['image/filename'].bytes_list.value[0]
  assert filename == UNICODE_PATH.encode('utf-8')
  assert filename.decode('utf-8') == UNICODE_PATH
  class_text = feature['image/class/text'].bytes_list.value[0]
  assert class_text.decode('utf-8') == UNICODE_CLASS


def test_tensorflow_parses_the_example_and_decodes_its_image(png_bytes):
  example = example_encoder.build_example(
      png_bytes, RGBA_PNG_INFO, 'flower/petals.png', label=3,
      class_name='flower')
  spec = {
      'image/encoded': tf.io.FixedLenFeature([], tf.string),
      'image/format': tf.io.FixedLenFeature([], tf.string),
      'image/height': tf.io.FixedLenFeature([], tf.int64),
      'image/width': tf.io.FixedLenFeature([], tf.int64),
      'image/channels': tf.io.FixedLenFeature([], tf.int64),
      'image/class/label': tf.io.FixedLenFeature([], tf.int64),
  }

  parsed = tf.io.parse_single_example(example.SerializeToString(), spec)
  image = tf.io.decode_image(parsed['image/encoded'], expand_animations=False)

  assert parsed['image/format'].numpy() == b'png'
  assert int(parsed['image/class/label']) == 3
  assert tuple(image.shape) == (int(parsed['image/height']),
                                int(parsed['image/width']),
                                int(parsed['image/channels']))


# --- Wire compatibility with tf.train.Example ----------------------------------


@pytest.mark.parametrize('labeled', [True, False], ids=['labeled', 'unlabeled'])
def test_serialization_equals_tensorflows_example(png_bytes, labeled):
  label, class_name = (4, UNICODE_CLASS) if labeled else (None, None)
  ours = example_encoder.build_example(
      png_bytes, RGBA_PNG_INFO, UNICODE_PATH, label=label,
      class_name=class_name)
  theirs = tensorflow_example(png_bytes, RGBA_PNG_INFO, UNICODE_PATH,
                              label=label, class_name=class_name)

  assert ours.SerializeToString(deterministic=True) == (
      theirs.SerializeToString(deterministic=True))


def test_our_classes_parse_what_tensorflow_writes(png_bytes):
  theirs = tensorflow_example(png_bytes, RGBA_PNG_INFO, 'a/x.png', label=1,
                              class_name='a')

  ours = example_proto.Example.FromString(theirs.SerializeToString())

  assert ours == example_encoder.build_example(
      png_bytes, RGBA_PNG_INFO, 'a/x.png', label=1, class_name='a')


def test_float_list_is_wire_compatible_too():
  ours = example_proto.Example()
  ours.features.feature['score'].float_list.value.extend([0.5, -2.25])
  theirs = tf.train.Example()
  theirs.features.feature['score'].float_list.value.extend([0.5, -2.25])

  assert ours.SerializeToString() == theirs.SerializeToString()
  assert tf.train.Example.FromString(ours.SerializeToString()) == theirs


def field_signature(descriptor):
  """(name, number, type, label, message type, oneof) of each field."""
  return sorted(
      (field.name, field.number, field.type, field.label,
       field.message_type.full_name if field.message_type else None,
       field.containing_oneof.name if field.containing_oneof else None)
      for field in descriptor.fields)


@pytest.mark.parametrize('name', ['Example', 'Features', 'Feature'])
def test_messages_declare_the_same_fields_as_tensorflows(name):
  ours = getattr(example_proto, name).DESCRIPTOR
  theirs = getattr(tf.train, name).DESCRIPTOR

  assert ours.full_name == theirs.full_name
  assert field_signature(ours) == field_signature(theirs)


@pytest.mark.parametrize('name', ['BytesList', 'FloatList', 'Int64List'])
def test_list_messages_declare_the_same_fields_as_tensorflows(name):
  ours = example_proto.Feature.DESCRIPTOR.fields_by_name[
      {'BytesList': 'bytes_list', 'FloatList': 'float_list',
       'Int64List': 'int64_list'}[name]].message_type
  theirs = getattr(tf.train, name).DESCRIPTOR

  assert ours.full_name == theirs.full_name
  assert field_signature(ours) == field_signature(theirs)


def test_our_classes_are_distinct_from_tensorflows():
  # A private descriptor pool: no clash with TF's classes in one process.
  assert example_proto.Example is not tf.train.Example
  assert not isinstance(example_proto.Example(), type(tf.train.Example()))
