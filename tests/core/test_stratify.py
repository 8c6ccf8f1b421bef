"""stratified_assignment: shares within one image, deterministic, by content."""

import hashlib
import math

import pytest

from image_example_gen.core.stratify import stratified_assignment


def _images(counts):
  return [(stratum, hashlib.sha256(f'{stratum}{i}'.encode()).hexdigest(),
           f'{stratum}/{i}.jpg')
          for stratum, count in counts.items() for i in range(count)]


@pytest.mark.parametrize('limits', [(2, 3), (8, 9, 10), (1, 2), (70, 85, 100)])
def test_every_stratum_keeps_its_share_within_one(limits):
  names = [f's{i}' for i in range(len(limits))]
  counts = {'ant': 1, 'bee': 2, 'cow': 7, 'dog': 10, 'emu': 31, 'fox': 100}
  assignment = stratified_assignment(_images(counts), names, limits)
  assert len(assignment) == sum(counts.values())
  for stratum, n in counts.items():
    lower = 0
    for name, limit in zip(names, limits):
      got = sum(1 for path, split in assignment.items()
                if split == name and path.startswith(stratum + '/'))
      share = n * (limit - lower) / limits[-1]
      assert abs(got - share) < 1, (stratum, name, got, share)
      lower = limit


def test_deterministic_and_independent_of_input_order():
  images = _images({'ant': 13, 'bee': 8})
  first = stratified_assignment(images, ['train', 'eval'], [2, 3])
  second = stratified_assignment(list(reversed(images)), ['train', 'eval'],
                                 [2, 3])
  assert first == second


def test_identical_contents_share_a_split_and_count_once():
  images = [('ant', 'same', f'ant/copy{i}.jpg') for i in range(5)]
  images += [('ant', f'key{i}', f'ant/{i}.jpg') for i in range(2)]
  assignment = stratified_assignment(images, ['train', 'eval'], [1, 2])
  assert len({assignment[f'ant/copy{i}.jpg'] for i in range(5)}) == 1
  # Three distinct contents, 1:1: splits of 2 and 1 contents.
  splits = sorted(assignment[path] for path in
                  ('ant/copy0.jpg', 'ant/0.jpg', 'ant/1.jpg'))
  assert sorted(splits.count(name) for name in ('train', 'eval')) == [1, 2]
