"""Metadata files through ImageExampleGen's executor: labels, features, bad rows.

The parsing itself is tested in test_metadata.py; here the files are joined
with real image folders and the Examples, the report and the gates checked.
"""

import json
import os

import pytest

from image_example_gen import IngestConfig
from image_example_gen.core import discovery
from image_example_gen.core import artifact
from image_example_gen.core import plan
from ingest_runner import ingest_folder
import example_reader
import image_factory


def _images(names):
  return {name: image_factory.jpeg(size=(16 + index, 12))
          for index, name in enumerate(names)}


def _examples(examples):
  """{filename: Example} over every split."""
  result = {}
  for split in ('train', 'eval'):
    result.update(example_reader.by_filename(example_reader.read_split(
        os.path.join(examples.uri, f'Split-{split}'))))
  return result


def _values(example, key):
  feature = example.features.feature.get(key)
  if feature is None:
    return None
  kind = feature.WhichOneof('kind')
  return list(getattr(feature, kind).value)


def _report(examples):
  return artifact.read_report(examples.uri)


@pytest.mark.slow
def test_csv_labels_and_typed_columns(make_tree, tmp_path):
  files = _images(['a.jpg', 'b.jpg', 'c.jpg', 'sub/d.jpg'])
  files['metadata.csv'] = (
      'file_name,label,year,score,author\n'
      'a.jpg,dog,2019,0.5,Ann\n'
      'b.jpg,cat,2020,1,\n'
      'c.jpg,dog,,2.25,Bo\n'
      'sub/d.jpg,emu,2021,3,Cy\n').encode()
  examples = ingest_folder(make_tree(files), str(tmp_path / 'out'),
                          IngestConfig(labels='metadata'))

  written = _examples(examples)
  assert sorted(written) == ['a.jpg', 'b.jpg', 'c.jpg', 'sub/d.jpg']
  vocabulary = ['cat', 'dog', 'emu']
  assert json.loads(examples.get_string_custom_property('class_names')) == (
      vocabulary)
  assert [_values(written['a.jpg'], key) for key in (
      'image/class/label', 'image/class/text', 'year', 'score', 'author')] == [
          [1], [b'dog'], [2019], [0.5], [b'Ann']]
  assert _values(written['b.jpg'], 'score') == [1.0]  # One type per column.
  assert _values(written['b.jpg'], 'author') is None  # Empty: missing.
  assert _values(written['c.jpg'], 'year') is None
  assert _values(written['sub/d.jpg'], 'image/class/label') == [2]
  assert _report(examples).skipped == ()


@pytest.mark.slow
def test_jsonl_multi_label(make_tree, tmp_path):
  files = _images(['a.jpg', 'b.jpg', 'c.jpg'])
  files['metadata.jsonl'] = '\n'.join(json.dumps(row) for row in [
      {'file_name': 'a.jpg', 'labels': ['sky', 'tree'], 'tags': ['x', 'y']},
      {'file_name': 'b.jpg', 'labels': []},
      {'file_name': 'c.jpg', 'labels': ['tree']},
  ]).encode()
  examples = ingest_folder(make_tree(files), str(tmp_path / 'out'),
                          IngestConfig(labels='metadata'))

  written = _examples(examples)
  assert _values(written['a.jpg'], 'image/class/label') == [0, 1]
  assert _values(written['a.jpg'], 'image/class/text') == [b'sky', b'tree']
  assert _values(written['a.jpg'], 'tags') == [b'x', b'y']
  assert _values(written['b.jpg'], 'image/class/label') in (None, [])
  assert _values(written['c.jpg'], 'image/class/label') == [1]
  assert examples.get_int_custom_property('multi_label') == 1
  counted = {}
  for by_class in _report(examples).examples.values():
    for key, count in by_class.items():
      counted[key] = counted.get(key, 0) + count
  assert counted == {'sky|tree': 1, '': 1, 'tree': 1}


@pytest.mark.slow
def test_folder_labels_with_metadata_columns(make_tree, tmp_path):
  files = {f'{name}/{index}.jpg': image
           for index, (name, image) in enumerate(
               zip(['cat', 'dog'], _images(['x', 'y']).values()))}
  files['metadata.csv'] = b'file_name,photographer\ncat/0.jpg,Ann\ndog/1.jpg,Bo\n'
  examples = ingest_folder(make_tree(files), str(tmp_path / 'out'))
  written = _examples(examples)
  assert _values(written['cat/0.jpg'], 'image/class/text') == [b'cat']
  assert _values(written['dog/1.jpg'], 'photographer') == [b'Bo']


@pytest.mark.slow
def test_integer_labels_named_by_class_names(make_tree, tmp_path):
  files = _images(['a.jpg', 'b.jpg'])
  files['metadata.csv'] = b'file_name,label\na.jpg,1\nb.jpg,0\n'
  examples = ingest_folder(
      make_tree(files), str(tmp_path / 'out'),
      IngestConfig(labels='metadata', class_names=('cat', 'dog')))
  written = _examples(examples)
  assert _values(written['a.jpg'], 'image/class/text') == [b'dog']
  assert _values(written['b.jpg'], 'image/class/label') == [0]


