"""The image schema, and that TFDV's schema inference gives back its domains."""

from google.protobuf import text_format
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_metadata.proto.v0 import statistics_pb2

from image_example_gen.components import image_schema
from image_example_gen.components.statistics_gen import domain_stats

_IMAGE_FEATURES = [
    'image/encoded', 'image/format', 'image/height', 'image/width',
    'image/channels', 'image/filename', 'image/key/sha256',
    'image/source_format', 'image/original/height', 'image/original/width',
    'image/phash'
]


def _features(schema):
  return {feature.name: feature for feature in schema.feature}


def test_labeled_schema_domains():
  features = _features(image_schema.image_schema(['cat', 'dog', 'emu']))

  assert sorted(features) == sorted(
      _IMAGE_FEATURES + ['image/class/label', 'image/class/text'])
  assert features['image/encoded'].WhichOneof('domain_info') == 'image_domain'
  label = features['image/class/label']
  assert label.type == schema_pb2.INT
  assert (label.int_domain.min, label.int_domain.max,
          label.int_domain.is_categorical) == (0, 2, True)
  assert list(features['image/class/text'].string_domain.value) == [
      'cat', 'dog', 'emu']
  assert list(features['image/format'].string_domain.value) == [
      'jpeg', 'png', 'gif', 'bmp']
  for name in ('image/filename', 'image/key/sha256', 'image/phash'):
    assert features[name].string_domain.is_categorical == (
        schema_pb2.StringDomain.CATEGORICAL_NO)
    assert not features[name].string_domain.value
  assert (features['image/channels'].int_domain.min,
          features['image/channels'].int_domain.max) == (1, 4)
  assert {'webp', 'avif', 'heif', 'tiff', 'jpeg'} <= set(
      features['image/source_format'].string_domain.value)
  for name in ('image/height', 'image/width', 'image/original/height',
               'image/original/width'):
    assert features[name].int_domain.min == 1
  for feature in features.values():
    assert feature.presence.min_fraction == 1.0
    assert [dim.size for dim in feature.shape.dim] == [1]


def test_unlabeled_schema_has_no_class_features():
  for class_names in (None, []):
    assert sorted(_features(image_schema.image_schema(class_names))) == sorted(
        _IMAGE_FEATURES)


def test_schema_without_near_duplicates_has_no_phash():
  features = _features(image_schema.image_schema(['cat'],
                                                 near_duplicates=False))
  assert 'image/phash' not in features
  assert 'image/key/sha256' in features


def test_domain_info_text_and_shared_domains():
  schema = text_format.Parse(
      """
      feature { name: "a" type: BYTES image_domain {} }
      feature { name: "b" type: INT int_domain { min: 0 max: 9 } }
      feature { name: "c" type: BYTES domain: "colours" }
      feature { name: "d" type: FLOAT }
      string_domain { name: "colours" value: "red" value: "blue" }
      """, schema_pb2.Schema())

  assert image_schema.domain_info_by_feature(schema) == {
      'a': 'image_domain {}',
      'b': 'int_domain {min: 0 max: 9}',
      'c': 'string_domain {value: "red" value: "blue"}',
  }


def _statistics(names_and_types):
  statistics = statistics_pb2.DatasetFeatureStatisticsList()
  dataset = statistics.datasets.add(num_examples=10)
  for name, feature_type, kind in names_and_types:
    feature = dataset.features.add(type=feature_type)
    feature.path.step.append(name)
    stats = getattr(feature, kind)
    stats.common_stats.num_non_missing = 10
    stats.common_stats.min_num_values = 1
    stats.common_stats.max_num_values = 1
    stats.common_stats.avg_num_values = 1
    stats.common_stats.tot_num_values = 10
  return statistics


def test_inferred_schema_keeps_every_domain():
  schema = image_schema.image_schema(['cat', 'dog'])
  statistics_type = {schema_pb2.INT: statistics_pb2.FeatureNameStatistics.INT,
                     schema_pb2.BYTES: statistics_pb2.FeatureNameStatistics.BYTES}
  statistics = _statistics([
      (feature.name, statistics_type[feature.type],
       'num_stats' if feature.type == schema_pb2.INT else 'string_stats')
      for feature in schema.feature
  ])

  without = tfdv.infer_schema(statistics)
  assert domain_stats.add_domain_info(statistics, schema) == len(
      schema.feature)
  inferred = tfdv.infer_schema(statistics)

  assert not _features(without)['image/encoded'].HasField('image_domain')
  expected = image_schema.domain_info_by_feature(schema)
  assert image_schema.domain_info_by_feature(inferred) == expected


def test_add_domain_info_replaces_an_existing_one():
  statistics = _statistics([
      ('image/encoded', statistics_pb2.FeatureNameStatistics.BYTES,
       'bytes_stats')])
  feature = statistics.datasets[0].features[0]
  feature.custom_stats.add(name='domain_info', str='natural_language_domain {}')
  feature.custom_stats.add(name='other', num=1)

  domain_stats.add_domain_info(statistics, image_schema.image_schema(None))

  assert [(stat.name, stat.str or stat.num) for stat in feature.custom_stats
         ] == [('other', 1), ('domain_info', 'image_domain {}')]
