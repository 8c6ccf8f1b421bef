"""inspect() on near duplicates: the summary's figures and near_duplicates.png.

The folder (presplit train/ and eval/) holds crops of scikit-learn's photos
(benchmarks.near_duplicate_eval.base_photos) and copies of them resized,
re-encoded and converted to PNG (its `variants`, kinds whose measured
recall is 1.0), so that the ingest finds three groups, largest first:

- A, 9 files, all train/cat: the base and 8 variants (one more than a row
  shows);
- C, 3 files labelled dog, one of them in eval: it straddles splits;
- B, 2 files, in train, labelled cat and owl: it spans labels;

and three photos with no near copy (their fingerprints are 24 or more bits
from every other: far beyond the threshold of 10).
"""

import dataclasses
import io
import json
import os
import shutil

import numpy as np
from PIL import Image
import pytest
from tfx.proto import example_gen_pb2

from benchmarks import near_duplicate_eval
from image_example_gen import IngestConfig
from image_example_gen.core import artifact
from image_example_gen.inspection import contact_sheet
from image_example_gen.inspection import inspect
from image_example_gen.inspection import near_duplicate_sheet
from image_example_gen.inspection import thumbnails
from image_example_gen.inspection.inspector import collect
from file_tree import write_tree
from ingest_runner import ingest_folder

_A_KINDS = ('resize0.5x', 'resize2x', 'jpeg50', 'jpeg60', 'jpeg70', 'jpeg80',
            'jpeg95', 'png')
# Base photos (indices into base_photos()): a crop of each photo in a few
# orientations, pairwise 24 or more bits apart.
_BASE = {'a': 0, 'c': 21, 'b': 45, 'd': 70, 'e': 90, 'f': 115}
_GROUP_A = ['train/cat/a_base.jpg'] + sorted(
    f'train/cat/a_{kind}.{"png" if kind == "png" else "jpg"}'
    for kind in _A_KINDS)
_GROUP_C = ['eval/dog/c_resize0.5x.jpg', 'train/dog/c_base.jpg',
            'train/dog/c_jpeg95.jpg']
_GROUP_B = ['train/cat/b_base.jpg', 'train/owl/b_png.png']
_ALONE = ['train/owl/d.jpg', 'eval/cat/e.jpg', 'eval/owl/f.jpg']
_RED = contact_sheet.ERROR


def _jpeg(image):
  buffer = io.BytesIO()
  image.convert('RGB').save(buffer, 'JPEG', quality=90)
  return buffer.getvalue()


@pytest.fixture(name='photos', scope='module')
def photos_fixture():
  """{'a' ... 'f': the base photo's JPEG bytes}."""
  bases = near_duplicate_eval.base_photos()
  return {name: _jpeg(bases[index]['image']) for name, index in _BASE.items()}


@pytest.fixture(name='artifact', scope='module')
def artifact_fixture(tmp_path_factory, photos):
  variants = {
      name: dict(near_duplicate_eval.variants(
          photos[name], np.random.default_rng(18)))
      for name in ('a', 'b', 'c')}
  files = {'train/cat/a_base.jpg': photos['a']}
  for path in _GROUP_A[1:]:
    kind = path.split('_', 1)[1].rsplit('.', 1)[0]
    files[path] = variants['a'][kind]
  files.update({
      'train/dog/c_base.jpg': photos['c'],
      'train/dog/c_jpeg95.jpg': variants['c']['jpeg95'],
      'eval/dog/c_resize0.5x.jpg': variants['c']['resize0.5x'],
      'train/cat/b_base.jpg': photos['b'],
      'train/owl/b_png.png': variants['b']['png'],
      'train/owl/d.jpg': photos['d'],
      'eval/cat/e.jpg': photos['e'],
      'eval/owl/f.jpg': photos['f'],
  })
  root = write_tree(str(tmp_path_factory.mktemp('photos')), files)
  input_config = example_gen_pb2.Input(splits=[
      example_gen_pb2.Input.Split(name='train', pattern='train/*'),
      example_gen_pb2.Input.Split(name='eval', pattern='eval/*'),
  ])
  out = str(tmp_path_factory.mktemp('artifact') / 'examples')
  ingest_folder(root, out, IngestConfig(), input_config=input_config)
  # What the rest relies on: the ingest found these groups, in this order.
  assert [group['files'] for group in artifact.read_report(out)
          .near_duplicates] == [_GROUP_A, _GROUP_C, _GROUP_B]
  return out


def _near_duplicate_block(lines):
  """The lines from 'Near-duplicates' to the next unindented line."""
  [start] = [index for index, line in enumerate(lines)
             if line.startswith('Near-duplicates')]
  end = start + 1
  while end < len(lines) and lines[end].startswith('  '):
    end += 1
  return lines[start:end]


def _copy(artifact_dir, tmp_path, **changes):
  """A copy of the artifact whose report has `changes`, written as the
  engine writes it (the JSON lists the first 100 groups, the JSONL all)."""
  copy = str(tmp_path / 'copy')
  shutil.copytree(artifact_dir, copy)
  report = artifact.read_report(copy)
  artifact.write_artifact_files(copy, dataclasses.replace(report, **changes))
  return copy