_BAD_ROWS = {
    'metadata.csv': (
        'file_name,label\n'
        'good.jpg,cat\n'
        'gone.jpg,cat\n'          # line 3: no such image
        'twice.jpg,cat\n'         # lines 4 and 5: two rows for one image
        'twice.jpg,dog\n'
        '../escape.jpg,cat\n'     # line 6: leaves the folder
        'odd.jpg,emu\n'           # line 7: not in class_names
        '"broken,cat\n').encode(),  # line 8: unparsable (open quote)
}


def _bad_rows_tree(make_tree):
  files = _images(['good.jpg', 'twice.jpg', 'norow.jpg', 'odd.jpg'])
  files.update(_BAD_ROWS)
  return make_tree(files)


@pytest.mark.slow
def test_every_bad_row_is_reported_with_its_reason(make_tree, tmp_path):
  examples = ingest_folder(
      _bad_rows_tree(make_tree), str(tmp_path / 'out'),
      IngestConfig(labels='metadata', class_names=('cat', 'dog')))

  assert sorted(_examples(examples)) == ['good.jpg']
  skipped = {(entry['relative_path'], entry['reason'])
             for entry in _report(examples).skipped}
  assert skipped == {
      ('metadata.csv:3', 'metadata_row_without_file'),
      ('metadata.csv:4', 'duplicate_metadata_row'),
      ('metadata.csv:5', 'duplicate_metadata_row'),
      ('metadata.csv:6', 'unsafe_file_name'),
      ('metadata.csv:8', 'unparsable_metadata_row'),
      ('norow.jpg', 'no_metadata_row'),
      ('twice.jpg', 'no_metadata_row'),
      ('odd.jpg', 'unknown_label'),
  }
  assert examples.get_int_custom_property('num_skipped_unknown_label') == 1


@pytest.mark.slow
def test_bad_rows_count_for_the_gates(make_tree, tmp_path):
  root = _bad_rows_tree(make_tree)
  config = dict(labels='metadata', class_names=('cat', 'dog'))
  with pytest.raises(Exception, match=r"Bad input file '.*' \((unknown_label|"
                     r'no_metadata_row|metadata_row_without_file|'
                     r'duplicate_metadata_row|unsafe_file_name|'
                     r'unparsable_metadata_row)\)'):
    ingest_folder(root, str(tmp_path / 'fail'),
                 IngestConfig(on_bad_image='fail', **config))
  with pytest.raises(ValueError, match=r'8 of 9 files are bad'):
    ingest_folder(root, str(tmp_path / 'gate'),
                 IngestConfig(max_bad_fraction=0.5, **config))


def test_metadata_labels_need_a_metadata_file(make_tree, tmp_path):
  root = make_tree(_images(['a.jpg']))
  with pytest.raises(ValueError, match=r"labels='metadata', but there is no "
                     r'metadata\.csv or metadata\.jsonl'):
    ingest_folder(root, str(tmp_path / 'out'), IngestConfig(labels='metadata'))


@pytest.mark.slow
def test_jsonl_bad_rows_and_stratified_multi_label(make_tree, tmp_path):
  names = [f'{i}.jpg' for i in range(12)]
  files = _images(names)
  rows = [json.dumps({'file_name': name,
                      'labels': ['sky'] if i % 2 else ['sky', 'tree']})
          for i, name in enumerate(names)]
  rows.insert(3, '{"file_name": "broken.jpg", "labels": ')  # Line 4.
  files['metadata.jsonl'] = '\n'.join(rows).encode()
  examples = ingest_folder(make_tree(files), str(tmp_path / 'out'),
                          IngestConfig(labels='metadata', stratify=True))

  report = _report(examples)
  assert [(entry['relative_path'], entry['reason'])
          for entry in report.skipped] == [
              ('metadata.jsonl:4', 'unparsable_metadata_row')]
  # Stratified on the set of labels: 6 of each set, 2:1 -> 4 and 2 each.
  assert report.examples == {'train': {'sky': 4, 'sky|tree': 4},
                             'eval': {'sky': 2, 'sky|tree': 2}}


def test_integer_labels_keep_the_earlier_vocabulary(make_tree):
  files = _images(['a.jpg', 'b.jpg'])
  files['metadata.csv'] = b'file_name,label\na.jpg,1\nb.jpg,0\n'
  root = make_tree(files)
  splits = [discovery.InputSplit('train', '*')]

  with plan.plan_files(root, splits, IngestConfig(labels='metadata'),
                       previous_class_names=['cat', 'dog']) as planned:
    assert planned.class_names == ('cat', 'dog')
  with pytest.raises(ValueError, match=r"class_names \['dog', 'cat'\] "
                     r"contradicts the vocabulary \['cat', 'dog'\]"):
    plan.plan_files(
        root, splits,
        IngestConfig(labels='metadata', class_names=('dog', 'cat')),
        previous_class_names=['cat', 'dog'])
