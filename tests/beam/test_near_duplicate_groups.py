"""The Beam steps of duplicate and near-duplicate grouping, on hand-made
fingerprints and keys, and the split planned from them."""

import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that
from apache_beam.testing.util import equal_to
import numpy as np

from image_example_gen.beam import duplicates
from image_example_gen.beam import near_duplicate_groups as groups_lib
from image_example_gen.beam import split_plan
from image_example_gen.core import stratify

# Fingerprints with exactly 32 bits set, as real ones have.
_A = 0x00000000FFFFFFFF
_A_NEAR = _A ^ 0b11 << 31  # Two bits apart: bit 31 off, bit 32 on.
_A_NEARER = _A ^ 0b1111 << 30  # Four bits from _A, two from _A_NEAR.
_B = 0xFFFFFFFF00000000  # 64 bits from _A, and above 2^63.
_C = 0x0F0F0F0F0F0F0F0F


def _sha(name: str) -> str:
  return (name.encode().hex() * 64)[:64]


def _entries(images, tmp_path):
  """{path: (sha256, fingerprint)} -> ({path: id}, index files: the entries
  in lines of two, as the encoding emits them per batch, in two files)."""
  ids = {path: groups_lib.member_id(path) for path in images}
  entries = [duplicates.index_entry(path, sha256, fingerprint)
             for path, (sha256, fingerprint) in images.items()]
  lines = [duplicates.index_line(entries[start:start + 2])
           for start in range(0, len(entries), 2)]
  files = [tmp_path / 'index-0.b64', tmp_path / 'index-1.b64']
  files[0].write_text('\n'.join(lines[:2]) + '\n')
  files[1].write_text('\n'.join(lines[2:]) + '\n')
  return ids, [str(file) for file in files]


def _as_sets(index):
  """A CopyIndex as (duplicates {id: key}, groups as a set of frozensets of
  ids, or None): group labels are arbitrary, the partition is not."""
  duplicates, groups = index
  if groups is None:
    return duplicates.as_dict(), None
  members = {}
  for member, label in groups.as_dict().items():
    members.setdefault(label, set()).add(member)
  return duplicates.as_dict(), {frozenset(group) for group in members.values()}


def _found(index_files, threshold, tmp_path):
  """find_copies's file, read back, as _as_sets gives it."""
  copies = duplicates.find_copies(index_files, threshold,
                                  str(tmp_path / 'copies.npy'))
  return _as_sets(duplicates.load_copy_index(copies))


def test_find_copies_finds_copies_and_transitive_groups(tmp_path):
  ids, index_files = _entries({
      '1': (_sha('a'), _A), '2': (_sha('b'), _A_NEAR),
      '3': (_sha('c'), _A_NEARER), '4': (_sha('d'), _B),
      '5': (_sha('e'), _C), '6': (_sha('d'), _B), '7': (_sha('f'), None)},
                              tmp_path)
  key_d = groups_lib.signed64(stratify.key_number(_sha('d')))
  # 1-2 and 2-3 are within 2 bits (1-3 is not): one group by transitivity;
  # 4 and 6 are identical files; 5 and 7 are alone.
  assert _found(index_files, 2, tmp_path) == (
      {ids['4']: key_d, ids['6']: key_d},
      {frozenset((ids['1'], ids['2'], ids['3'])),
       frozenset((ids['4'], ids['6']))})


def test_find_copies_without_near_duplicates_finds_copies_only(tmp_path):
  ids, index_files = _entries({'1': (_sha('a'), _A), '2': (_sha('a'), None),
                               '3': (_sha('b'), _A)}, tmp_path)
  key_a = groups_lib.signed64(stratify.key_number(_sha('a')))
  assert _found(index_files, None, tmp_path) == (
      {ids['1']: key_a, ids['2']: key_a}, None)


def test_find_copies_lists_every_file_of_a_repeated_content(tmp_path):
  ids, index_files = _entries({
      '1': (_sha('a'), None), '2': (_sha('b'), None), '3': (_sha('a'), None),
      '4': (_sha('c'), None), '5': (_sha('a'), None), '6': (_sha('c'), None),
      '7': (_sha('d'), None)}, tmp_path)
  key = {name: groups_lib.signed64(stratify.key_number(_sha(name)))
         for name in 'ac'}
  assert _found(index_files, 4, tmp_path) == ({
      ids['1']: key['a'], ids['3']: key['a'], ids['5']: key['a'],
      ids['4']: key['c'], ids['6']: key['c']}, set())


def test_labels_of_groups_keeps_the_images_that_share_a_root():
  # 0-1 share root 0; 3, 4 and 6 root 3; 2 and 5 are alone; 7 roots at 7
  # with 8 pointing at it.
  roots = np.array([0, 0, 2, 3, 3, 5, 3, 7, 7], dtype=np.int32)
  indices, labels = groups_lib.labels_of_groups(roots)
  assert indices.tolist() == [0, 1, 3, 4, 6, 7, 8]
  assert labels.tolist() == [0, 0, 3, 3, 3, 7, 7]
  assert indices.dtype == labels.dtype == np.int32
  indices, labels = groups_lib.labels_of_groups(np.arange(4, dtype=np.int32))
  assert indices.tolist() == labels.tolist() == []


