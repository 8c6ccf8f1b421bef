"""Reads written Examples back with TensorFlow, as a user's tf.data code would."""

import glob
import os
from typing import Dict, List

import tensorflow as tf


def read_split(split_dir: str) -> List[tf.train.Example]:
  """All Examples of a `Split-*` folder, gzip or uncompressed by file name."""
  examples = []
  for path in sorted(glob.glob(os.path.join(split_dir, '*'))):
    compression = 'GZIP' if path.endswith('.gz') else ''
    for record in tf.data.TFRecordDataset(path, compression_type=compression):
      examples.append(tf.train.Example.FromString(record.numpy()))
  return examples


def parse(serialized: bytes) -> tf.train.Example:
  return tf.train.Example.FromString(serialized)


def by_filename(examples) -> Dict[str, tf.train.Example]:
  return {
      example.features.feature['image/filename'].bytes_list.value[0].decode():
      example for example in examples
  }


def feature_value(example: tf.train.Example, key: str):
  """The single value of a feature: int, or bytes."""
  feature = example.features.feature[key]
  if feature.HasField('int64_list'):
    return feature.int64_list.value[0]
  return feature.bytes_list.value[0]
