"""ImageFolderToExamples in a Beam TestPipeline, without TFX."""

import glob
import hashlib
import json
import os

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that
from apache_beam.testing.util import equal_to
import pytest

from image_example_gen import COUNTS_KEY
from image_example_gen import HashBucketSplit
from image_example_gen import ImageFolderToExamples
from image_example_gen import IngestConfig
from image_example_gen import InputSplit
from image_example_gen import SKIPPED_KEY
from image_example_gen.beam.transform import BadFileError
import example_reader
import image_factory


def _summary(serialized: bytes):
  """(filename, label, class, format, sha256 ok?) of a serialized Example."""
  example = example_reader.parse(serialized)
  value = lambda key: example_reader.feature_value(example, key)
  data = value('image/encoded')
  return (value('image/filename').decode(), value('image/class/label'),
          value('image/class/text').decode(), value('image/format').decode(),
          value('image/key/sha256').decode() == hashlib.sha256(data).hexdigest())


def _skip_reason(line: str):
  record = json.loads(line)
  return record['relative_path'], record['reason']


@pytest.fixture(name='flat_tree')
def flat_tree_fixture(make_tree):
  return make_tree({
      'dog/a.jpg': image_factory.jpeg(),
      'dog/nested/deeper/b.PNG': image_factory.png('RGBA'),
      'cat/c.gif': image_factory.gif(),
      'cat/d.bmp': image_factory.bmp(),
      'cat/misnamed.jpg': image_factory.png(),
      'cat/notes.txt': b'not an image',
      'cat/.DS_Store': b'\x00\x00\x00\x01Bud1',
      'dog/cut.jpg': image_factory.jpeg()[:300],
  })


@pytest.mark.slow
def test_examples_skips_and_counts(flat_tree):
  with TestPipeline() as pipeline:
    outputs = pipeline | ImageFolderToExamples(flat_tree)
    assert_that(
        outputs['train'] | beam.Map(_summary),
        equal_to([
            ('cat/c.gif', 0, 'cat', 'gif', True),
            ('cat/d.bmp', 0, 'cat', 'bmp', True),
            ('cat/misnamed.jpg', 0, 'cat', 'png', True),
            ('dog/a.jpg', 1, 'dog', 'jpeg', True),
            ('dog/nested/deeper/b.PNG', 1, 'dog', 'png', True),
        ]),
        label='Examples')
    assert_that(
        outputs[SKIPPED_KEY] | beam.Map(_skip_reason),
        equal_to([('cat/notes.txt', 'not_an_image'),
                  ('cat/.DS_Store', 'hidden'), ('dog/cut.jpg', 'corrupt')]),
        label='Skipped')
    assert_that(
        outputs[COUNTS_KEY],
        equal_to([(('train', 'cat'), 3), (('train', 'dog'), 2)]),
        label='Counts')


@pytest.mark.slow
def test_unlabeled_examples_have_no_class_features(flat_tree):
  config = IngestConfig(labels='none')
  with TestPipeline() as pipeline:
    outputs = pipeline | ImageFolderToExamples(flat_tree, config=config)
    keys = outputs['train'] | beam.Map(
        lambda record: sorted(example_reader.parse(record).features.feature))
    expected_keys = sorted([
        'image/encoded', 'image/format', 'image/height', 'image/width',
        'image/channels', 'image/filename', 'image/key/sha256',
        'image/source_format', 'image/original/height',
        'image/original/width', 'image/phash'
    ])
    assert_that(keys, equal_to([expected_keys] * 5))


@pytest.mark.slow
def test_labels_agree_across_splits_when_a_class_is_missing(make_tree):
  root = make_tree({
      'train/ant/1.jpg': image_factory.jpeg(),
      'train/bee/2.jpg': image_factory.jpeg(),
      'train/cow/3.png': image_factory.png(),
      'eval/ant/4.jpg': image_factory.jpeg(),
      'eval/cow/5.gif': image_factory.gif(),
  })
  splits = [InputSplit('train', 'train/*'), InputSplit('eval', 'eval/*')]
  label_of = lambda record: _summary(record)[:3]
  with TestPipeline() as pipeline:
    outputs = pipeline | ImageFolderToExamples(root, input_splits=splits)
    assert_that(
        outputs['eval'] | 'EvalLabels' >> beam.Map(label_of),
        equal_to([('eval/ant/4.jpg', 0, 'ant'), ('eval/cow/5.gif', 2, 'cow')]),
        label='Eval')
    assert_that(
        outputs['train'] | 'TrainLabels' >> beam.Map(label_of),
        equal_to([('train/ant/1.jpg', 0, 'ant'), ('train/bee/2.jpg', 1, 'bee'),
                  ('train/cow/3.png', 2, 'cow')]),
        label='Train')


def _hash_split_filenames(root, out_dir, **kwargs):
  """{split: sorted filenames} of one run with train:eval buckets 1:1."""
  splits = [HashBucketSplit('train', 1), HashBucketSplit('eval', 1)]
  with TestPipeline() as pipeline:
    outputs = pipeline | ImageFolderToExamples(
        root, output_splits=splits, **kwargs)
    for name in ('train', 'eval'):
      _ = (outputs[name]
           | f'Filename{name}' >> beam.Map(lambda record: _summary(record)[0])
           | f'Write{name}' >> beam.io.WriteToText(os.path.join(out_dir, name)))
  result = {}
  for name in ('train', 'eval'):
    lines = []
    for path in glob.glob(os.path.join(out_dir, name + '*')):
      with open(path, encoding='utf-8') as file:
        lines.extend(file.read().split())
    result[name] = sorted(lines)
  return result