def _page_text(out_dir):
  with open(os.path.join(out_dir, 'index.html'), encoding='utf-8') as file:
    return file.read()


# --- the summary -------------------------------------------------------------


def test_summary_gives_groups_sizes_labels_and_splits_once(artifact):
  lines = inspect(artifact)
  block = _near_duplicate_block(lines)
  assert block[0] == ('Near-duplicates (within 10 bits): 3 groups, 14 images '
                      '(groups: 1 of 2, 1 of 3, 1 of 9)')
  assert block[1].startswith('  1 group spans different labels')
  assert block[2].startswith('  1 group (3 images) straddles splits')
  # The flagged groups, named: C (in two splits), then B (two labels).
  assert block[3:] == [
      '  eval/dog/c_resize0.5x.jpg, train/dog/c_base.jpg, '
      'train/dog/c_jpeg95.jpg (in eval / train)',
      '  train/cat/b_base.jpg, train/owl/b_png.png (labelled cat / owl)']
  # Once: the inspector's own lines, not also the report's summary_lines().
  assert sum(line.startswith('Near-duplicates') for line in lines) == 1
  assert all(lines.count(line) == 1 for line in block)


def test_summary_counts_every_group_when_the_json_lists_only_100(artifact,
                                                                 tmp_path):
  groups = [{'files': [f'x/{index:03d}_{member}.jpg' for member in range(3)],
             'splits': ['train'], 'class_names': ['cat']}
            for index in range(50)]
  groups += [{'files': [f'y/{index:03d}_{member}.jpg' for member in range(2)],
              'splits': ['eval', 'train'], 'class_names': ['cat']}
             for index in range(100)]
  copy = _copy(artifact, tmp_path, near_duplicates=tuple(groups))
  with open(os.path.join(copy, 'ingest_report.json'), encoding='utf-8') as file:
    assert len(json.load(file)['near_duplicates']) == 100

  block = _near_duplicate_block(inspect(copy))
  assert block[0] == ('Near-duplicates (within 10 bits): 150 groups, 350 '
                      'images (groups: 100 of 2, 50 of 3)')
  assert block[1].startswith('  100 groups (200 images) straddle splits')
  assert not any('WARNING' in line for line in block)

  os.remove(os.path.join(copy, 'near_duplicates.jsonl'))
  block = _near_duplicate_block(inspect(copy))
  assert block[-1].startswith('  WARNING: ingest_report.json counts 150 '
                              'near-duplicate groups, but only 100 are listed')


# --- the picture -------------------------------------------------------------


def _cell(pixels, row, column):
  """The inside of a cell's grey square (the thumbnail's letterbox)."""
  top = row * near_duplicate_sheet.ROW_HEIGHT
  left = contact_sheet.LABEL_WIDTH + column * contact_sheet.CELL_WIDTH
  return pixels[top + 2:top + contact_sheet.CELL_WIDTH - 3,
                left + 2:left + contact_sheet.CELL_WIDTH - 3]


def _centre(image, side=56):
  height, width = image.shape[:2]
  top, left = (height - side) // 2, (width - side) // 2
  return image[top:top + side, left:left + side].astype(float)


def _red(region):
  return int((region == _RED).all(axis=-1).sum())


def test_picture_draws_a_row_per_group_with_its_own_photos(artifact, photos,
                                                           tmp_path):
  lines = inspect(artifact, out_dir=str(tmp_path), samples_per_class=1)
  assert ('Near-duplicate picture: near_duplicates.png, all 3 groups, a row '
          'each (at most 8 images per row)') in lines
  with Image.open(tmp_path / 'near_duplicates.png') as picture:
    picture.load()
    assert picture.size == (
        contact_sheet.LABEL_WIDTH + 8 * contact_sheet.CELL_WIDTH,
        3 * near_duplicate_sheet.ROW_HEIGHT)
    pixels = np.asarray(picture.convert('RGB'))
  expected = {name: _centre(np.asarray(thumbnails.thumbnail(
      photos[name], contact_sheet.THUMBNAIL_SIZE))) for name in 'acb'}
  for row, (name, size) in enumerate((('a', 9), ('c', 3), ('b', 2))):
    for column in range(8):
      cell = _cell(pixels, row, column)
      if column >= min(size, 8):  # no cell: the sheet's white
        assert (cell == 255).all(), (row, column)
        continue
      # A photo, and the photo of this row's group, not another group's.
      difference = {other: np.abs(_centre(cell) - thumb).mean()
                    for other, thumb in expected.items()}
      assert min(difference, key=difference.get) == name, (row, column)
      assert difference[name] < 30, (row, column, difference)


