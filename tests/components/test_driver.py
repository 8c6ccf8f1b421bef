"""ImageFolderDriver: the input fingerprint covers the images themselves."""

import os

from tfx.components.example_gen import driver as tfx_driver
from tfx.orchestration import data_types
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from image_example_gen.components import driver
import image_factory


def _resolve(driver_class, input_base, pattern='*'):
  input_config = example_gen_pb2.Input(
      splits=[example_gen_pb2.Input.Split(name='all', pattern=pattern)])
  exec_properties = {
      standard_component_specs.INPUT_BASE_KEY: input_base,
      standard_component_specs.INPUT_CONFIG_KEY:
          proto_utils.proto_to_json(input_config),
      standard_component_specs.RANGE_CONFIG_KEY: None,
  }
  pipeline_info = data_types.PipelineInfo('p', '/tmp')
  component_info = data_types.ComponentInfo('c', 'c', pipeline_info)
  resolved = driver_class(metadata_handle=None).resolve_exec_properties(
      exec_properties, pipeline_info, component_info)
  return resolved


def _fingerprint(driver_class, input_base, pattern='*'):
  return _resolve(driver_class, input_base, pattern)['input_fingerprint']


def test_fingerprint_changes_when_an_image_changes(make_tree):
  root = make_tree({'cat/a.jpg': image_factory.jpeg(size=(20, 20)),
                    'dog/b.png': image_factory.png()})
  before = _fingerprint(driver.ImageFolderDriver, root)
  tfx_before = _fingerprint(tfx_driver.FileBasedDriver, root)
  assert before == _fingerprint(driver.ImageFolderDriver, root)
  path = os.path.join(root, 'cat', 'a.jpg')
  with open(path, 'wb') as file:
    file.write(image_factory.jpeg(size=(60, 60)))
  os.utime(path, (1_000_000_000, 1_000_000_000))
  assert 'num_files:2' in before
  assert _fingerprint(driver.ImageFolderDriver, root) != before
  # TFX's default fingerprint only sees the class folders, which did not change.
  assert _fingerprint(tfx_driver.FileBasedDriver, root) == tfx_before


def test_span_is_resolved_as_tfx_does(make_tree):
  root = make_tree({'span-1/cat/a.jpg': image_factory.jpeg(),
                    'span-2/cat/a.jpg': image_factory.jpeg(),
                    'span-2/cat/b.jpg': image_factory.jpeg()})
  resolved = _resolve(driver.ImageFolderDriver, root, 'span-{SPAN}/*')
  assert resolved['span'] == 2
  input_config = example_gen_pb2.Input()
  proto_utils.json_to_proto(
      resolved[standard_component_specs.INPUT_CONFIG_KEY], input_config)
  assert input_config.splits[0].pattern == 'span-2/*'
  assert 'num_files:2' in resolved['input_fingerprint']