def test_group_labels_match_a_count_of_each_root():
  """Against the rule that a group is a root two or more images share, on
  fingerprints in clusters of near copies and alone."""
  rng = np.random.default_rng(11)
  centers = rng.integers(0, 2**63, 300, dtype=np.int64)
  flips = np.int64(1) << rng.integers(0, 63, 300).astype(np.int64)
  fingerprints = np.concatenate([centers, centers[:120] ^ flips[:120]])
  rng.shuffle(fingerprints)
  roots = groups_lib.group_roots(fingerprints.copy(), 3)
  counts = np.bincount(roots, minlength=len(roots))
  expected = np.flatnonzero(counts[roots] >= 2)
  indices, labels = groups_lib.group_labels(fingerprints, 3)
  assert len(expected) >= 240
  assert indices.tolist() == expected.tolist()
  assert labels.tolist() == roots[expected].tolist()


def test_sorted_ids_find_the_values_of_ids_given_in_any_order():
  ids = np.array([40, -7, 2**62, 3], dtype=np.int64)
  values = np.array([4, 1, 9, 3], dtype=np.int32)
  sorted_ids = duplicates._SortedIds(ids, values)  # pylint: disable=protected-access
  found, found_values = sorted_ids.find(
      np.array([3, 5, 40, -7, 2**62], dtype=np.int64))
  assert found.tolist() == [True, False, True, True, True]
  assert found_values.tolist() == [3, 0, 4, 1, 9]
  assert sorted_ids.as_dict() == {40: 4, -7: 1, 2**62: 9, 3: 3}


def test_index_lines_keep_every_bit_of_ids_keys_and_fingerprints(tmp_path):
  entries = [(-2**63, 2**63 - 1, None), (0, -1, 0), (2**63 - 1, -2**63, -1),
             (5, 6, 2**62)]
  (tmp_path / 'index.b64').write_text(
      duplicates.index_line(entries[:3]) + '\n' +
      duplicates.index_line(entries[3:]) + '\n')
  index_files = [str(tmp_path / 'index.b64')]
  ids, keys, fingerprints, fingerprinted = duplicates.read_index(index_files)
  assert list(zip(ids.tolist(), keys.tolist(), [
      fingerprint if flag else None for fingerprint, flag
      in zip(fingerprints.tolist(), fingerprinted.tolist())
  ])) == entries
  ids, fingerprints = duplicates.read_index(
      index_files, ('id', 'fingerprint'), fingerprinted_only=True)
  assert list(zip(ids.tolist(), fingerprints.tolist())) == [
      (identifier, fingerprint) for identifier, _, fingerprint in entries
      if fingerprint is not None]


def test_report_copies_reads_back_only_the_copies(tmp_path):
  images = {
      'cat/a.jpg': (_sha('a'), _A, 10, 'train', 'cat'),
      'cat/a_small.jpg': (_sha('b'), _A_NEAR, 5, 'eval', 'cat'),
      'dog/a_copy.png': (_sha('c'), _A, 30, 'train', 'dog'),
      'dog/b.jpg': (_sha('d'), _B, 8, 'train', 'dog'),
      'dog/b_same.jpg': (_sha('d'), _B, 8, 'eval', 'dog'),
      'dog/alone.jpg': (_sha('e'), _C, 9, 'train', 'dog'),
  }
  entries = [duplicates.index_entry(path, sha, fp)
             for path, (sha, fp, _, _, _) in images.items()]
  lines = [duplicates.record_line(path, sha, size, split, label)
           for path, (sha, _, size, split, label) in images.items()]
  # Batches of three, as the encoding emits them.
  entries = [duplicates.index_line(entries[:3]),
             duplicates.index_line(entries[3:])]
  lines = ['\n'.join(lines[:3]), '\n'.join(lines[3:])]
  with TestPipeline() as pipeline:
    exact, near = ((pipeline | 'Entries' >> beam.Create(entries),
                    pipeline | 'Lines' >> beam.Create(lines))
                   | duplicates.ReportCopies(str(tmp_path / 'records'), 4))
    assert_that(exact | 'ParseExact' >> beam.Map(json.loads), equal_to([{
        'sha256': _sha('d'), 'size': 8, 'count': 2,
        'files': ['dog/b.jpg', 'dog/b_same.jpg'],
        'splits': ['eval', 'train'], 'class_names': ['dog']}]),
                label='Exact')
    # The identical pair alone is no near-duplicate group.
    assert_that(near | 'ParseNear' >> beam.Map(json.loads), equal_to([{
        'count': 3, 'files': ['cat/a.jpg', 'cat/a_small.jpg', 'dog/a_copy.png'],
        'splits': ['eval', 'train'], 'class_names': ['cat', 'dog']}]),
                label='Near')