def test_picture_flags_rows_that_span_labels_or_straddle_splits(artifact,
                                                                tmp_path):
  inspect(artifact, out_dir=str(tmp_path), samples_per_class=1)
  with Image.open(tmp_path / 'near_duplicates.png') as picture:
    pixels = np.asarray(picture.convert('RGB'))
  row_height = near_duplicate_sheet.ROW_HEIGHT
  cell = contact_sheet.CELL_WIDTH
  for row, flagged in enumerate((False, True, True)):  # A, C, B
    top = row * row_height
    bar = pixels[top + 2:top + row_height - 2, :4]
    assert (bar == _RED).all(axis=-1).all() == flagged
    label = pixels[top:top + row_height, 4:contact_sheet.LABEL_WIDTH]
    assert (_red(label) > 20) == flagged
    # Under the thumbnails: the differing splits (C) or labels (B) in red.
    captions = pixels[top + cell:top + row_height, contact_sheet.LABEL_WIDTH:]
    assert (_red(captions) > 20) == flagged


def test_page_shows_the_picture_and_lists_its_files(artifact, tmp_path):
  inspect(artifact, out_dir=str(tmp_path), samples_per_class=1)
  page = _page_text(tmp_path)
  assert '<img src="near_duplicates.png"' in page
  listed = page.split('<summary>Files in the near-duplicate groups drawn'
                      '</summary><pre>')[1].split('</pre>')[0].splitlines()
  assert listed == (
      ['Group 1 (9 images)'] +
      [f'  {column:>2}  {path}  (train, cat)'
       for column, path in enumerate(_GROUP_A[:8], 1)] +
      ['      and 1 more, listed in the report',
       'Group 2 (3 images; straddles splits eval / train)',
       '   1  eval/dog/c_resize0.5x.jpg  (eval, dog)',
       '   2  train/dog/c_base.jpg  (train, dog)',
       '   3  train/dog/c_jpeg95.jpg  (train, dog)',
       'Group 3 (2 images; spans labels cat / owl)',
       '   1  train/cat/b_base.jpg  (train, cat)',
       '   2  train/owl/b_png.png  (train, owl)'])


def test_one_split_still_draws_the_groups_members_of_other_splits(artifact,
                                                                  tmp_path):
  inspection = collect(artifact, split='eval', near_duplicates=True)
  assert [split.name for split in inspection.splits] == ['eval']
  members = inspection.near_duplicate_members
  assert set(members) == set(_GROUP_A[:8] + _GROUP_C + _GROUP_B)
  assert members['train/owl/b_png.png'].split == 'train'
  assert members['train/owl/b_png.png'].class_name == 'owl'
  assert all(member.thumbnail is not None for member in members.values())
  # Without out_dir no thumbnail is made for them.
  assert not collect(artifact, split='eval').near_duplicate_members

  inspect(artifact, split='eval', out_dir=str(tmp_path), samples_per_class=1)
  assert '   2  train/dog/c_base.jpg  (train, dog)' in _page_text(tmp_path)


def test_at_most_max_groups_rows_and_missing_files_get_a_cross(artifact,
                                                                tmp_path):
  groups = tuple({'files': [f'gone/{index:03d}_{member}.jpg'
                            for member in range(2)],
                  'splits': ['train'], 'class_names': ['cat']}
                 for index in range(150))
  copy = _copy(artifact, tmp_path, near_duplicates=groups)
  out = tmp_path / 'out'
  lines = inspect(copy, out_dir=str(out), samples_per_class=1)
  assert ('Near-duplicate picture: near_duplicates.png, the 20 largest of '
          '150 groups, a row each (at most 8 images per row)') in lines
  with Image.open(out / 'near_duplicates.png') as picture:
    assert picture.size == (
        contact_sheet.LABEL_WIDTH + 2 * contact_sheet.CELL_WIDTH,
        near_duplicate_sheet.MAX_GROUPS * near_duplicate_sheet.ROW_HEIGHT)
    pixels = np.asarray(picture.convert('RGB'))
  # A cross on the grey: the muted grey along the diagonal, no photo.
  cell = _cell(pixels, 0, 0)
  assert {tuple(colour) for colour in np.unique(cell.reshape(-1, 3), axis=0)
          } == {contact_sheet.CELL, contact_sheet.MUTED}
  assert '   1  gone/000_0.jpg  (not in the Examples)' in _page_text(out)


@pytest.mark.parametrize('threshold, summary, picture', [
    (10, 'Near-duplicates: none (within 10 bits).',
     'Near-duplicate picture: none (no near-duplicate group)'),
    (None, None, 'Near-duplicate picture: none (this ingest did not look '
     'for near-duplicates)'),
], ids=['no_group', 'detection_off'])
def test_no_group_draws_no_picture_and_says_so(artifact, tmp_path, threshold,
                                               summary, picture):
  copy = _copy(artifact, tmp_path, near_duplicates=(),
               near_duplicate_threshold=threshold)
  out = tmp_path / 'out'
  out.mkdir()
  (out / 'near_duplicates.png').write_bytes(b'from an earlier run')
  lines = inspect(copy, out_dir=str(out), samples_per_class=1)
  assert [line for line in lines if 'near-duplicate' in line.lower()] == (
      [summary, picture] if summary else [picture])
  assert not (out / 'near_duplicates.png').exists()
  assert 'near_duplicates.png' not in _page_text(out)
