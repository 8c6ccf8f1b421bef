"""The "obvious" custom ExampleGen executor a TFX user would write for images.

It follows the TFX guide for custom file-based ExampleGens: subclass
BaseExampleGenExecutor and return a PTransform that turns each input split into
tf.train.Examples; TFX's own `Do` splits and writes them (its `WriteSplit`
reshuffles the serialized records, then writes gzip TFRecords).

Use it as

    FileBasedExampleGen(
        input_base=images_dir,
        input_config=example_gen_pb2.Input(splits=[
            example_gen_pb2.Input.Split(name='images', pattern='*/*')]),
        custom_executor_spec=executor_spec.BeamExecutorSpec(Executor))

It lives in an importable module because the workers of Beam's
multi_processing DirectRunner import the functions they run.
"""

import os
from typing import Any, Dict, Mapping

import apache_beam as beam
import tensorflow as tf
from tfx.components.example_gen import base_example_gen_executor
from tfx.types import standard_component_specs

__all__ = ['Executor', 'image_example']


def image_example(data: bytes, label: int, filename: str) -> tf.train.Example:
  """The Example of one image: encoded bytes, class label, file name."""
  return tf.train.Example(features=tf.train.Features(feature={
      'image/encoded': tf.train.Feature(
          bytes_list=tf.train.BytesList(value=[data])),
      'image/class/label': tf.train.Feature(
          int64_list=tf.train.Int64List(value=[label])),
      'image/filename': tf.train.Feature(
          bytes_list=tf.train.BytesList(value=[filename.encode('utf-8')])),
  }))


def _class_folder(path: str) -> str:
  return os.path.basename(os.path.dirname(path))


def _read_example(path: str, labels: Mapping[str, int]) -> tf.train.Example:
  with tf.io.gfile.GFile(path, 'rb') as file:
    data = file.read()
  class_name = _class_folder(path)
  return image_example(data, labels[class_name],
                       f'{class_name}/{os.path.basename(path)}')


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(tf.train.Example)
def _ImagesToExample(pipeline: beam.Pipeline, exec_properties: Dict[str, Any],
                     split_pattern: str) -> beam.pvalue.PCollection:
  """Reads the `<class>/<image>` files matching split_pattern as Examples."""
  input_base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
  paths = sorted(tf.io.gfile.glob(os.path.join(input_base, split_pattern)))
  class_names = sorted({_class_folder(path) for path in paths})
  labels = {name: index for index, name in enumerate(class_names)}
  return (pipeline
          | 'ListFiles' >> beam.Create(paths)
          | 'ReadImage' >> beam.Map(_read_example, labels))


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
  """Image folders to Examples, written by TFX's default `Do`."""

  def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
    return _ImagesToExample
