"""Tests of the metadata package: reading metadata.csv / metadata.jsonl."""

import json
import math
import os
import pickle

import pytest

from image_example_gen.core import labeling
from image_example_gen.core import metadata
from image_example_gen.core.config import IngestConfig
from image_example_gen.core.metadata import MetadataError
from image_example_gen.core.metadata import reader
from image_example_gen.core.metadata import row_builder


def write(tmp_path, name: str, content) -> str:
  """Writes text (UTF-8) or bytes to tmp_path/name; returns the path."""
  path = tmp_path / name
  path.parent.mkdir(parents=True, exist_ok=True)
  if isinstance(content, str):
    content = content.encode('utf-8')
  path.write_bytes(content)
  return str(path)


def write_jsonl(tmp_path, rows, name='metadata.jsonl') -> str:
  """Writes one line per row: a dict is dumped as JSON, a str kept as is."""
  lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
  return write(tmp_path, name, '\n'.join(lines) + '\n')


def typed(features):
  """Features with each value's type made visible (1 == 1.0 in Python)."""
  return {column: tuple((type(value).__name__, value) for value in values)
          for column, values in features.items()}


def problems_of(table):
  return [(problem.line, problem.file_name, problem.reason)
          for problem in table.problems]


# Labels.


def test_csv_single_label_names(tmp_path):
  path = write(tmp_path, 'train/metadata.csv',
               'file_name,label\ncat/1.jpg,cat\n2.jpg,dog\n3.jpg,\n')

  table = metadata.read_metadata(path)

  assert table.path == path
  assert table.folder == str(tmp_path / 'train')
  assert table.label_column == 'label'
  assert table.column_types == {}
  assert table.problems == ()
  assert table.rows == {
      'cat/1.jpg': metadata.MetadataRow(2, 'cat/1.jpg', ('cat',), {}),
      '2.jpg': metadata.MetadataRow(3, '2.jpg', ('dog',), {}),
      '3.jpg': metadata.MetadataRow(4, '3.jpg', (), {}),
  }


def test_csv_single_label_ids_are_ints(tmp_path):
  path = write(tmp_path, 'metadata.csv', 'file_name,label\na.jpg,0\nb.jpg,12\n')

  rows = metadata.read_metadata(path).rows

  assert [row.labels for row in rows.values()] == [(0,), (12,)]
  assert all(type(row.labels[0]) is int for row in rows.values())


def test_csv_labels_mixing_names_and_integers_are_all_names(tmp_path):
  path = write(tmp_path, 'metadata.csv',
               'file_name,label\na.jpg,007\nb.jpg,cat\n')

  rows = metadata.read_metadata(path).rows

  assert rows['a.jpg'].labels == ('007',)
  assert rows['b.jpg'].labels == ('cat',)


def test_jsonl_single_label_names_and_ids(tmp_path):
  names = write_jsonl(tmp_path, [{'file_name': 'a.jpg', 'label': 'cat'},
                                 {'file_name': 'b.jpg', 'label': None},
                                 {'file_name': 'c.jpg'}], name='n.jsonl')
  ids = write_jsonl(tmp_path, [{'file_name': 'a.jpg', 'label': 2},
                               {'file_name': 'b.jpg', 'label': 0}],
                    name='i.jsonl')

  name_rows = metadata.read_metadata(names).rows
  id_rows = metadata.read_metadata(ids).rows

  assert [row.labels for row in name_rows.values()] == [('cat',), (), ()]
  assert [row.labels for row in id_rows.values()] == [(2,), (0,)]


def test_jsonl_integer_among_names_becomes_a_name(tmp_path):
  path = write_jsonl(tmp_path, [{'file_name': 'a.jpg', 'label': 3},
                                {'file_name': 'b.jpg', 'label': 'cat'}])

  rows = metadata.read_metadata(path).rows

  assert rows['a.jpg'].labels == ('3',)


