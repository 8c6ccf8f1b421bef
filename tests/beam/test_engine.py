"""Executor.Do on a temp dir, reading the Split-* files back."""

import glob
import hashlib
import json
import os

import pytest
import tensorflow as tf
from tfx.proto import example_gen_pb2

from image_example_gen import IngestConfig
from image_example_gen.core import artifact
from image_example_gen import read_class_names
from ingest_runner import ingest_folder
import example_reader
import image_factory


def _presplit_config():
  return example_gen_pb2.Input(splits=[
      example_gen_pb2.Input.Split(name='train', pattern='train/*'),
      example_gen_pb2.Input.Split(name='eval', pattern='eval/*'),
  ])


@pytest.fixture(name='presplit_files')
def presplit_files_fixture():
  return {
      'train/ant/a1.jpg': image_factory.jpeg(size=(41, 23)),
      'train/ant/deep/sub/a2.png': image_factory.png('LA', size=(17, 29)),
      'train/bee/b1.gif': image_factory.animated_gif(size=(31, 19)),
      'train/bee/b2.BMP': image_factory.bmp(size=(25, 14)),
      'train/cow/Kühe auf der Weide 1.jpg': image_factory.jpeg('L'),
      'eval/ant/a3.png': image_factory.png('P', size=(22, 22)),
      'eval/cow/c2.jpeg': image_factory.jpeg(size=(50, 10)),
      'eval/cow/readme.md': b'# not an image',
  }


@pytest.mark.slow
def test_do_writes_every_image_with_all_features(make_tree, tmp_path,
                                                 presplit_files):
  root = make_tree(presplit_files)
  examples = ingest_folder(root, str(tmp_path / 'out'),
                           input_config=_presplit_config())

  assert sorted(glob.glob(os.path.join(examples.uri, 'Split-*'))) == [
      os.path.join(examples.uri, 'Split-eval'),
      os.path.join(examples.uri, 'Split-train')]
  shards = glob.glob(os.path.join(examples.uri, 'Split-*', '*'))
  assert shards and not any(path.endswith('.gz') for path in shards)
  vocabulary = ['ant', 'bee', 'cow']
  for split in ('train', 'eval'):
    written = example_reader.by_filename(
        example_reader.read_split(os.path.join(examples.uri, f'Split-{split}')))
    expected = {path: data for path, data in presplit_files.items()
                if path.startswith(split + '/') and not path.endswith('.md')}
    assert sorted(written) == sorted(expected)
    for path, data in expected.items():
      example = written[path]
      value = lambda key, example=example: example_reader.feature_value(
          example, key)
      decoded = tf.io.decode_image(data, expand_animations=False)
      class_name = path.split('/')[1]
      assert value('image/encoded') == data
      assert value('image/key/sha256').decode() == hashlib.sha256(
          data).hexdigest()
      assert [value('image/height'), value('image/width'),
              value('image/channels')] == decoded.shape.as_list()
      assert value('image/class/text').decode() == class_name
      assert value('image/class/label') == vocabulary.index(class_name)
  assert examples.split_names == '["train", "eval"]'
  assert examples.get_string_custom_property('file_format') == 'tfrecords_gzip'


@pytest.mark.slow
def test_do_writes_report_and_custom_properties(make_tree, tmp_path,
                                                presplit_files):
  root = make_tree(presplit_files)
  examples = ingest_folder(root, str(tmp_path / 'out'),
                           input_config=_presplit_config())
  report = artifact.read_report_dict(examples.uri)
  assert report['examples'] == {
      'train': {'ant': 2, 'bee': 2, 'cow': 1},
      'eval': {'ant': 1, 'cow': 1},
  }
  assert [(entry['relative_path'], entry['reason'])
          for entry in report['skipped']] == [('eval/cow/readme.md',
                                               'not_an_image')]
  assert examples.get_int_custom_property('num_examples') == 7
  assert examples.get_int_custom_property('num_examples_eval') == 2
  assert examples.get_int_custom_property('num_skipped_not_an_image') == 1
  assert json.loads(examples.get_string_custom_property('class_names')) == [
      'ant', 'bee', 'cow']
  # The label map a Trainer reads: line i names label i.
  with open(os.path.join(examples.uri, 'labels.txt'), encoding='utf-8') as file:
    assert file.read() == 'ant\nbee\ncow\n'
  assert read_class_names(examples) == ['ant', 'bee', 'cow']


