"""The report's near-duplicate part: counts, flags, summary, JSON and files."""

import json

from image_example_gen.core import artifact
from image_example_gen.core import ingest_report


def _group(files, splits=('train',), class_names=('cat',)):
  return json.dumps({'files': list(files), 'splits': list(splits),
                     'class_names': list(class_names)})


def _report(group_lines, examples=None, threshold=10):
  counts = [json.dumps([[split, 'cat'], count])
            for split, count in (examples or {'train': 900,
                                              'eval': 100}).items()]
  return ingest_report.build_report(
      '/data', ['cat', 'dog'], ['train', 'eval'], [], counts,
      near_duplicate_lines=group_lines, near_duplicate_threshold=threshold)


def test_groups_are_sorted_largest_first_and_flagged():
  report = _report([
      _group(['a.jpg', 'b.jpg']),
      _group(['c.jpg', 'd.jpg', 'e.jpg'], splits=('eval', 'train')),
      _group(['f.jpg', 'g.jpg'], class_names=('cat', 'dog')),
  ])
  assert [len(group['files']) for group in report.near_duplicates] == [3, 2, 2]
  assert report.near_duplicate_images == 7
  assert report.near_duplicate_group_sizes == {2: 2, 3: 1}
  assert [group['files'] for group in
          report.near_duplicates_straddling_splits] == [
              ['c.jpg', 'd.jpg', 'e.jpg']]
  assert [group['files'] for group in
          report.near_duplicates_spanning_labels] == [['f.jpg', 'g.jpg']]
  lines = report.near_duplicate_lines()
  assert lines[0] == ('Near-duplicates (within 10 bits): 3 groups, 7 images '
                      '(groups: 2 of 2, 1 of 3)')
  assert lines[1] == ('  1 group spans different labels (likely labelling '
                      'errors)')
  assert lines[2].startswith('  1 group (3 images) straddles splits')
  assert lines[3] == '  c.jpg, d.jpg, e.jpg (in eval / train)'
  assert lines[4] == '  f.jpg, g.jpg (labelled cat / dog)'
  assert len(lines) == 5
  properties = report.custom_properties()
  assert properties['num_near_duplicate_groups'] == 3
  assert properties['num_near_duplicate_groups_straddling_splits'] == 1
  assert properties['num_near_duplicate_groups_spanning_labels'] == 1


def test_a_group_of_more_than_one_percent_is_flagged_as_a_chain():
  big = _group([f'sky_{index:03d}.jpg' for index in range(25)])
  small = _group([f'photo_{index}.jpg' for index in range(3)])
  report = _report([big, small])  # 1,000 images: the limit is 20.
  assert [len(group['files'])
          for group in report.oversized_near_duplicate_groups] == [25]
  warning = report.near_duplicate_lines()[1]
  assert warning.startswith('  WARNING: one group holds 25 images (2% of all)')
  assert 'near_duplicate_threshold (now 10)' in warning
  # The same group among 10,000 images is under 1%: not flagged.
  assert not _report([big], {'train': 9000, 'eval': 1000}
                     ).oversized_near_duplicate_groups


def test_detection_off_says_nothing_and_writes_no_group_file(tmp_path):
  report = ingest_report.build_report(
      '/data', ['cat'], ['train'], [], [json.dumps([['train', 'cat'], 3])])
  assert report.near_duplicate_threshold is None
  assert report.near_duplicate_lines() == []
  values = json.loads(report.to_json())
  assert values['near_duplicate_threshold'] is None
  assert 'near_duplicate_groups' not in values
  assert 'num_near_duplicate_groups' not in report.custom_properties()
  artifact.write_artifact_files(str(tmp_path), report)
  assert not (tmp_path / artifact.NEAR_DUPLICATES_FILE_NAME).exists()


def test_no_group_found_is_said(tmp_path):
  report = _report([])
  assert report.near_duplicate_lines() == [
      'Near-duplicates: none (within 10 bits).']
  artifact.write_artifact_files(str(tmp_path), report)
  assert (tmp_path / artifact.NEAR_DUPLICATES_FILE_NAME).read_text() == ''


def test_json_keeps_the_largest_groups_and_the_file_keeps_all(tmp_path):
  lines = [_group([f'{index:03d}_a.jpg', f'{index:03d}_b.jpg'])
           for index in range(150)]
  lines.append(_group(['big_1.jpg', 'big_2.jpg', 'big_3.jpg']))
  report = _report(lines)
  artifact.write_artifact_files(str(tmp_path), report)
  values = artifact.read_report_dict(str(tmp_path))
  assert values['near_duplicate_groups'] == 151
  assert len(values['near_duplicates']) == (
      ingest_report.REPORT_NEAR_DUPLICATE_GROUPS)
  assert values['near_duplicates'][0]['files'][0] == 'big_1.jpg'
  assert values['near_duplicate_group_sizes'] == {'2': 150, '3': 1}
  read_back = artifact.read_report(str(tmp_path))
  assert read_back.near_duplicates == report.near_duplicates
  assert read_back.near_duplicate_threshold == 10


def test_a_group_listing_its_first_files_counts_them_all():
  listed = [f'blank_{index:04d}.png' for index in range(1000)]
  group = json.dumps({'count': 5000, 'files': listed, 'splits': ['train'],
                      'class_names': ['cat']})
  report = _report([group, _group(['a.jpg', 'b.jpg'])],
                   {'train': 9000, 'eval': 1000})
  assert report.near_duplicate_images == 5002
  assert report.near_duplicate_group_sizes == {2: 1, 5000: 1}
  assert [ingest_report.group_size(group)
          for group in report.oversized_near_duplicate_groups] == [5000]
  assert report.near_duplicate_lines()[1].startswith(
      '  WARNING: one group holds 5000 images (50% of all)')