def test_csv_multi_label_cells_are_split_on_the_separator(tmp_path):
  assert metadata.LABELS_SEPARATOR == '|'
  path = write(tmp_path, 'metadata.csv',
               'file_name,labels\na.jpg,cat|dog\nb.jpg, bird | cat \n'
               'c.jpg,\nd.jpg,0|fish\n')

  table = metadata.read_metadata(path)

  assert table.label_column == 'labels'
  assert {name: row.labels for name, row in table.rows.items()} == {
      'a.jpg': ('cat', 'dog'), 'b.jpg': ('bird', 'cat'), 'c.jpg': (),
      'd.jpg': ('0', 'fish')}


def test_csv_multi_label_ids(tmp_path):
  path = write(tmp_path, 'metadata.csv', 'file_name,labels\na.jpg,2|0\n')

  assert metadata.read_metadata(path).rows['a.jpg'].labels == (2, 0)


def test_jsonl_multi_label_lists(tmp_path):
  path = write_jsonl(tmp_path, [
      {'file_name': 'a.jpg', 'labels': ['cat', 'dog']},
      {'file_name': 'b.jpg', 'labels': []},
      {'file_name': 'c.jpg', 'labels': None},
  ])

  table = metadata.read_metadata(path)

  assert table.label_column == 'labels'
  assert [row.labels for row in table.rows.values()] == [('cat', 'dog'), (),
                                                         ()]


@pytest.mark.parametrize('cell', ['a||b', 'a|', '|a', 'a|a'])
def test_csv_bad_multi_label_cells_are_unparsable(tmp_path, cell):
  path = write(tmp_path, 'metadata.csv',
               f'file_name,labels\nx.jpg,{cell}\ny.jpg,b\n')

  table = metadata.read_metadata(path)

  assert problems_of(table) == [(2, 'x.jpg', metadata.UNPARSABLE_ROW)]
  assert cell in table.problems[0].detail
  assert list(table.rows) == ['y.jpg']


@pytest.mark.parametrize('row', [
    {'file_name': 'x.jpg', 'label': 1.5},
    {'file_name': 'x.jpg', 'label': True},
    {'file_name': 'x.jpg', 'label': ['a', 'b']},
    {'file_name': 'x.jpg', 'labels': 'cat'},
    {'file_name': 'x.jpg', 'labels': ['cat', '']},
    {'file_name': 'x.jpg', 'labels': ['cat', None]},
    {'file_name': 'x.jpg', 'labels': ['cat', 'cat']},
], ids=['float', 'bool', 'list_in_label', 'labels_not_a_list',
        'empty_name', 'null_in_list', 'twice'])
def test_jsonl_bad_labels_are_unparsable(tmp_path, row):
  path = write_jsonl(tmp_path, [row, {'file_name': 'y.jpg'}])

  table = metadata.read_metadata(path)

  assert problems_of(table) == [(1, 'x.jpg', metadata.UNPARSABLE_ROW)]
  assert list(table.rows) == ['y.jpg']


# Feature columns.


def test_csv_feature_column_types_are_inferred_over_the_whole_file(tmp_path):
  path = write(
      tmp_path, 'metadata.csv',
      'file_name,count,score,note,huge,nan,empty,overflow\n'
      'a.jpg,1,1,7,1,nan,,1.5\n'
      'b.jpg,-2,2.5,8.5,99999999999999999999,1.5,,1e999\n'
      'c.jpg,+3,3,seven,2,2,,\n'
      'd.jpg,,.5e1,,,,,\n')

  table = metadata.read_metadata(path)

  assert table.column_types == {
      'count': 'int64', 'score': 'float', 'note': 'bytes', 'huge': 'bytes',
      'nan': 'bytes', 'empty': 'bytes', 'overflow': 'bytes'}
  assert list(table.column_types) == ['count', 'score', 'note', 'huge', 'nan',
                                      'empty', 'overflow']
  assert typed(table.rows['a.jpg'].features) == {
      'count': (('int', 1),), 'score': (('float', 1.0),),
      'note': (('str', '7'),), 'huge': (('str', '1'),),
      'nan': (('str', 'nan'),), 'overflow': (('str', '1.5'),)}
  assert typed(table.rows['b.jpg'].features)['huge'] == (
      ('str', '99999999999999999999'),)
  assert typed(table.rows['c.jpg'].features)['count'] == (('int', 3),)
  assert typed(table.rows['d.jpg'].features) == {
      'score': (('float', 5.0),)}