@pytest.mark.slow
def test_gzip_output_is_gzip_tfrecords(make_tree, tmp_path):
  files = {f'c{i % 2}/{i}.png': image_factory.png(size=(9 + i, 9))
           for i in range(6)}
  examples = ingest_folder(make_tree(files), str(tmp_path / 'out'),
                           IngestConfig(compression='gzip'))
  shards = glob.glob(os.path.join(examples.uri, 'Split-*', '*'))
  assert shards and all(path.endswith('.gz') for path in shards)
  # Readable as gzip, and the 2:1 hash split is complete.
  records = [record for path in shards
             for record in tf.data.TFRecordDataset(path,
                                                   compression_type='GZIP')]
  assert sorted(
      example_reader.feature_value(tf.train.Example.FromString(r.numpy()),
                                   'image/filename').decode()
      for r in records) == sorted(files)


@pytest.mark.slow
def test_report_names_the_strict_policy_of_a_skip(make_tree, tmp_path):
  root = make_tree({
      'c/photo.jpg': image_factory.jpeg(),
      'c/palette.bmp': image_factory.bmp('P'),
      'c/cut.jpg': image_factory.jpeg()[:-2],
  })
  # With transcoding (the default) the palette BMP is published as a PNG.
  examples = ingest_folder(root, str(tmp_path / 'out'),
                           IngestConfig(transcode=False))
  skipped = artifact.read_report_dict(examples.uri)['skipped']
  assert [(entry['relative_path'], entry['reason'], entry.get('policy'))
          for entry in skipped] == [
              ('c/cut.jpg', 'corrupt', None),
              ('c/palette.bmp', 'unsupported_format', 'bmp_colour_palette')]
  transcoded = ingest_folder(root, str(tmp_path / 'transcoded'))
  assert artifact.read_report(transcoded.uri).prepared == {
      'transcoded': {'bmp': 1}}


@pytest.mark.slow
def test_max_bad_fraction_fails_and_publishes_nothing(make_tree, tmp_path):
  root = make_tree({
      'c/good.jpg': image_factory.jpeg(),
      'c/bad1.jpg': b'garbage',
      'c/bad2.png': image_factory.png()[:100],
  })
  output_dir = str(tmp_path / 'out')
  with pytest.raises(ValueError, match=r'2 of 3 files are bad.*max_bad_fraction'):
    ingest_folder(root, output_dir, IngestConfig(max_bad_fraction=0.5))
  assert not glob.glob(os.path.join(output_dir, 'Split-*', '*'))


@pytest.mark.slow
def test_split_with_no_usable_image_is_an_error_naming_its_pattern(
    make_tree, tmp_path):
  root = make_tree({
      'train/c/good.jpg': image_factory.jpeg(),
      'eval/c/notes.txt': b'only text here',
  })
  with pytest.raises(ValueError, match=r"'eval/\*' of split 'eval'"):
    ingest_folder(root, str(tmp_path / 'out'), input_config=_presplit_config())


@pytest.mark.slow
def test_duplicates_are_reported_with_conflicting_labels(make_tree, tmp_path):
  photo = image_factory.jpeg(size=(31, 17))
  drawing = image_factory.png(size=(12, 40))
  root = make_tree({
      'cat/photo.jpg': photo,
      'cat/photo copy.jpg': photo,
      'dog/photo.jpg': photo,  # The same photo labelled dog: an error.
      'dog/drawing.png': drawing,
      'dog/drawing (1).png': drawing,
      'dog/unique.bmp': image_factory.bmp(size=(9, 9)),
  })
  examples = ingest_folder(root, str(tmp_path / 'out'))
  report = artifact.read_report(examples.uri)

  groups = {tuple(group['files']): group for group in report.duplicates}
  assert sorted(groups) == [
      ('cat/photo copy.jpg', 'cat/photo.jpg', 'dog/photo.jpg'),
      ('dog/drawing (1).png', 'dog/drawing.png')]
  photos = groups[('cat/photo copy.jpg', 'cat/photo.jpg', 'dog/photo.jpg')]
  assert photos['class_names'] == ['cat', 'dog']
  assert photos['size'] == len(photo)
  assert photos['sha256'] == hashlib.sha256(photo).hexdigest()
  # Content-keyed splits: every copy in one split.
  assert all(len(group['splits']) == 1 for group in report.duplicates)
  assert report.redundant_copies == 3
  assert examples.get_int_custom_property('num_duplicate_groups') == 2
  assert examples.get_int_custom_property('num_redundant_copies') == 3
  assert examples.get_int_custom_property(
      'num_duplicate_groups_with_different_labels') == 1
  lines = report.summary_lines()
  assert ('Duplicates: 2 groups of identical files, 3 redundant copies, 1 '
          'with different labels (a labelling error):') in lines
  assert ('  cat/photo copy.jpg, cat/photo.jpg, dog/photo.jpg '
          f'({len(photo)} bytes) labelled cat / dog') in lines


