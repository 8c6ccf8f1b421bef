"""Tests of the launcher's plan: its store on disk, its order, its join.

What each file and row means (labels, skips) is tested through the ingest in
tests/beam/test_metadata_ingest.py and in test_discovery.py; here, what the
plan itself owns.
"""

import glob
import hashlib
import os
import tempfile

import pytest

import image_factory
from image_example_gen.core import plan
from image_example_gen.core import reasons
from image_example_gen.core.config import IngestConfig
from image_example_gen.core.discovery import InputSplit

ALL = [InputSplit('train', '*')]


def _tree(make_tree, names, metadata=None):
  files = {name: image_factory.jpeg(size=(16, 12)) for name in names}
  if metadata is not None:
    files['metadata.csv'] = metadata.encode()
  return make_tree(files)


def _planned(root, config, splits=ALL):
  with plan.plan_files(root, splits, config) as planned:
    return list(planned.files()), planned


def test_files_come_in_md5_order_of_their_relative_path(make_tree):
  names = [f'{kind}/{index:03d}.jpg' for kind in ('cat', 'dog')
           for index in range(40)]
  files, planned = _planned(_tree(make_tree, names), IngestConfig())

  order = [source.relative_path for source in files]
  assert sorted(order) == sorted(names)
  assert order == sorted(order, key=lambda path: hashlib.md5(
      path.encode()).digest())
  assert (planned.total_files, planned.class_names) == (80, ('cat', 'dog'))
  assert planned.total_bytes == sum(source.size for source in files)


def test_a_relative_input_base_joins_an_absolute_metadata_file(
    make_tree, monkeypatch):
  root = _tree(make_tree, ['a.jpg', 'b.jpg'],
               'file_name,label\na.jpg,cat\nb.jpg,dog\n')
  monkeypatch.chdir(os.path.dirname(root))
  config = IngestConfig(labels='metadata',
                        metadata_file=os.path.join(root, 'metadata.csv'))

  files, planned = _planned(os.path.basename(root), config)

  assert planned.class_names == ('cat', 'dog')
  assert {(source.relative_path, source.class_name, source.skip_reason)
          for source in files} == {('a.jpg', 'cat', None),
                                   ('b.jpg', 'dog', None)}


def test_rows_named_twice_or_without_a_file_become_skipped_entries(make_tree):
  root = _tree(make_tree, ['a.jpg', 'b.jpg', 'c.jpg'],
               'file_name,label\na.jpg,cat\nb.jpg,dog\n./b.jpg,cat\n'
               'gone.jpg,cat\nc.jpg,emu\n')

  files, planned = _planned(root, IngestConfig(labels='metadata'))

  by_path = {source.relative_path: source for source in files}
  assert planned.class_names == ('cat', 'emu')  # 'dog' is only in b's rows.
  assert by_path['a.jpg'].class_name == 'cat'
  assert by_path['c.jpg'].label == 1
  assert by_path['b.jpg'].skip_reason == reasons.NO_METADATA_ROW
  assert {path: source.skip_reason for path, source in by_path.items()
          if path.startswith('metadata.csv:')} == {
              'metadata.csv:3': reasons.DUPLICATE_METADATA_ROW,
              'metadata.csv:4': reasons.DUPLICATE_METADATA_ROW,
              'metadata.csv:5': reasons.METADATA_ROW_WITHOUT_FILE}
  assert 'metadata.csv' not in by_path  # The table is not an image.


def test_the_store_is_deleted_after_use_and_after_an_error(
    make_tree, tmp_path, monkeypatch):
  scratch = tmp_path / 'scratch'
  scratch.mkdir()
  monkeypatch.setattr(tempfile, 'tempdir', str(scratch))
  root = _tree(make_tree, ['cat/a.jpg'])

  with plan.plan_files(root, ALL, IngestConfig()) as planned:
    assert len(glob.glob(str(scratch / 'image_example_gen-plan-*'))) == 1
    assert len(list(planned.files())) == 1
  assert not os.listdir(scratch)

  with pytest.raises(ValueError, match='not in class_names'):
    plan.plan_files(root, ALL, IngestConfig(class_names=('dog',)))
  assert not os.listdir(scratch)