def test_csv_cells_are_stripped_and_quoted_commas_kept(tmp_path):
  path = write(tmp_path, 'metadata.csv',
               'file_name , caption\r\n a.jpg , "red, round" \r\n')

  table = metadata.read_metadata(path)

  assert table.rows['a.jpg'].features == {'caption': ('red, round',)}


def test_jsonl_feature_types_lists_and_missing_values(tmp_path):
  path = write_jsonl(tmp_path, [
      {'file_name': 'a.jpg', 'ints': [1, 2], 'mixed': 1, 'text': 3,
       'flag': True, 'boxes': [0.5, 1], 'none': None},
      {'file_name': 'b.jpg', 'ints': [], 'mixed': 2.5, 'text': 'x',
       'flag': False, 'boxes': 2},
      {'file_name': 'c.jpg', 'ints': None, 'text': '3', 'flag': 1.5},
      {'file_name': 'd.jpg', 'text': True},
  ])

  table = metadata.read_metadata(path)

  assert table.column_types == {
      'ints': 'int64', 'mixed': 'float', 'text': 'bytes', 'flag': 'float',
      'boxes': 'float', 'none': 'bytes'}
  rows = {name: typed(row.features) for name, row in table.rows.items()}
  assert rows['a.jpg'] == {
      'ints': (('int', 1), ('int', 2)), 'mixed': (('float', 1.0),),
      'text': (('str', '3'),), 'flag': (('float', 1.0),),
      'boxes': (('float', 0.5), ('float', 1.0))}
  assert rows['b.jpg'] == {
      'ints': (), 'mixed': (('float', 2.5),), 'text': (('str', 'x'),),
      'flag': (('float', 0.0),), 'boxes': (('float', 2.0),)}
  assert rows['c.jpg'] == {'text': (('str', '3'),), 'flag': (('float', 1.5),)}
  assert rows['d.jpg'] == {'text': (('str', 'true'),)}


def test_jsonl_booleans_are_int64(tmp_path):
  path = write_jsonl(tmp_path, [{'file_name': 'a.jpg', 'ok': True},
                                {'file_name': 'b.jpg', 'ok': [False, 3]}])

  table = metadata.read_metadata(path)

  assert table.column_types == {'ok': 'int64'}
  assert typed(table.rows['a.jpg'].features) == {'ok': (('int', 1),)}
  assert typed(table.rows['b.jpg'].features) == {'ok': (('int', 0),
                                                        ('int', 3))}


@pytest.mark.parametrize('line, detail', [
    ('{"file_name": "x.jpg", "v": [[1]]}', 'a list inside a list'),
    ('{"file_name": "x.jpg", "v": [1, null]}', 'null inside a list'),
    ('{"file_name": "x.jpg", "v": {"a": 1}}', 'a JSON object'),
    ('{"file_name": "x.jpg", "v": 1e999}', 'too large'),
    ('{"file_name": "x.jpg", "v": NaN}', 'NaN is not JSON'),
])
def test_jsonl_unsupported_values_are_unparsable(tmp_path, line, detail):
  path = write_jsonl(tmp_path, [line, {'file_name': 'y.jpg', 'v': 1}])

  table = metadata.read_metadata(path)

  assert [problem.reason for problem in table.problems] == [
      metadata.UNPARSABLE_ROW]
  assert detail in table.problems[0].detail
  assert table.column_types == {'v': 'int64'}
  assert list(table.rows) == ['y.jpg']


