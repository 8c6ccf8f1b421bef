"""ImageStatisticsGen, SchemaGen and ExampleValidator executors on real Examples.

The Examples come from ImageExampleGen's executor; each TFX executor runs the
way TFX's launcher runs it, on a temp dir.
"""

import json
import os

from apache_beam.io import tfrecordio
import google_crc32c
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.components.example_validator import executor as validator_executor
from tfx.components.schema_gen import executor as schema_gen_executor
from tfx.components.statistics_gen import component as statistics_gen_component
from tfx.types import artifact_utils
from tfx.types import channel
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs as specs
from tfx.utils import io_utils
from tfx.utils import json_utils

from image_example_gen import ImageStatisticsGen
from image_example_gen.components import image_schema
from image_example_gen.core import artifact
from image_example_gen.components.statistics_gen import executor as statistics_executor
from ingest_runner import ingest_folder
import example_reader
import image_factory

# End-to-end: TFX pipelines and components on real data.
pytestmark = pytest.mark.slow

_CLASSES = ['ant', 'bee', 'cow']


@pytest.fixture(name='examples', scope='module')
def examples_fixture(tmp_path_factory):
  """An Examples artifact of 3 classes x 5 images, all formats."""
  root = tmp_path_factory.mktemp('images')
  makers = [image_factory.jpeg, image_factory.png, image_factory.bmp,
            lambda size: image_factory.gif(size=size),
            lambda size: image_factory.png('LA', size=size)]
  for class_index, name in enumerate(_CLASSES):
    os.makedirs(root / name)
    for index, make in enumerate(makers):
      size = (20 + 7 * index, 15 + 3 * class_index)
      (root / name / f'{index}.img').write_bytes(make(size=size))
  return ingest_folder(str(root), str(tmp_path_factory.mktemp('examples')))


def _run_statistics(examples, output_dir, **exec_properties):
  statistics = standard_artifacts.ExampleStatistics()
  statistics.uri = output_dir
  executor = statistics_executor.Executor()
  executor.Do({specs.EXAMPLES_KEY: [examples]},
              {specs.STATISTICS_KEY: [statistics]},
              {specs.EXCLUDE_SPLITS_KEY: json_utils.dumps([]), **exec_properties})
  return statistics


def _run_schema_gen(statistics, output_dir):
  schema = standard_artifacts.Schema()
  schema.uri = output_dir
  schema_gen_executor.Executor().Do(
      {specs.STATISTICS_KEY: [statistics]}, {specs.SCHEMA_KEY: [schema]},
      {specs.INFER_FEATURE_SHAPE_KEY: 1,
       specs.EXCLUDE_SPLITS_KEY: json_utils.dumps([])})
  return io_utils.SchemaReader().read(
      os.path.join(output_dir, schema_gen_executor.DEFAULT_FILE_NAME))


def _anomalies(statistics, schema, tmp_path):
  schema_artifact = standard_artifacts.Schema()
  schema_artifact.uri = str(tmp_path / 'curated_schema')
  io_utils.write_pbtxt_file(
      os.path.join(schema_artifact.uri, 'schema.pbtxt'), schema)
  anomalies = standard_artifacts.ExampleAnomalies()
  anomalies.uri = str(tmp_path / 'anomalies')
  validator_executor.Executor().Do(
      {specs.STATISTICS_KEY: [statistics], specs.SCHEMA_KEY: [schema_artifact]},
      {specs.ANOMALIES_KEY: [anomalies]},
      {specs.EXCLUDE_SPLITS_KEY: json_utils.dumps([])})
  result = {}
  for split in artifact_utils.decode_split_names(statistics.split_names):
    proto = anomalies_pb2.Anomalies()
    path = os.path.join(anomalies.uri, f'Split-{split}', 'SchemaDiff.pb')
    with open(path, 'rb') as file:
      proto.ParseFromString(file.read())
    result[split] = {name: [reason.short_description
                            for reason in info.reason]
                     for name, info in proto.anomaly_info.items()}
  return result


def _feature_stats(statistics, split):
  stats = tfdv.load_stats_binary(os.path.join(
      artifact_utils.get_split_uri([statistics], split), 'FeatureStats.pb'))
  return stats, {feature.path.step[0]: feature
                 for feature in stats.datasets[0].features}


def test_component_is_statistics_gen_with_our_executor():
  component = ImageStatisticsGen(
      examples=channel.Channel(type=standard_artifacts.Examples),
      exclude_splits=['eval'])
  assert isinstance(component, statistics_gen_component.StatisticsGen)
  assert component.executor_spec.executor_class is statistics_executor.Executor
  assert set(component.outputs) == {'statistics'}
  assert component.exec_properties[specs.EXCLUDE_SPLITS_KEY] == '["eval"]'


