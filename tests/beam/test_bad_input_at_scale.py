"""Bad files spread through a larger folder: the skip list stays complete and
exact, and the JSON report stays bounded (issue 16, item 5, at 3,000 files)."""

import json
import os

import pytest

from image_example_gen import IngestConfig
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


def test_every_bad_file_is_listed_once_and_the_report_stays_bounded(
    tmp_path):
  base = image_factory.jpeg(size=(24, 16))
  root = tmp_path / 'images'
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