# Bad rows.


def test_csv_unparsable_rows(tmp_path):
  path = write(tmp_path, 'metadata.csv',
               'file_name,label,note\n'
               'a.jpg,cat\n'                 # Too few fields.
               'b.jpg,cat,x,extra\n'         # Too many.
               ',cat,x\n'                    # No file_name.
               'c.jpg,cat,x\n')

  table = metadata.read_metadata(path)

  assert problems_of(table) == [(2, 'a.jpg', metadata.UNPARSABLE_ROW),
                                (3, 'b.jpg', metadata.UNPARSABLE_ROW),
                                (4, '', metadata.UNPARSABLE_ROW)]
  assert '2 fields where the header has 3 columns' in table.problems[0].detail
  assert 'file_name is empty' in table.problems[2].detail
  assert list(table.rows) == ['c.jpg']


def test_csv_open_quote_names_the_lines_it_swallowed(tmp_path):
  path = write(tmp_path, 'metadata.csv',
               'file_name,note\n"a.jpg,x\nb.jpg,y\n')

  table = metadata.read_metadata(path)

  assert [problem.line for problem in table.problems] == [2]
  assert 'spans lines 2-3' in table.problems[0].detail


def test_jsonl_unparsable_rows(tmp_path):
  path = write_jsonl(tmp_path, [
      '{"file_name": "a.jpg"',
      '["b.jpg"]',
      {'label': 'cat'},
      {'file_name': 7},
      {'file_name': ''},
      {'file_name': 'ok.jpg'},
  ])

  table = metadata.read_metadata(path)

  assert problems_of(table) == [(1, '', metadata.UNPARSABLE_ROW),
                                (2, '', metadata.UNPARSABLE_ROW),
                                (3, '', metadata.UNPARSABLE_ROW),
                                (4, '7', metadata.UNPARSABLE_ROW),
                                (5, '', metadata.UNPARSABLE_ROW)]
  assert 'not valid JSON' in table.problems[0].detail
  assert 'not an object' in table.problems[1].detail
  assert 'no file_name' in table.problems[2].detail
  assert 'not a string' in table.problems[3].detail
  assert list(table.rows) == ['ok.jpg']


UNSAFE_NAMES = ['../x.jpg', 'a/../../x.jpg', '/etc/passwd', 'gs://b/x.jpg',
                'file:///etc/passwd', 'C:\\x.jpg', '..\\x.jpg']


@pytest.mark.parametrize('name', UNSAFE_NAMES)
def test_csv_unsafe_file_names(tmp_path, name):
  path = write(tmp_path, 'metadata.csv',
               f'file_name,label\n"{name}",cat\nok.jpg,cat\n')

  table = metadata.read_metadata(path)

  assert problems_of(table) == [(2, name, metadata.UNSAFE_FILE_NAME)]
  assert list(table.rows) == ['ok.jpg']


@pytest.mark.parametrize('name', UNSAFE_NAMES)
def test_jsonl_unsafe_file_names(tmp_path, name):
  path = write_jsonl(tmp_path, [{'file_name': 'ok.jpg'},
                                {'file_name': name}])

  table = metadata.read_metadata(path)

  assert problems_of(table) == [(2, name, metadata.UNSAFE_FILE_NAME)]
  assert list(table.rows) == ['ok.jpg']


def test_file_names_are_normalized(tmp_path):
  path = write(tmp_path, 'metadata.csv',
               'file_name\n./a//b/../c.jpg\nsub\\d.jpg\n')

  assert list(metadata.read_metadata(path).rows) == ['a/c.jpg', 'sub/d.jpg']


