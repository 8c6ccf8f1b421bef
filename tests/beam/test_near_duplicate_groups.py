"""The Beam steps of near-duplicate grouping, on hand-made fingerprints."""

import hashlib
import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that
from apache_beam.testing.util import equal_to

from image_example_gen.beam import near_duplicate_groups as groups_lib

# Fingerprints with exactly 32 bits set, as real ones have.
_A = 0x00000000FFFFFFFF
_A_NEAR = _A ^ 0b11 << 31  # Two bits apart: bit 31 off, bit 32 on.
_A_NEARER = _A ^ 0b1111 << 30  # Four bits from _A, two from _A_NEAR.
_B = 0xFFFFFFFF00000000  # 64 bits from _A.
_C = 0x0F0F0F0F0F0F0F0F


def _records(fingerprints):
  """{path: member id} and the FindGroups input of {path: fingerprint}."""
  ids = {path: groups_lib.member_id(path) for path in fingerprints}
  return ids, [groups_lib.fingerprint_record(path, fingerprint)
               for path, fingerprint in fingerprints.items()]


def test_find_groups_joins_close_fingerprints_transitively():
  ids, records = _records({'1': _A, '2': _A_NEAR, '3': _A_NEARER, '4': _B,
                           '5': _C, '6': _B})
  group_a = min(ids['1'], ids['2'], ids['3'])
  group_b = min(ids['4'], ids['6'])
  with TestPipeline() as pipeline:
    found = (pipeline
             | beam.Create(records)
             | beam.CombineGlobally(groups_lib.FindGroups(threshold=2)))
    # 1-2 and 2-3 are within 2 bits (1-3 is not): one group by transitivity;
    # 4 and 6 are identical (and above 2^63, as half of all fingerprints);
    # 5 is alone.
    assert_that(found, equal_to([{
        ids['1']: group_a, ids['2']: group_a, ids['3']: group_a,
        ids['4']: group_b, ids['6']: group_b}]))


def test_find_groups_threshold_zero_keeps_identical_only():
  ids, records = _records({'1': _A, '2': _A_NEAR, '3': _A})
  group = min(ids['1'], ids['3'])
  with TestPipeline() as pipeline:
    found = (pipeline
             | beam.Create(records)
             | beam.CombineGlobally(groups_lib.FindGroups(threshold=0)))
    assert_that(found, equal_to([{ids['1']: group, ids['3']: group}]))


def test_find_groups_of_nothing_is_empty():
  with TestPipeline() as pipeline:
    found = (pipeline
             | beam.Create([], reshuffle=False).with_output_types(tuple)
             | beam.CombineGlobally(groups_lib.FindGroups(threshold=10)))
    assert_that(found, equal_to([{}]))


def test_report_groups_names_files_splits_and_labels():
  _, fingerprints = _records({
      'cat/a.jpg': _A, 'cat/a_small.jpg': _A_NEAR, 'dog/a_copy.png': _A,
      'dog/b.jpg': _B, 'dog/b_same.jpg': _B})
  by_content = [
      ('d1', [('cat/a.jpg', 10, 'train', 'cat')]),
      ('d2', [('cat/a_small.jpg', 5, 'eval', 'cat')]),
      ('d3', [('dog/a_copy.png', 30, 'train', 'dog')]),
      # Identical files only: the exact duplicates' report, not this one.
      ('d4', [('dog/b.jpg', 8, 'train', 'dog'),
              ('dog/b_same.jpg', 8, 'train', 'dog')]),
  ]
  with TestPipeline() as pipeline:
    lines = ((pipeline | 'Fingerprints' >> beam.Create(fingerprints),
              pipeline | 'ByContent' >> beam.Create(by_content))
             | groups_lib.ReportGroups(threshold=4))
    assert_that(lines | beam.Map(json.loads), equal_to([{
        'files': ['cat/a.jpg', 'cat/a_small.jpg', 'dog/a_copy.png'],
        'splits': ['eval', 'train'],
        'class_names': ['cat', 'dog'],
    }]))


def test_split_groups_gives_members_one_key_and_the_first_members_stratum():
  keyed = [('cat', ('b' * 64, 'cat/a.jpg')),
           ('dog', ('a' * 64, 'dog/a_small.jpg')),
           ('cat', ('c' * 64, 'cat/alone.jpg'))]
  _, fingerprints = _records({'cat/a.jpg': _A, 'dog/a_small.jpg': _A_NEAR,
                              'cat/alone.jpg': _C})
  with TestPipeline() as pipeline:
    single, grouped = ((pipeline | 'Keyed' >> beam.Create(keyed),
                        pipeline | 'Fingerprints' >> beam.Create(fingerprints))
                       | groups_lib.SplitGroups(threshold=4))
    assert_that(single, equal_to([('cat', ('c' * 64, 'cat/alone.jpg'))]),
                label='Single')
    # The first member has the smallest content key: dog/a_small.jpg.
    group_key = hashlib.sha256(('a' * 64).encode()).hexdigest()
    assert_that(grouped, equal_to([('dog', (group_key, 'cat/a.jpg')),
                                   ('dog', (group_key, 'dog/a_small.jpg'))]),
                label='Grouped')