@pytest.mark.slow
def test_stratified_splits_keep_every_class_share(make_tree, tmp_path):
  counts = {'ant': 4, 'bee': 7, 'cow': 19}
  files = {f'{name}/{i}.png': image_factory.png(size=(10 + i, 8 + index))
           for index, (name, count) in enumerate(counts.items())
           for i in range(count)}
  files['cow/copy.png'] = files['cow/0.png']  # Duplicates share a split.
  examples = ingest_folder(make_tree(files), str(tmp_path / 'out'),
                          IngestConfig(stratify=True))
  report = artifact.read_report(examples.uri)

  (group,) = report.duplicates
  (copies_split,) = group['splits']  # Both copies in one split ...
  for name, count in counts.items():
    for split, share in (('train', 2 / 3), ('eval', 1 / 3)):  # The default.
      distinct = report.examples[split][name] - (
          name == 'cow' and split == copies_split)  # ... counted once.
      assert abs(distinct - count * share) < 1, (name, split)
  assert report.total_examples == len(files)


def test_unreachable_job_server_is_named_with_the_up_target(make_tree,
                                                            tmp_path):
  import socket  # pylint: disable=g-import-not-at-top
  with socket.socket() as probe:  # A port nothing listens on.
    probe.bind(('localhost', 0))
    port = probe.getsockname()[1]
  root = make_tree({'c/a.jpg': image_factory.jpeg()})
  with pytest.raises(ValueError,
                     match=rf'No Beam job server answers at localhost:{port} '
                     r'\(--job_endpoint\).*make flink-up'):
    ingest_folder(root, str(tmp_path / 'out'), beam_pipeline_args=[
        '--runner=PortableRunner', f'--job_endpoint=localhost:{port}'])


def test_record_lists_cut_at_their_byte_limit_lose_no_example(
    make_tree, tmp_path, monkeypatch):
  # The engine sends each split's Examples as lists (EncodeImages with
  # record_lists=True): here every list is cut after its first Example.
  from image_example_gen.beam import transform  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(transform, '_RECORD_LIST_BYTES', 1)
  files = {f'c{i % 3}/{i}.jpg': image_factory.jpeg(size=(20 + i, 20))
           for i in range(12)}
  examples = ingest_folder(make_tree(files), str(tmp_path / 'out'),
                           IngestConfig(compression='gzip'))

  written = [example_reader.feature_value(example, 'image/filename').decode()
             for split_dir in glob.glob(os.path.join(examples.uri, 'Split-*'))
             for example in example_reader.read_split(split_dir)]
  assert sorted(written) == sorted(files)


@pytest.mark.slow
def test_every_report_list_survives_names_with_tabs_and_accents(make_tree,
                                                                tmp_path):
  # The report's five line outputs share one text output, one line each
  # '<kind>\t<JSON>': a tab or an accent in a file name must not move a line
  # to another list or cut it.
  photo = image_factory.jpeg(size=(96, 72))
  root = make_tree({
      'cat/tab\there é.jpg': photo,
      'cat/copy.jpg': photo,
      'cat/same photo.png': image_factory.png(size=(96, 72)),
      'dog/cut\tñ.jpg': image_factory.jpeg()[:-2],
      'dog/palette.bmp': image_factory.image_bytes('BMP', 'P',
                                                    photo_name='china'),
      'dog/other.jpg': image_factory.jpeg(size=(60, 60)),
  })
  examples = ingest_folder(root, str(tmp_path / 'out'))
  report = artifact.read_report(examples.uri)

  assert [(entry['relative_path'], entry['reason'])
          for entry in report.skipped] == [('dog/cut\tñ.jpg', 'corrupt')]
  assert [group['files'] for group in report.duplicates] == [
      ['cat/copy.jpg', 'cat/tab\there é.jpg']]
  # The three are one group; the 60x60 crop of the same photo joins them.
  assert [sorted(group['files']) for group in report.near_duplicates] == [
      ['cat/copy.jpg', 'cat/same photo.png', 'cat/tab\there é.jpg',
       'dog/other.jpg']]
  assert report.prepared == {'transcoded': {'bmp': 1}}
  # The counts per split and class add up to the five good images.
  assert sum(count for by_class in report.examples.values()
             for count in by_class.values()) == 5
  assert {name for by_class in report.examples.values()
          for name, count in by_class.items() if count} == {'cat', 'dog'}