def test_csv_duplicates_drop_every_row_of_the_file(tmp_path):
  path = write(tmp_path, 'metadata.csv',
               'file_name,label\na.jpg,cat\nb.jpg,dog\n./a.jpg,dog\n'
               'c.jpg,cat\na.jpg,cat\n')

  table = metadata.read_metadata(path)

  assert problems_of(table) == [(2, 'a.jpg', metadata.DUPLICATE_ROW),
                                (4, './a.jpg', metadata.DUPLICATE_ROW),
                                (6, 'a.jpg', metadata.DUPLICATE_ROW)]
  assert 'lines 2, 4, 6' in table.problems[0].detail
  assert list(table.rows) == ['b.jpg', 'c.jpg']


def test_jsonl_duplicates_drop_every_row_of_the_file(tmp_path):
  path = write_jsonl(tmp_path, [{'file_name': 'a.jpg', 'label': 'cat'},
                                {'file_name': 'a.jpg', 'label': 'dog'},
                                {'file_name': 'b.jpg', 'label': 'dog'}])

  table = metadata.read_metadata(path)

  assert problems_of(table) == [(1, 'a.jpg', metadata.DUPLICATE_ROW),
                                (2, 'a.jpg', metadata.DUPLICATE_ROW)]
  assert list(table.rows) == ['b.jpg']


def test_bad_rows_do_not_shape_column_types(tmp_path):
  path = write(tmp_path, 'metadata.csv',
               'file_name,n\na.jpg,1\n/abs.jpg,text\nb.jpg,2\nb.jpg,2.5\n')

  table = metadata.read_metadata(path)

  assert table.column_types == {'n': 'float'}  # Duplicates count, bad don't.
  assert list(table.rows) == ['a.jpg']


def test_blank_lines_rows_of_empty_cells_and_bom_are_ignored(tmp_path):
  csv_path = write(tmp_path, 'metadata.csv',
                   b'\xef\xbb\xbffile_name,label\n\na.jpg,cat\n,\n\n'
                   b'b.jpg,dog\n')
  jsonl_path = write(tmp_path, 'metadata.jsonl',
                     b'\xef\xbb\xbf{"file_name": "a.jpg"}\n\n  \n'
                     b'{"file_name": "b.jpg"}\n')

  csv_table = metadata.read_metadata(csv_path)
  jsonl_table = metadata.read_metadata(jsonl_path)

  assert csv_table.problems == jsonl_table.problems == ()
  assert [row.line for row in csv_table.rows.values()] == [3, 6]
  assert [row.line for row in jsonl_table.rows.values()] == [1, 4]


# Whole-file errors.


@pytest.mark.parametrize('name, content, message', [
    ('metadata.csv', 'name,label\na.jpg,cat\n', 'no file_name column'),
    ('metadata.csv', 'file_name,label,labels\na.jpg,cat,cat\n',
     'both a label and a labels column'),
    ('metadata.csv', '', 'the file is empty'),
    ('metadata.csv', ',file_name\n0,a.jpg\n', 'column 1 of the header has no'),
    ('metadata.csv', 'file_name,x,x\n', "names column 'x' twice"),
    ('metadata.csv', b'file_name\na.jpg\n\xff.jpg\n', 'line 3 is not UTF-8'),
    ('metadata.jsonl', '{"file_name": "a.jpg", "label": "cat"}\n'
     '{"file_name": "b.jpg", "labels": ["cat"]}\n', 'both a label'),
    ('metadata.jsonl', '{"name": "a.jpg"}\n{"name": "b.jpg"}\n',
     'no row has a file_name'),
    ('metadata.jsonl', '{"file_name": "a.jpg", "": 1}\n', 'an empty key'),
    ('metadata.json', '{"file_name": "a.jpg"}\n', 'a .csv or a .jsonl'),
], ids=['no_file_name', 'label_and_labels', 'empty', 'unnamed_column',
        'column_twice', 'not_utf8', 'jsonl_label_and_labels',
        'jsonl_no_file_name', 'jsonl_empty_key', 'extension'])
