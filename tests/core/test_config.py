"""Tests of config.IngestConfig: validation, JSON round trip, unknown options."""

import dataclasses
import json

import pytest

from image_example_gen.core import config as config_lib
from image_example_gen.core.config import IngestConfig

EVERY_OPTION_CHANGED = dict(
    labels=config_lib.LABELS_FOLDER,
    class_names=('Gärten', 'cat', 'dog house'),
    metadata_file='labels/metadata.jsonl',
    on_bad_image=config_lib.ON_BAD_FAIL,
    max_bad_fraction=0.25,
    compression=config_lib.COMPRESSION_GZIP,
    validation=config_lib.VALIDATION_STRUCTURE,
    split_key=config_lib.SPLIT_KEY_PATH,
    stratify=False,
    max_file_bytes=1234567,
    max_pixels=1000,
    gzip_level=1,
    transcode=False,
    upright=False,
    max_side=512,
    near_duplicates=False,
    near_duplicate_threshold=6,
)


def test_every_option_is_covered_by_the_round_trip_fixture():
  options = {field.name for field in dataclasses.fields(IngestConfig)}
  assert set(EVERY_OPTION_CHANGED) == options
  defaults = IngestConfig()
  for name, value in EVERY_OPTION_CHANGED.items():
    if name != 'labels':  # The only labels compatible with class_names.
      assert getattr(defaults, name) != value, name


@pytest.mark.parametrize('config', [
    IngestConfig(),
    IngestConfig(**EVERY_OPTION_CHANGED),
    IngestConfig(labels=config_lib.LABELS_NONE, max_bad_fraction=0.0,
                 gzip_level=0),
], ids=['defaults', 'every_option_changed', 'unlabeled'])
def test_json_round_trip_gives_an_equal_config(config):
  text = config.to_json()

  rebuilt = IngestConfig.from_json(text)

  assert rebuilt == config
  assert rebuilt.to_json() == text
  assert json.loads(text) == {
      name: list(value) if isinstance(value, tuple) else value
      for name, value in dataclasses.asdict(config).items()}


def test_class_names_become_a_tuple():
  config = IngestConfig(class_names=['b', 'a'])

  assert config.class_names == ('b', 'a')
  assert IngestConfig.from_json(config.to_json()).class_names == ('b', 'a')
  hash(config)  # Frozen and hashable: no list inside.


def test_config_is_frozen():
  with pytest.raises(dataclasses.FrozenInstanceError):
    IngestConfig().labels = config_lib.LABELS_NONE


def test_from_options_builds_the_same_config_as_the_constructor():
  assert IngestConfig.from_options(**EVERY_OPTION_CHANGED) == IngestConfig(
      **EVERY_OPTION_CHANGED)


def test_limits_at_their_bounds_are_valid():
  upper = IngestConfig(max_bad_fraction=1.0,
                       max_pixels=config_lib.DEFAULT_MAX_PIXELS,
                       gzip_level=3)
  lower = IngestConfig(max_bad_fraction=0.0, max_pixels=1, max_file_bytes=1,
                       gzip_level=0)
  assert (upper.max_bad_fraction, upper.gzip_level) == (1.0, 3)
  assert (lower.max_bad_fraction, lower.gzip_level) == (0.0, 0)


INVALID_OPTIONS = [
    ('labels', dict(labels='folders')),
    ('labels', dict(labels=None)),
    ('on_bad_image', dict(on_bad_image='ignore')),
    ('compression', dict(compression='zlib')),
    ('validation', dict(validation='full')),
    ('max_bad_fraction', dict(max_bad_fraction=1.5)),
    ('max_bad_fraction', dict(max_bad_fraction=-0.1)),
    ('max_file_bytes', dict(max_file_bytes=0)),
    ('max_file_bytes', dict(max_file_bytes=-1)),
    ('max_file_bytes', dict(max_file_bytes=1.5)),
    ('max_pixels', dict(max_pixels=0)),
    ('max_pixels', dict(max_pixels=config_lib.DEFAULT_MAX_PIXELS + 1)),
    ('max_pixels', dict(max_pixels=1e6)),
    ('gzip_level', dict(gzip_level=4)),  # ISA-L levels are 0 to 3.
    ('gzip_level', dict(gzip_level=-1)),
    ('split_key', dict(split_key='name')),
    ('metadata_file', dict(metadata_file='')),
    ('metadata_file', dict(metadata_file=3)),
    ('stratify', dict(stratify='yes')),
    ('near_duplicates', dict(near_duplicates='no')),
    ('near_duplicate_threshold', dict(near_duplicate_threshold=33)),
    ('near_duplicate_threshold', dict(near_duplicate_threshold=-1)),
    ('near_duplicate_threshold', dict(near_duplicate_threshold=8.5)),
    ('near_duplicates', dict(split_key=config_lib.SPLIT_KEY_NEAR_DUPLICATE,
                             near_duplicates=False)),
    ('class_names', dict(class_names=[])),
    ('class_names', dict(class_names=['cat', ''])),
    ('class_names', dict(class_names=['cat', 'big/cat'])),
    ('class_names', dict(class_names=['cat', 'dog', 'cat'])),
    ('class_names', dict(class_names=['cat', 7])),
    ('class_names', dict(class_names=['cat'],
                         labels=config_lib.LABELS_NONE)),
]


@pytest.mark.parametrize('option, options', INVALID_OPTIONS,
                         ids=[f'{o}={v}' for o, v in INVALID_OPTIONS])
def test_invalid_option_raises_naming_it(option, options):
  with pytest.raises(ValueError, match=option):
    IngestConfig(**options)


def test_duplicate_class_names_are_named():
  with pytest.raises(ValueError, match="'cat'"):
    IngestConfig(class_names=['cat', 'dog', 'cat'])


# Plausible mistakes: a bare string for a list, a number as a string (as from
# a command line), a float level. Each must be refused, naming the option,
# rather than turned into something else or failing later in the workers.
WRONG_TYPES = [
    ('class_names', dict(class_names='cat')),  # would become ('c', 'a', 't')
    ('max_bad_fraction', dict(max_bad_fraction='0.1')),
    ('gzip_level', dict(gzip_level=1.0)),  # ISA-L refuses a float level
]


@pytest.mark.parametrize('option, options', WRONG_TYPES,
                         ids=[f'{o}={v!r}' for o, v in WRONG_TYPES])
def test_option_of_the_wrong_type_raises_naming_it(option, options):
  with pytest.raises((TypeError, ValueError), match=option):
    IngestConfig(**options)


def test_unknown_options_raise_type_error_naming_them():
  with pytest.raises(TypeError) as raised:
    IngestConfig.from_options(labels=config_lib.LABELS_NONE, label_mode='int',
                              shuffle=True)

  message = str(raised.value)
  assert 'label_mode' in message and 'shuffle' in message
  assert "'labels'" in message.split('known options')[-1]


def test_unknown_option_in_json_raises_type_error_naming_it():
  text = json.dumps({**json.loads(IngestConfig().to_json()), 'colour': 'rgb'})

  with pytest.raises(TypeError, match='colour'):
    IngestConfig.from_json(text)


def test_invalid_value_in_json_raises_naming_the_option():
  text = json.dumps({**json.loads(IngestConfig().to_json()),
                     'compression': 'brotli'})

  with pytest.raises(ValueError, match='compression'):
    IngestConfig.from_json(text)


def test_json_with_only_some_options_uses_defaults_for_the_rest():
  config = IngestConfig.from_json('{"validation": "structure"}')

  assert config == IngestConfig(validation=config_lib.VALIDATION_STRUCTURE)
