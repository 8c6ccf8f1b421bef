"""Bad files spread through a larger folder: the skip list stays complete and
exact, and the JSON report stays bounded (issue 16, item 5, at 3,000 files)."""

import json
import os

import pytest

from image_example_gen import IngestConfig
from image_example_gen.beam import engine
from image_example_gen.cli import errors
from image_example_gen.cli import wording
from image_example_gen.core import artifact
from image_example_gen.core import ingest_report
from ingest_runner import ingest_folder
import image_factory

pytestmark = pytest.mark.slow

_FILES = 3000


def _jpeg_with_comment(base: bytes, index: int) -> bytes:
  """The same picture with a COM segment naming the file: distinct bytes."""
  comment = f'file {index}'.encode()
  segment = b'\xff\xfe' + (len(comment) + 2).to_bytes(2, 'big') + comment
  return base[:2] + segment + base[2:]


@pytest.fixture(name='folder', scope='module')
def folder_fixture(tmp_path_factory):
  """3,000 files, 130 of them bad: (root, {relative path: reason})."""
  base = image_factory.jpeg(size=(24, 16))
  root = tmp_path_factory.mktemp('bad_at_scale') / 'images'
  expected = {}
  for index in range(_FILES):
    folder = root / f'class_{index % 10}' / f'part_{index // 500}'
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f'img_{index:05d}.jpg'
    data = _jpeg_with_comment(base, index)
    relative = os.path.relpath(path, root)
    if index % 25 == 7:  # 120 cut short: no end-of-image marker.
      data, expected[relative] = data[:len(data) // 2], 'corrupt'
    elif index % 300 == 11:  # 10 that are not images at all.
      data, expected[relative] = b'not an image', 'not_an_image'
    path.write_bytes(data)
  return root, expected


def test_every_bad_file_is_listed_once_and_the_report_stays_bounded(
    folder, tmp_path):
  root, expected = folder
  output_dir = str(tmp_path / 'examples')

  ingest_folder(str(root), output_dir, IngestConfig())

  report = artifact.read_report(output_dir)
  assert {entry['relative_path']: entry['reason']
          for entry in report.skipped} == expected
  assert len(report.skipped) == len(expected)  # Each listed once.
  assert report.total_examples == _FILES - len(expected)
  with open(os.path.join(output_dir, artifact.SKIPPED_FILE_NAME),
            encoding='utf-8') as file:
    assert sorted(json.loads(line)['relative_path'] for line in file) == (
        sorted(expected))
  values = artifact.read_report_dict(output_dir)
  assert values['total_skipped'] == 130
  assert values['skipped_per_reason'] == {'corrupt': 120, 'not_an_image': 10}
  listed = [entry['reason'] for entry in values['skipped']]
  assert listed.count('corrupt') == ingest_report.REPORT_EXAMPLES_PER_REASON
  assert listed.count('not_an_image') == 10


def test_a_refused_run_lists_every_skipped_file_where_it_would_publish(
    folder, tmp_path):
  """The engine's report keeps the first 100 skipped files of each split and
  reason; refused, the run writes the full list to its folder, and the
  command's error counts all of them."""
  root, expected = folder
  output_dir = str(tmp_path / 'examples')
  with pytest.raises(engine.IngestError) as raised:
    ingest_folder(str(root), output_dir, IngestConfig(max_bad_fraction=0.01))
  error = raised.value
  assert error.report.total_skipped == 130
  assert len(error.report.skipped) == 110  # 100 corrupt, 10 not_an_image.
  assert error.skipped_list == os.path.join(output_dir,
                                            artifact.SKIPPED_FILE_NAME)
  with open(error.skipped_list, encoding='utf-8') as file:
    listed = [json.loads(line) for line in file]
  assert {entry['relative_path']: entry['reason']
          for entry in listed} == expected
  assert [entry['relative_path'] for entry in listed] == sorted(expected)
  assert not os.path.exists(os.path.join(output_dir, 'Split-train'))
  line = errors.describe(error, wording.Context(
      skipped_list=errors.skipped_list(error)))
  assert line.startswith('130 of 3000 files are bad (4.3%), over '
                         '--max-bad-fraction 0.01: corrupt 120, '
                         'not_an_image 10 (')
  assert f'and 120 more, listed in {error.skipped_list})' in line
