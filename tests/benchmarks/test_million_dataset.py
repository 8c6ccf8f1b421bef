"""Tests of benchmarks/million_dataset.py on a 200-file dataset."""

import csv
import hashlib
import io
import os

import pytest
from PIL import Image

from benchmarks import million_dataset
from image_example_gen.core import image_probe
from image_example_gen.core.config import IngestConfig
from image_example_gen.core import publish

_FILES = 200
_LIBRARY = 64


@pytest.fixture(name='dataset', scope='module')
def dataset_fixture(tmp_path_factory):
  data_dir = str(tmp_path_factory.mktemp('million') / 'data')
  marker = million_dataset.ensure_dataset(data_dir, _FILES,
                                          library_size=_LIBRARY,
                                          log=lambda line: None)
  return data_dir, marker


def _image_paths(data_dir):
  root = million_dataset.images_dir(data_dir)
  return sorted(os.path.relpath(os.path.join(folder, name), data_dir)
                for folder, _, names in os.walk(root) for name in names)


def test_writes_every_file_in_nested_class_folders(dataset):
  data_dir, marker = dataset
  paths = _image_paths(data_dir)
  assert paths == sorted(million_dataset.file_name(i) for i in range(_FILES))
  assert paths[1] == 'images/class_00/p000/img_0000010.jpg'
  assert {path.split('/')[1] for path in paths} == {
      f'class_{index:02d}' for index in range(10)}
  assert marker['files'] == _FILES and not marker['reused']
  assert marker['bytes'] == sum(
      os.path.getsize(os.path.join(data_dir, path)) for path in paths)
  assert marker['files_per_second'] > 0


def test_files_are_distinct_small_valid_jpegs(dataset):
  data_dir, _ = dataset
  digests = set()
  sizes = []
  for path in _image_paths(data_dir):
    with open(os.path.join(data_dir, path), 'rb') as file:
      data = file.read()
    digests.add(hashlib.sha256(data).hexdigest())
    sizes.append(len(data))
    with Image.open(io.BytesIO(data)) as image:
      assert image.format == 'JPEG' and image.size == (96, 96)
      image.load()
  assert len(digests) == _FILES
  assert 1_000 < sum(sizes) / len(sizes) < 8_000


def test_files_pass_the_ingest_decode_check(dataset):
  data_dir, _ = dataset
  config = IngestConfig()
  for index in (0, 1, _LIBRARY, _FILES - 1):
    with open(os.path.join(data_dir, million_dataset.file_name(index)),
              'rb') as file:
      published = publish.publish_image(file.read(), config)
    assert published.source_format == 'jpeg'


def test_copies_of_a_crop_share_pixels_not_bytes():
  original = io.BytesIO()
  Image.new('RGB', (16, 16), (200, 30, 60)).save(original, 'JPEG')
  first = million_dataset.unique_jpeg(original.getvalue(), 1)
  second = million_dataset.unique_jpeg(original.getvalue(), 2)
  assert first != second
  assert first[:2] == b'\xff\xd8' and b'\xff\xfe\x00\x07img 1' in first
  pixels = [Image.open(io.BytesIO(data)).convert('RGB').tobytes()
            for data in (original.getvalue(), first, second)]
  assert pixels[0] == pixels[1] == pixels[2]
  with pytest.raises(ValueError):
    million_dataset.unique_jpeg(b'\x89PNG', 0)


def test_metadata_has_one_row_per_image(dataset):
  data_dir, _ = dataset
  with open(million_dataset.metadata_path(data_dir), encoding='utf-8') as file:
    rows = list(csv.DictReader(file))
  assert [row['file_name'] for row in rows] == [
      million_dataset.file_name(i) for i in range(_FILES)]
  assert all(row['label'] == row['file_name'].split('/')[1] for row in rows)
  assert {int(row['crop']) for row in rows} == set(range(_LIBRARY))


def test_a_complete_dataset_is_reused(dataset):
  data_dir, marker = dataset
  again = million_dataset.ensure_dataset(data_dir, _FILES,
                                         library_size=_LIBRARY,
                                         log=lambda line: None)
  assert again['reused']
  assert again['seconds'] == marker['seconds']


def test_image_probe_accepts_the_comment_segment(dataset):
  data_dir, _ = dataset
  with open(os.path.join(data_dir, million_dataset.file_name(7)),
            'rb') as file:
    data = file.read()
  info = image_probe.probe_image(data)
  assert (info.format, info.height, info.width) == ('jpeg', 96, 96)