def test_statistics_treat_images_as_images(examples, tmp_path):
  statistics = _run_statistics(examples, str(tmp_path / 'stats'))
  # Beam's reader checked every record's CRC with google-crc32c.
  assert tfrecordio._default_crc32c_fn.fn is google_crc32c.value

  for split in ('train', 'eval'):
    stats, features = _feature_stats(statistics, split)
    expected = len(example_reader.read_split(
        artifact_utils.get_split_uri([examples], split)))
    assert stats.datasets[0].num_examples == expected
    # No top-k or unique count over image bytes, file names or hashes.
    assert features['image/encoded'].WhichOneof('stats') == 'bytes_stats'
    assert features['image/encoded'].bytes_stats.max_num_bytes > 0
    for name in ('image/filename', 'image/key/sha256'):
      string_stats = features[name].string_stats
      assert not string_stats.top_values and not string_stats.unique
    assert features['image/format'].string_stats.top_values
    domain_info = {name: [stat.str for stat in feature.custom_stats
                          if stat.name == 'domain_info']
                   for name, feature in features.items()}
    assert domain_info['image/encoded'] == ['image_domain {}']


def test_schema_gen_infers_the_image_schema(examples, tmp_path):
  statistics = _run_statistics(examples, str(tmp_path / 'stats'))
  inferred = _run_schema_gen(statistics, str(tmp_path / 'schema'))

  assert image_schema.domain_info_by_feature(inferred) == (
      image_schema.domain_info_by_feature(image_schema.image_schema(_CLASSES)))
  features = {feature.name: feature for feature in inferred.feature}
  assert features['image/encoded'].HasField('image_domain')
  assert features['image/class/label'].int_domain.max == len(_CLASSES) - 1


def test_validator_clean_data_then_out_of_range_label(examples, tmp_path):
  statistics = _run_statistics(examples, str(tmp_path / 'stats'))
  schema = _run_schema_gen(statistics, str(tmp_path / 'schema'))
  assert _anomalies(statistics, schema, tmp_path / 'clean') == {
      'train': {}, 'eval': {}}

  # One Example of a new artifact carries label 3 of a 3-class vocabulary.
  bad = standard_artifacts.Examples()
  bad.uri = str(tmp_path / 'bad_examples')
  bad.split_names = artifact_utils.encode_split_names(['train', 'eval'])
  bad.set_string_custom_property(artifact.CLASS_NAMES_PROPERTY,
                                 json.dumps(_CLASSES))
  for split in ('train', 'eval'):
    records = example_reader.read_split(
        artifact_utils.get_split_uri([examples], split))
    if split == 'train':
      records[0].features.feature['image/class/label'].int64_list.value[0] = 3
    os.makedirs(os.path.join(bad.uri, f'Split-{split}'))
    with tf.io.TFRecordWriter(os.path.join(bad.uri, f'Split-{split}',
                                           'data.gz'), 'GZIP') as writer:
      for record in records:
        writer.write(record.SerializeToString())
  bad_statistics = _run_statistics(bad, str(tmp_path / 'bad_stats'))

  assert _anomalies(bad_statistics, schema, tmp_path / 'bad') == {
      'train': {'image/class/label': ['Out-of-range values']}, 'eval': {}}


def test_given_schema_is_used_and_recorded(examples, tmp_path):
  schema = image_schema.image_schema(_CLASSES)
  features = {feature.name: feature for feature in schema.feature}
  features['image/filename'].string_domain.is_categorical = (
      schema_pb2.StringDomain.CATEGORICAL_YES)
  options = tfdv.StatsOptions(schema=schema)

  statistics = _run_statistics(
      examples, str(tmp_path / 'stats'),
      **{specs.STATS_OPTIONS_JSON_KEY: options.to_json()})

  _, stats = _feature_stats(statistics, 'train')
  assert stats['image/filename'].string_stats.top_values
  assert [stat.str for stat in stats['image/filename'].custom_stats] == [
      'string_domain {is_categorical: CATEGORICAL_YES}']


def test_examples_not_from_image_example_gen_need_a_schema(tmp_path):
  foreign = standard_artifacts.Examples()
  foreign.uri = str(tmp_path / 'foreign')
  foreign.split_names = artifact_utils.encode_split_names(['train'])

  with pytest.raises(ValueError, match=r'foreign.*no .class_names. property'):
    _run_statistics(foreign, str(tmp_path / 'stats'))