@pytest.mark.slow
def test_hash_buckets_partition_every_image_once_and_reproducibly(
    make_tree, tmp_path):
  files = {f'c{i % 3}/img{i:02d}.jpg': image_factory.jpeg(size=(20 + i, 20))
           for i in range(24)}
  root = make_tree(files)
  first = _hash_split_filenames(root, str(tmp_path / 'first'))
  second = _hash_split_filenames(root, str(tmp_path / 'second'))
  assert first == second
  assert first['train'] and first['eval']
  assert sorted(first['train'] + first['eval']) == sorted(files)


def _copies_per_split(result):
  return sorted(len([name for name in result[split] if 'copy' in name])
                for split in ('train', 'eval'))


@pytest.mark.slow
def test_identical_images_share_a_split_by_default(make_tree, tmp_path):
  same = image_factory.png(size=(33, 21))
  files = {f'c{i % 2}/copy{i}.png': same for i in range(6)}
  files.update({f'c0/other{i}.jpg': image_factory.jpeg(size=(20 + i, 20))
                for i in range(10)})
  root = make_tree(files)

  by_content = _hash_split_filenames(root, str(tmp_path / 'content'))
  by_feature = _hash_split_filenames(
      root, str(tmp_path / 'feature'),
      partition_feature_name='image/key/sha256')
  by_path = _hash_split_filenames(
      root, str(tmp_path / 'path'),
      config=IngestConfig(split_key='path'))

  assert _copies_per_split(by_content) == [0, 6]
  assert _copies_per_split(by_feature) == [0, 6]
  # Keyed on paths, the six copies straddle the splits (fixed paths, so
  # this is deterministic: the sha256 of each path decides).
  assert _copies_per_split(by_path) != [0, 6]


@pytest.mark.slow
def test_split_of_an_image_does_not_change_when_files_are_added(
    make_tree, tmp_path):
  files = {f'c{i % 3}/img{i:02d}.jpg': image_factory.jpeg(size=(20 + i, 20))
           for i in range(20)}
  unbalanced = IngestConfig(stratify=False)
  before = _hash_split_filenames(make_tree(files), str(tmp_path / 'before'),
                                 config=unbalanced)
  files.update({f'c{i % 3}/new{i:02d}.png': image_factory.png(size=(30, 10 + i))
                for i in range(15)})
  after = _hash_split_filenames(make_tree(files), str(tmp_path / 'after'),
                                config=unbalanced)
  for split in ('train', 'eval'):
    assert set(before[split]) <= set(after[split])


def test_on_bad_image_fail_names_the_file(make_tree):
  root = make_tree({
      'dog/a.jpg': image_factory.jpeg(),
      'dog/cut.jpg': image_factory.jpeg()[:300],
      'dog/.DS_Store': b'hidden files never fail a run',
  })
  config = IngestConfig(on_bad_image='fail')
  with pytest.raises(Exception, match=r"cut\.jpg' \(corrupt\)") as raised:
    with TestPipeline() as pipeline:
      _ = pipeline | ImageFolderToExamples(root, config=config)
  assert 'BadFileError' in str(raised.value) or isinstance(
      raised.value, BadFileError)


def test_pattern_matching_nothing_is_an_error_naming_it(make_tree):
  root = make_tree({'cat/a.jpg': image_factory.jpeg()})
  with pytest.raises(ValueError, match=r"'dogs/\*'"):
    with TestPipeline() as pipeline:
      _ = pipeline | ImageFolderToExamples(
          root, input_splits=[InputSplit('train', 'dogs/*')])


def test_read_bytes_reads_whole_files_and_refuses_ones_over_the_limit(
    tmp_path):
  from image_example_gen.beam import transform  # pylint: disable=g-import-not-at-top
  from image_example_gen.core import image_probe  # pylint: disable=g-import-not-at-top
  from image_example_gen.core import reasons  # pylint: disable=g-import-not-at-top
  photo = tmp_path / 'photo.jpg'
  photo.write_bytes(image_factory.jpeg(size=(300, 200)))
  empty = tmp_path / 'empty.jpg'
  empty.write_bytes(b'')
  read = transform._read_bytes  # pylint: disable=protected-access

  assert read(str(photo), 10**6) == photo.read_bytes()
  assert read(str(empty), 10**6) == b''
  limit = photo.stat().st_size - 1
  with pytest.raises(image_probe.BadImageError) as error:
    read(str(photo), limit)
  assert error.value.reason == reasons.TOO_LARGE
  assert f'over max_file_bytes={limit}' in error.value.detail


def test_read_bytes_reads_a_stream_to_its_end_and_stops_at_the_limit(
    tmp_path):
  # A FIFO has no size (st_size 0): the reads go on to the writer's end, or
  # stop as soon as the limit is passed.
  from image_example_gen.beam import transform  # pylint: disable=g-import-not-at-top
  from image_example_gen.core import image_probe  # pylint: disable=g-import-not-at-top
  import threading  # pylint: disable=g-import-not-at-top
  read = transform._read_bytes  # pylint: disable=protected-access
  data = os.urandom(70_000)
  for limit, expected in ((10**6, data), (50_000, None)):
    fifo = str(tmp_path / f'stream-{limit}')
    os.mkfifo(fifo)
    def write(fifo=fifo):
      try:
        with open(fifo, 'wb') as stream:
          for start in range(0, len(data), 1000):
            stream.write(data[start:start + 1000])
            stream.flush()
      except BrokenPipeError:
        pass
    writer = threading.Thread(target=write)
    writer.start()
    if expected is None:
      with pytest.raises(image_probe.BadImageError):
        read(fifo, limit)
    else:
      assert read(fifo, limit) == expected
    writer.join(timeout=10)
    assert not writer.is_alive()
