"""Spans under LocalDagRunner: every class keeps its label id across spans.

Span 1 has classes ant and cow; span 2 adds bee; span 3 drops ant. The
vocabulary the component reads back from ML Metadata keeps every old id and
appends new classes, so bee is 2 although it sorts before cow.
"""

import json
import os

from ml_metadata import metadata_store
import pytest
from tfx import v1 as tfx
from tfx.orchestration import metadata

from image_example_gen import ImageExampleGen
from file_tree import write_tree
import example_reader
import image_factory
from pipelines import run_summary

# End-to-end: TFX pipelines and components on real data.
pytestmark = pytest.mark.slow

_PIPELINE = 'spans'


def _add_span(data_root, span, classes):
  write_tree(data_root, {
      f'span-{span}/{name}/{name}{i}.jpg': image_factory.jpeg(
          size=(20 + i, 12 + span))
      for name in classes for i in range(3)
  })


def _run(tmp_path, data_root, **options):
  example_gen = ImageExampleGen(
      input_base=data_root,
      input_config=tfx.proto.Input(splits=[
          tfx.proto.Input.Split(name='all', pattern='span-{SPAN}/*')]),
      output_config=tfx.proto.Output(split_config=tfx.proto.SplitConfig(
          splits=[tfx.proto.SplitConfig.Split(name='all', hash_buckets=1)])),
      **options)
  metadata_path = str(tmp_path / 'metadata.db')
  tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline(
      pipeline_name=_PIPELINE, pipeline_root=str(tmp_path / 'root'),
      components=[example_gen],
      metadata_connection_config=(
          tfx.orchestration.metadata.sqlite_metadata_connection_config(
              metadata_path))))
  store = metadata_store.MetadataStore(
      metadata.sqlite_metadata_connection_config(metadata_path))
  return run_summary.latest_artifact(store, _PIPELINE, 'Examples')


def _labels(examples):
  """{class name: label} of every Example, checking they are consistent."""
  labels = {}
  for example in example_reader.read_split(
      os.path.join(examples.uri, 'Split-all')):
    name = example_reader.feature_value(example, 'image/class/text').decode()
    label = example_reader.feature_value(example, 'image/class/label')
    assert labels.setdefault(name, label) == label
  return labels


def test_label_ids_stay_across_three_spans(tmp_path):
  data_root = str(tmp_path / 'data')
  expected = ['ant', 'cow', 'bee']

  _add_span(data_root, 1, ['ant', 'cow'])
  first = _run(tmp_path, data_root)
  _add_span(data_root, 2, ['ant', 'bee', 'cow'])
  second = _run(tmp_path, data_root)
  _add_span(data_root, 3, ['bee', 'cow'])
  third = _run(tmp_path, data_root)

  spans = [artifact.custom_properties['span'].int_value
           for artifact in (first, second, third)]
  assert spans == [1, 2, 3]
  vocabularies = [json.loads(artifact.custom_properties['class_names']
                             .string_value)
                  for artifact in (first, second, third)]
  assert vocabularies == [['ant', 'cow'], expected, expected]
  assert _labels(first) == {'ant': 0, 'cow': 1}
  assert _labels(second) == {'ant': 0, 'cow': 1, 'bee': 2}
  assert _labels(third) == {'cow': 1, 'bee': 2}  # ant keeps 0, unused.
  with open(os.path.join(third.uri, 'labels.txt'), encoding='utf-8') as file:
    assert file.read().splitlines() == expected


def test_class_names_contradicting_the_published_vocabulary_fail(tmp_path):
  data_root = str(tmp_path / 'data')
  _add_span(data_root, 1, ['ant', 'cow'])
  _run(tmp_path, data_root)
  _add_span(data_root, 2, ['ant', 'bee', 'cow'])

  with pytest.raises(Exception, match=r"class_names \['ant', 'bee', 'cow'\] "
                     r"contradicts the vocabulary \['ant', 'cow'\]"):
    _run(tmp_path, data_root, class_names=['ant', 'bee', 'cow'])
  # Extending it is fine.
  extended = _run(tmp_path, data_root, class_names=['ant', 'cow', 'bee', 'emu'])
  assert _labels(extended) == {'ant': 0, 'cow': 1, 'bee': 2}
