"""The report's groups (near-duplicates, identical files): counts, flags, summary,
JSON and files, whole or streamed."""

import json
import random

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
  assert report.near_duplicate_groups_straddling_splits == 1
  assert report.near_duplicate_images_straddling_splits == 3
  assert report.near_duplicate_groups_spanning_labels == 1
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
      ingest_report.REPORT_GROUPS)
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


def _build_streamed(tmp_path, near_duplicate_lines, duplicate_lines=()):
  counts = [json.dumps([['train', 'cat'], 9000]),
            json.dumps([['eval', 'cat'], 1000])]
  lists_dir = tmp_path / 'lists'
  lists_dir.mkdir()
  report = ingest_report.build_report(
      '/data', ['cat', 'dog'], ['train', 'eval'], [], counts,
      duplicate_lines, near_duplicate_lines=near_duplicate_lines,
      near_duplicate_threshold=10, lists_dir=str(lists_dir))
  return report, lists_dir


def test_a_streamed_report_counts_every_group_and_keeps_the_first(tmp_path):
  """With a lists_dir the report holds the first 100 groups and the first
  20 flagged ones, counts all, and its file lists all in order: 5,000
  groups in random order go through the sort's runs on disk."""
  rng = random.Random(5)
  groups = [_group([f'p{index:05d}_a.jpg', f'p{index:05d}_b.jpg'])
            for index in range(4970)]
  # 30 flagged groups that sort last (same size, last names).
  groups += [_group([f'z{index:02d}_a.jpg', f'z{index:02d}_b.jpg'],
                    splits=('eval', 'train')) for index in range(30)]
  groups.append(_group(['big_1.jpg', 'big_2.jpg', 'big_3.jpg']))
  rng.shuffle(groups)
  report, lists_dir = _build_streamed(tmp_path, groups)
  assert report.near_duplicate_groups == 5001
  assert report.near_duplicate_images == 10003
  assert report.near_duplicate_group_sizes == {2: 5000, 3: 1}
  assert report.near_duplicate_groups_straddling_splits == 30
  assert report.near_duplicate_images_straddling_splits == 60
  kept = [group['files'][0] for group in report.near_duplicates]
  assert kept[:2] == ['big_1.jpg', 'p00000_a.jpg']
  assert len(kept) == 100 + 20
  assert kept[100:] == [f'z{index:02d}_a.jpg' for index in range(20)]
  written = [json.loads(line) for line in
             (lists_dir / artifact.NEAR_DUPLICATES_FILE_NAME).read_text(
                 ).splitlines()]
  assert written == sorted(
      (json.loads(line) for line in groups),
      key=lambda group: (-len(group['files']), group['files']))
  lines = report.near_duplicate_lines()
  assert lines[1].startswith('  30 groups (60 images) straddle splits')
  assert lines[-1] == ('  ... and 10 more groups, listed in '
                       f'{artifact.NEAR_DUPLICATES_FILE_NAME}')
  # The artifact gets the whole list; reading it back counts the same.
  artifact.write_artifact_files(str(tmp_path / 'artifact'), report,
                                str(lists_dir))
  read_back = artifact.read_report(str(tmp_path / 'artifact'))
  assert len(read_back.near_duplicates) == 5001
  assert read_back.custom_properties() == report.custom_properties()
  values = artifact.read_report_dict(str(tmp_path / 'artifact'))
  assert len(values['near_duplicates']) == 120
  assert values['near_duplicate_groups'] == 5001


def test_duplicate_groups_are_streamed_with_the_mislabelled_kept(tmp_path):
  def duplicate(index, class_names=('cat',)):
    return json.dumps({'sha256': f'{index:064x}', 'size': 10, 'count': 3,
                       'files': [f'{index:04d}_{copy}.jpg'
                                 for copy in range(3)],
                       'splits': ['train'], 'class_names': list(class_names)})
  lines = [duplicate(index) for index in range(200)]
  lines += [duplicate(index, ('cat', 'dog')) for index in range(200, 225)]
  report, lists_dir = _build_streamed(tmp_path, [], lines[::-1])
  assert report.duplicate_groups == 225
  assert report.redundant_copies == 450
  assert report.conflicting_duplicate_groups == 25
  assert len(report.duplicates) == 120
  summary = report.duplicate_lines()
  assert summary[0] == ('Duplicates: 225 groups of identical files, 450 '
                        'redundant copies, 25 with different labels (a '
                        'labelling error):')
  assert summary[1].startswith('  0200_0.jpg, 0200_1.jpg, 0200_2.jpg')
  assert summary[1].endswith('labelled cat / dog')
  assert summary[-1] == ('  ... and 205 more groups, listed in '
                         f'{artifact.DUPLICATES_FILE_NAME}')
  written = (lists_dir / artifact.DUPLICATES_FILE_NAME).read_text(
      ).splitlines()
  assert written == lines
  properties = report.custom_properties()
  assert properties['num_duplicate_groups'] == 225
  assert properties['num_duplicate_groups_with_different_labels'] == 25