def test_group_representatives_share_one_key_and_absorb_the_rest():
  keys = {path: groups_lib.signed64(stratify.key_number(_sha(path)))
          for path in ('cat/a', 'dog/a_small', 'cat/alone')}
  entries = [(groups_lib.member_id(path), groups_lib.signed64(fp),
              keys[path], path.split('/')[0])
             for path, fp in (('cat/a', _A), ('dog/a_small', _A_NEAR),
                              ('cat/alone', _C))]
  fn = groups_lib.GroupRepresentatives(threshold=4)
  accumulators = []
  for entry in entries:  # One accumulator each, then merged, as Beam does.
    accumulators.append(fn.add_input(fn.create_accumulator(), entry))
  representatives, absorbed = fn.extract_output(
      fn.merge_accumulators(accumulators))
  ids = {path: groups_lib.member_id(path)
         for path in ('cat/a', 'dog/a_small', 'cat/alone')}
  assert set(representatives) == {ids['cat/a'], ids['dog/a_small']}
  (chosen,) = set(representatives.values())
  assert chosen in ((keys['cat/a'], 'cat'), (keys['dog/a_small'], 'dog'))
  other, other_stratum = (('dog/a_small', 'dog') if chosen[1] == 'cat'
                          else ('cat/a', 'cat'))
  assert list(absorbed) == [other_stratum]
  assert absorbed[other_stratum].tolist() == [
      groups_lib.unsigned64(keys[other])]


def test_split_plan_ranks_keys_as_the_stratified_assignment_does(tmp_path):
  names, limits = ('train', 'eval'), (2, 3)
  hex_keys = sorted(_sha(str(index)) for index in range(9))
  plan = split_plan.SplitPlan(names, limits, stratified=True)
  signed = [groups_lib.signed64(stratify.key_number(key))
            for key in hex_keys]
  # Batches, as the first pass emits them, over two files, in another order.
  lines = [split_plan.keys_line('cat', signed[start:start + 4])
           for start in range(0, len(signed), 4)]
  key_files = [tmp_path / 'keys-1.b64', tmp_path / 'keys-0.b64']
  key_files[0].write_text('\n'.join(lines[:1]) + '\n')
  key_files[1].write_text('\n'.join(lines[1:]) + '\n')
  stratum_keys = split_plan.load_stratum_keys(split_plan.sort_keys(
      [str(name) for name in key_files], str(tmp_path / 'sorted.npy')))
  expected = dict(stratify.assign_stratum(
      [(key, key) for key in hex_keys], names, limits))
  assert {key: plan.split_of(stratify.key_number(key), 'cat', stratum_keys)
          for key in hex_keys} == expected


def test_sorted_keys_are_distinct_per_stratum_in_unsigned_order(tmp_path):
  key_file = tmp_path / 'keys-0.b64'
  key_file.write_text('\n'.join([
      split_plan.keys_line('cat', [5, -1, 5]),  # -1 is 2**64 - 1 unsigned.
      split_plan.keys_line('dog|cat', [7]),
      split_plan.keys_line('cat', [2, 5]),
  ]) + '\n')
  empty_file = tmp_path / 'keys-1.b64'
  empty_file.write_text('')
  keys = split_plan.load_stratum_keys(split_plan.sort_keys(
      [str(key_file), str(empty_file)], str(tmp_path / 'sorted.npy')))
  assert {stratum: values.tolist() for stratum, values in keys.items()} == {
      'cat': [2, 5, 2**64 - 1], 'dog|cat': [7]}
  assert keys['cat'].dtype == np.uint64


def test_no_key_lines_give_no_strata(tmp_path):
  empty_file = tmp_path / 'keys-0.b64'
  empty_file.write_text('')
  assert split_plan.load_stratum_keys(split_plan.sort_keys(
      [str(empty_file)], str(tmp_path / 'sorted.npy'))) == {}


def test_split_plan_counts_a_group_as_one_image():
  names, limits = ('train', 'eval'), (1, 2)
  keys = np.array([10, 20, 30, 40], dtype=np.uint64)
  plan = split_plan.SplitPlan(names, limits, stratified=True)
  # 20 and 30 are one group, represented by 30: three units, 10, 30, 40.
  groups = ({7: (30, 'cat'), 8: (30, 'cat')},
            {'cat': np.array([20], dtype=np.uint64)})
  splits = [plan.split_of(10, 'cat', {'cat': keys}, groups, member=1),
            plan.split_of(20, 'cat', {'cat': keys}, groups, member=7),
            plan.split_of(30, 'cat', {'cat': keys}, groups, member=8),
            plan.split_of(40, 'cat', {'cat': keys}, groups, member=9)]
  # Ranks 0, 1, 1, 2 of 3 units: positions 0, 0, 0, 1 of 2 buckets.
  assert splits == ['train', 'train', 'train', 'eval']


def test_split_plan_without_stratify_hashes_groups_by_their_key():
  plan = split_plan.SplitPlan(('train', 'eval'), (2, 3), stratified=False)
  groups = ({5: (groups_lib.signed64(0xFEDCBA9876543210), 'cat')}, {})
  assert plan.split_of(1, 'cat', None, groups, member=4) is None
  assert plan.split_of(1, 'dog', None, groups, member=5) == (
      stratify.bucket_split(b'fedcba9876543210', ('train', 'eval'), (2, 3)))