def test_unusable_files_raise_naming_the_file(tmp_path, name, content,
                                              message):
  path = write(tmp_path, name, content)

  with pytest.raises(MetadataError, match=message) as raised:
    metadata.read_metadata(path)

  assert str(raised.value).startswith(path + ':')
  assert '\n' not in str(raised.value)


def test_missing_file_raises(tmp_path):
  path = str(tmp_path / 'metadata.csv')

  with pytest.raises(MetadataError, match='cannot be opened'):
    metadata.read_metadata(path)


def test_metadata_error_is_a_value_error():
  assert issubclass(MetadataError, ValueError)


def test_header_only_csv_and_empty_jsonl_have_no_rows(tmp_path):
  csv_table = metadata.read_metadata(
      write(tmp_path, 'metadata.csv', 'file_name,label,size\n'))
  jsonl_table = metadata.read_metadata(write(tmp_path, 'metadata.jsonl', ''))

  assert (csv_table.rows, csv_table.label_column,
          csv_table.column_types) == ({}, 'label', {'size': 'bytes'})
  assert (jsonl_table.rows, jsonl_table.label_column,
          jsonl_table.column_types) == ({}, None, {})


# find_metadata_file.


def test_find_metadata_file(tmp_path):
  empty = tmp_path / 'empty'
  (empty / 'metadata.csv').mkdir(parents=True)  # A folder is not the file.
  write(tmp_path, 'csv/metadata.csv', 'file_name\n')
  write(tmp_path, 'jsonl/metadata.jsonl', '')

  assert metadata.find_metadata_file(str(empty)) is None
  assert metadata.find_metadata_file(str(tmp_path / 'csv')) == str(
      tmp_path / 'csv' / 'metadata.csv')
  assert metadata.find_metadata_file(str(tmp_path / 'jsonl')) == str(
      tmp_path / 'jsonl' / 'metadata.jsonl')
  assert metadata.METADATA_FILE_NAMES == ('metadata.csv', 'metadata.jsonl')


def test_find_metadata_file_refuses_both(tmp_path):
  write(tmp_path, 'metadata.csv', 'file_name\n')
  write(tmp_path, 'metadata.jsonl', '')

  with pytest.raises(MetadataError,
                     match='both metadata.csv and metadata.jsonl'):
    metadata.find_metadata_file(str(tmp_path))


# Labels to ids.


def test_resolve_labels_maps_names_and_checks_ids():
  vocabulary = ['cat', 'dog', 'fish']

  assert metadata.resolve_labels(('fish', 'cat'), vocabulary) == (2, 0)
  assert metadata.resolve_labels((1, 2), tuple(vocabulary)) == (1, 2)
  assert metadata.resolve_labels((), vocabulary) == ()


@pytest.mark.parametrize('labels, message', [
    (('cow',), r"Label 'cow' is not a class name; the classes are \['cat'"),
    ((3,), r'Label id 3 is outside the 3 classes \(ids 0 to 2'),
    ((-1,), 'Label id -1 is outside'),
    ((True,), 'neither a class name nor an id'),
])
def test_resolve_labels_rejects_unknown_labels(labels, message):
  with pytest.raises(ValueError, match=message):
    metadata.resolve_labels(labels, ['cat', 'dog', 'fish'])


def test_resolve_labels_shortens_a_long_vocabulary_in_messages():
  vocabulary = [f'class{index:03d}' for index in range(500)]

  with pytest.raises(ValueError, match=r'\.\.\. \(500 in all\)') as raised:
    metadata.resolve_labels(('cow',), vocabulary)

  assert 'class499' not in str(raised.value)


