"""ImageExampleGen construction: outputs, stored options, argument checks."""

import json

import pytest
from tfx.proto import example_gen_pb2
from tfx.proto import range_config_pb2
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from image_example_gen import ImageExampleGen
from image_example_gen import IngestConfig
from image_example_gen.core import config as config_lib
from image_example_gen.components import driver
from image_example_gen.components import executor


def _exec_property(component, key):
  return component.exec_properties[key]


def _proto_property(component, key, proto):
  proto_utils.json_to_proto(component.exec_properties[key], proto)
  return proto


def test_defaults_match_file_based_example_gen():
  component = ImageExampleGen(input_base='/data/flowers')
  assert component.outputs['examples'].type == standard_artifacts.Examples
  assert component.executor_spec.executor_class is executor.Executor
  assert component.driver_class is driver.ImageFolderDriver
  input_config = _proto_property(component,
                                standard_component_specs.INPUT_CONFIG_KEY,
                                example_gen_pb2.Input())
  assert [(split.name, split.pattern) for split in input_config.splits] == [
      ('single_split', '*')]
  output_config = _proto_property(component,
                                 standard_component_specs.OUTPUT_CONFIG_KEY,
                                 example_gen_pb2.Output())
  assert [(split.name, split.hash_buckets)
          for split in output_config.split_config.splits] == [('train', 2),
                                                              ('eval', 1)]
  stored = _exec_property(component, config_lib.INGEST_CONFIG_KEY)
  assert IngestConfig.from_json(stored) == IngestConfig()


def test_options_travel_as_one_typed_config():
  component = ImageExampleGen(
      input_base='/data', class_names=['b', 'a'], on_bad_image='fail',
      compression='gzip', max_bad_fraction=0.1)
  stored = IngestConfig.from_json(
      _exec_property(component, config_lib.INGEST_CONFIG_KEY))
  assert stored == IngestConfig(class_names=('b', 'a'), on_bad_image='fail',
                                compression='gzip', max_bad_fraction=0.1)
  assert json.loads(stored.to_json())['class_names'] == ['b', 'a']


def test_presplit_input_and_range_config_are_kept():
  input_config = example_gen_pb2.Input(splits=[
      example_gen_pb2.Input.Split(name='train', pattern='span-{SPAN}/train/*'),
      example_gen_pb2.Input.Split(name='eval', pattern='span-{SPAN}/eval/*'),
  ])
  range_config = range_config_pb2.RangeConfig(
      static_range=range_config_pb2.StaticRange(start_span_number=2,
                                                end_span_number=2))
  component = ImageExampleGen(input_base='/data', input_config=input_config,
                              range_config=range_config)
  output_config = _proto_property(component,
                                 standard_component_specs.OUTPUT_CONFIG_KEY,
                                 example_gen_pb2.Output())
  assert not output_config.split_config.splits
  assert _proto_property(component, standard_component_specs.RANGE_CONFIG_KEY,
                         range_config_pb2.RangeConfig()) == range_config


def test_config_object_is_accepted_and_beam_args_attach():
  config = IngestConfig(labels='none')
  component = ImageExampleGen(input_base='/data', config=config)
  component.with_beam_pipeline_args(['--direct_num_workers=2'])
  assert IngestConfig.from_json(
      _exec_property(component, config_lib.INGEST_CONFIG_KEY)) == config
  assert component.executor_spec.beam_pipeline_args == [
      '--direct_num_workers=2']


def test_unknown_option_is_named():
  with pytest.raises(TypeError, match='on_bad_images'):
    ImageExampleGen(input_base='/data', on_bad_images='fail')


def test_config_and_options_together_are_refused():
  with pytest.raises(TypeError, match='not both'):
    ImageExampleGen(input_base='/data', config=IngestConfig(),
                    on_bad_image='fail')


def test_invalid_option_value_is_named():
  with pytest.raises(ValueError, match='compression'):
    ImageExampleGen(input_base='/data', compression='zstd')
