"""The report's skip list, streamed: counted per input split and reason, the
first of each kept, the whole list written in path order."""

import json
import random

from image_example_gen.core import artifact
from image_example_gen.core import ingest_report


def _entry(path, reason, split):
  return json.dumps({'relative_path': path, 'split': split, 'reason': reason,
                     'detail': 'detail'})


def test_a_streamed_skip_list_counts_all_and_keeps_the_first_of_each(
    tmp_path):
  lines = ([_entry(f'a/{index:04d}.jpg', 'corrupt', 'train')
            for index in range(5000)] +
           [_entry(f'z/{index}.txt', 'not_an_image', 'train')
            for index in range(3)] +
           # Last by path, in a split of their own: kept all the same.
           [_entry(f'zz/{index}.jpg', 'corrupt', 'eval') for index in range(7)])
  random.Random(3).shuffle(lines)
  lists_dir = tmp_path / 'lists'
  lists_dir.mkdir()
  report = ingest_report.build_report(
      '/data', ['cat'], ['train', 'eval'], lines,
      [json.dumps([['train', 'cat'], 10])], lists_dir=str(lists_dir))
  assert report.total_skipped == 5010
  assert report.skipped_per_reason == {'corrupt': 5007, 'not_an_image': 3}
  assert report.skipped_per_reason_in('eval') == {'corrupt': 7}
  assert report.bad_files == 5010
  kept = [entry['relative_path'] for entry in report.skipped]
  assert kept == ([f'a/{index:04d}.jpg' for index in range(100)] +
                  [f'z/{index}.txt' for index in range(3)] +
                  [f'zz/{index}.jpg' for index in range(7)])
  assert report.custom_properties()['num_skipped'] == 5010
  summary = report.summary_lines()
  assert 'Skipped 5010 files (corrupt: 5007, not_an_image: 3):' in summary
  assert summary[-1] == '  ... and 4990 more, listed in skipped.jsonl'
  written = (lists_dir / artifact.SKIPPED_FILE_NAME).read_text().splitlines()
  assert written == sorted(lines, key=lambda line: (
      json.loads(line)['relative_path'], json.loads(line)['split']))
  artifact.write_artifact_files(str(tmp_path / 'out'), report, str(lists_dir))
  values = artifact.read_report_dict(str(tmp_path / 'out'))
  assert values['total_skipped'] == 5010
  assert len(values['skipped']) == ingest_report.REPORT_EXAMPLES_PER_REASON + 3
  assert len(artifact.read_report(str(tmp_path / 'out')).skipped) == 5010