def test_the_vocabulary_comes_from_the_label_names_or_the_largest_id():
  tables = [metadata.MetadataFile('a/metadata.csv', 'a', 'labels', {})]
  config = IngestConfig(labels='metadata')
  names, multi_label = labeling.metadata_vocabulary(
      tables, [('cat', 'dog'), ('bird',), ()], config, None)
  assert (names, multi_label) == (('bird', 'cat', 'dog'), True)
  ids, _ = labeling.metadata_vocabulary(tables, [(4,), (0, 2)], config, None)
  assert ids == ('0', '1', '2', '3', '4')
  with pytest.raises(ValueError, match="mix 'label' and 'labels'"):
    labeling.metadata_vocabulary(
        tables + [metadata.MetadataFile('b/metadata.csv', 'b', 'label', {})],
        [], config, None)


def test_rows_and_problems_pickle_for_beam_workers(tmp_path):
  table = metadata.read_metadata(write(
      tmp_path, 'metadata.csv', 'file_name,label,n\na.jpg,cat,1\n../b.jpg,,\n'))

  restored = pickle.loads(pickle.dumps(table))

  assert restored == table
  with pytest.raises(AttributeError):
    table.rows['a.jpg'].line = 3  # Frozen.


def test_package_exports_only_what_it_defines():
  for name in metadata.__all__:
    assert hasattr(metadata, name), name
  assert metadata.ALL_ROW_REASONS == (
      'unparsable_metadata_row', 'unsafe_file_name', 'duplicate_metadata_row')
  assert os.path.basename(metadata.__file__) == '__init__.py'


def test_equal_values_are_shared_and_negative_zero_kept(tmp_path):
  path = write(tmp_path, 'metadata.csv',
               'file_name,label,w,x\na.jpg,cat,640,0.0\nb.jpg,cat,640,-0.0\n')

  rows = metadata.read_metadata(path).rows

  assert rows['a.jpg'].features['w'] is rows['b.jpg'].features['w']
  assert rows['a.jpg'].labels is rows['b.jpg'].labels
  assert math.copysign(1, rows['a.jpg'].features['x'][0]) == 1
  assert math.copysign(1, rows['b.jpg'].features['x'][0]) == -1


def test_sharing_stops_at_its_bound_without_changing_values(tmp_path,
                                                            monkeypatch):
  monkeypatch.setattr(row_builder, '_SHARED_PER_COLUMN', 1)
  path = write(tmp_path, 'metadata.csv',
               'file_name,w\na.jpg,1\nb.jpg,2\nc.jpg,2\nd.jpg,1\n')

  rows = metadata.read_metadata(path).rows

  assert [row.features['w'] for row in rows.values()] == [(1,), (2,), (2,),
                                                          (1,)]
  assert rows['a.jpg'].features['w'] is rows['d.jpg'].features['w']
  assert rows['b.jpg'].features['w'] is not rows['c.jpg'].features['w']


class _FakeFileSystems:
  """Beam's FileSystems for 'fake://bucket/...' URIs, kept in a local folder."""

  def __init__(self, root):
    self._root = root

  def _local(self, uri):
    assert uri.startswith('fake://bucket/'), uri
    return os.path.join(self._root, uri[len('fake://bucket/'):])

  def exists(self, uri):
    return os.path.exists(self._local(uri))

  def open(self, uri):
    return open(self._local(uri), 'rb')  # pylint: disable=consider-using-with


def test_uris_are_read_with_beam_filesystems(tmp_path, monkeypatch):
  monkeypatch.setattr(reader, '_beam_filesystems',
                      lambda: _FakeFileSystems(str(tmp_path)))
  write(tmp_path, 'train/metadata.jsonl', '{"file_name": "a.jpg"}\n')

  path = metadata.find_metadata_file('fake://bucket/train/')
  table = metadata.read_metadata(path)

  assert path == 'fake://bucket/train/metadata.jsonl'
  assert table.folder == 'fake://bucket/train'
  assert list(table.rows) == ['a.jpg']
  assert metadata.find_metadata_file('fake://bucket/eval') is None
  with pytest.raises(MetadataError, match='fake://bucket/eval/metadata.csv: '
                     'cannot be opened'):
    metadata.read_metadata('fake://bucket/eval/metadata.csv')
