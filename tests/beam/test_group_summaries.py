"""The group summaries of the copies report: one line per group, from copy
lines sorted on disk, whatever the order and the number of files they come
in."""

import collections
import json
import random

from image_example_gen.beam import duplicates
from image_example_gen.beam import group_summaries


def _record(path, sha256, size=10, split='train', class_name='cat'):
  return duplicates.record_line(path, sha256, size, split, class_name)


def _write(tmp_path, lines, files):
  """`lines` dealt round-robin into `files` files; their names."""
  names = []
  for index in range(files):
    name = tmp_path / f'copy-lines-{index}.txt'
    name.write_text(''.join(line + '\n' for line in lines[index::files]),
                    encoding='utf-8')
    names.append(str(name))
  return names


def _summaries(tmp_path, lines, files=3, **kwargs):
  output = group_summaries.summarize_groups(
      _write(tmp_path, lines, files), str(tmp_path / 'groups.txt'), **kwargs)
  kinds = collections.defaultdict(list)
  for kind, line in group_summaries.read_summaries(output):
    kinds[kind].append(json.loads(line))
  return kinds


def test_a_summary_counts_every_file_and_names_the_first_ones():
  summary = group_summaries.GroupSummary(max_files=3)
  for index in reversed(range(20)):
    summary.add(f'img_{index:02d}.jpg', f'sha_{index % 4}', 100 + index,
                ('train', 'eval')[index % 2], 'cat' if index < 10 else 'dog')
  assert summary.as_dict() == {
      'count': 20, 'files': ['img_00.jpg', 'img_01.jpg', 'img_02.jpg'],
      'size': 100, 'splits': ['eval', 'train'],
      'class_names': ['cat', 'dog'], 'distinct_contents': 2}


def test_one_content_is_one_distinct_content_and_labels_may_be_lists():
  summary = group_summaries.GroupSummary()
  summary.add('b.jpg', 'same', 5, 'train', ['cat', 'indoor'])
  summary.add('a.jpg', 'same', 7, 'train', ['cat', 'indoor'])
  summary.add('c.jpg', 'same', 7, 'eval', ['cat'])
  assert summary.as_dict() == {
      'count': 3, 'files': ['a.jpg', 'b.jpg', 'c.jpg'], 'size': 7,
      'splits': ['eval', 'train'],
      'class_names': [['cat'], ['cat', 'indoor']], 'distinct_contents': 1}


def test_groups_sorted_on_disk_match_groups_summed_in_memory(tmp_path):
  rng = random.Random(7)
  members = collections.defaultdict(list)
  lines = []
  for index in range(3000):
    label = rng.randrange(400)
    path = f'class_{label % 5}/img_{index:05d}.jpg'
    sha256 = f'{rng.randrange(2):064x}'
    split = rng.choice(['train', 'eval'])
    class_name = f'class_{label % 5}'
    members[label].append((path, sha256, 10 + index, split, class_name))
    lines.append(group_summaries.copy_line(
        group_summaries.NEAR_DUPLICATE, str(label),
        _record(path, sha256, 10 + index, split, class_name)))
  rng.shuffle(lines)
  # Runs of 64 lines: 47 runs on disk, merged.
  near = _summaries(tmp_path, lines, files=4, run_lines=64)[
      group_summaries.NEAR_DUPLICATE]
  expected = []
  for records in members.values():
    if len({sha256 for _, sha256, _, _, _ in records}) < 2:
      continue
    records.sort()
    expected.append({
        'count': len(records),
        'files': [path for path, _, _, _, _ in records[:20]],
        'splits': sorted({split for _, _, _, split, _ in records}),
        'class_names': sorted({name for _, _, _, _, name in records}),
    })
  assert len(expected) > 300
  key = lambda group: group['files'][0]
  assert sorted(near, key=key) == sorted(expected, key=key)


def test_a_group_key_that_begins_another_is_another_group(tmp_path):
  lines = [
      group_summaries.copy_line('n', '12', _record('a.jpg', 'x' * 64)),
      group_summaries.copy_line('n', '123', _record('b.jpg', 'y' * 64)),
      group_summaries.copy_line('n', '12', _record('c.jpg', 'z' * 64)),
      group_summaries.copy_line('n', '123', _record('d.jpg', 'w' * 64)),
  ]
  near = _summaries(tmp_path, lines)[group_summaries.NEAR_DUPLICATE]
  assert sorted(group['files'] for group in near) == [
      ['a.jpg', 'c.jpg'], ['b.jpg', 'd.jpg']]


def test_identical_files_are_described_with_their_digest(tmp_path):
  digest = 'ab' * 32
  lines = [
      group_summaries.copy_line('d', digest, _record(
          'dog/b_same.jpg', digest, 8, 'eval', 'dog')),
      group_summaries.copy_line('d', digest, _record(
          'cat/b.jpg', digest, 9, 'train', 'cat')),
      # Identical files only: no near-duplicate group to describe.
      group_summaries.copy_line('n', '4', _record(
          'dog/b_same.jpg', digest, 8, 'eval', 'dog')),
      group_summaries.copy_line('n', '4', _record(
          'cat/b.jpg', digest, 9, 'train', 'cat')),
  ]
  kinds = _summaries(tmp_path, lines, files=2)
  assert kinds == {group_summaries.DUPLICATE: [{
      'sha256': digest, 'size': 9, 'count': 2,
      'files': ['cat/b.jpg', 'dog/b_same.jpg'], 'splits': ['eval', 'train'],
      'class_names': ['cat', 'dog']}]}


def test_no_copies_give_an_empty_file(tmp_path):
  assert _summaries(tmp_path, [], files=1) == {}
