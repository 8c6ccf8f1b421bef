"""Tests of the damaged variant (benchmarks/million_dataset.py) and of its
check (benchmarks/million_damaged.py) on a 200-file dataset."""

import collections
import hashlib
import os
import shutil

import pytest

from benchmarks import million_damaged
from benchmarks import million_dataset

_FILES = 200
_LIBRARY = 64
_FRACTION = 0.1
_DAMAGED = 20


def _quiet(line):
  del line


@pytest.fixture(name='dataset', scope='module')
def dataset_fixture(tmp_path_factory):
  data_dir = str(tmp_path_factory.mktemp('million') / 'million-200')
  million_dataset.ensure_dataset(data_dir, _FILES, library_size=_LIBRARY,
                                 log=_quiet)
  digests = _digests(data_dir)
  damaged_dir = million_dataset.damaged_data_dir(data_dir)
  marker = million_dataset.ensure_damaged(data_dir, _FRACTION, log=_quiet)
  return data_dir, damaged_dir, marker, digests


@pytest.fixture(name='ingested', scope='module')
def ingested_fixture(dataset):
  _, damaged_dir, _, _ = dataset
  output_dir = million_damaged.default_output_dir(damaged_dir)
  million_damaged.run_ingest(damaged_dir, output_dir)
  return damaged_dir, output_dir


def _digests(data_dir):
  digests = {}
  for index in range(_FILES):
    with open(os.path.join(data_dir, million_dataset.file_name(index)),
              'rb') as file:
      digests[index] = hashlib.sha256(file.read()).hexdigest()
  return digests


def _damaged_indices(damaged_dir):
  return {int(path.rsplit('_', 1)[1][:-len('.jpg')])
          for path in million_dataset.read_damaged_list(damaged_dir)}


def test_the_variant_has_the_expected_number_of_damaged_files(dataset):
  _, damaged_dir, marker, _ = dataset
  damaged = million_dataset.read_damaged_list(damaged_dir)
  assert len(damaged) == marker['damaged'] == _DAMAGED
  assert marker['files'] == _FILES and not marker['reused']
  assert sum(marker['kinds'].values()) == _DAMAGED
  assert marker['reasons'] == dict(collections.Counter(damaged.values()))
  images = million_dataset.images_dir(damaged_dir)
  assert sum(len(names) for _, _, names in os.walk(images)) == _FILES


def test_damaged_files_are_spread_one_per_run_of_indices(dataset):
  _, damaged_dir, _, _ = dataset
  indices = sorted(_damaged_indices(damaged_dir))
  span = _FILES // _DAMAGED
  assert [index // span for index in indices] == list(range(_DAMAGED))
  plan = million_dataset.damage_plan(_FILES, _FRACTION)
  assert [damage.index for damage in plan] == indices
  assert plan == million_dataset.damage_plan(_FILES, _FRACTION)


def test_originals_are_untouched_and_only_damaged_files_are_new(dataset):
  data_dir, damaged_dir, _, digests_before = dataset
  assert _digests(data_dir) == digests_before
  damaged = _damaged_indices(damaged_dir)
  for index in range(_FILES):
    name = million_dataset.file_name(index)
    original = os.stat(os.path.join(data_dir, name))
    copy = os.stat(os.path.join(damaged_dir, name))
    assert os.path.samestat(original, copy) == (index not in damaged), name
  assert _digests(damaged_dir).keys() == digests_before.keys()
  changed = {index for index, digest in _digests(damaged_dir).items()
             if digest != digests_before[index]}
  assert changed == damaged


def test_each_kind_of_damage_is_written(dataset):
  data_dir, damaged_dir, _, _ = dataset
  for damage in million_dataset.damage_plan(_FILES, _FRACTION):
    name = million_dataset.file_name(damage.index)
    with open(os.path.join(data_dir, name), 'rb') as file:
      original = file.read()
    with open(os.path.join(damaged_dir, name), 'rb') as file:
      data = file.read()
    if damage.kind == million_dataset.TRUNCATED:
      assert original.startswith(data)
      assert 0.1 * len(original) - 1 <= len(data) <= 0.9 * len(original)
    elif damage.kind == million_dataset.EMPTY:
      assert data == b''
    else:
      assert data.startswith(b'<!DOCTYPE html>') and b'404' in data
  kinds = {damage.kind
           for damage in million_dataset.damage_plan(10_000, 0.01)}
  assert kinds == set(million_dataset.DAMAGE_KINDS)


def test_a_complete_variant_is_reused(dataset):
  data_dir, _, marker, _ = dataset
  again = million_dataset.ensure_damaged(data_dir, _FRACTION, log=_quiet)
  assert again['reused'] and again['seconds'] == marker['seconds']


def test_another_fraction_rebuilds_the_variant(dataset, tmp_path):
  data_dir, _, _, digests_before = dataset
  other = str(tmp_path / 'other')
  first = million_dataset.ensure_damaged(data_dir, 0.05, damaged_dir=other,
                                         log=_quiet)
  second = million_dataset.ensure_damaged(data_dir, 0.02, damaged_dir=other,
                                          log=_quiet)
  assert (first['damaged'], second['damaged']) == (10, 4)
  assert not second['reused']
  assert len(million_dataset.read_damaged_list(other)) == 4
  assert _digests(data_dir) == digests_before


def test_no_variant_without_a_complete_dataset(tmp_path):
  with pytest.raises(FileNotFoundError):
    million_dataset.ensure_damaged(str(tmp_path / 'none'), log=_quiet)
  with pytest.raises(ValueError):
    million_dataset.damage_plan(_FILES, 1.5)


def test_the_variant_never_replaces_its_dataset(dataset):
  data_dir, _, _, digests_before = dataset
  for damaged_dir in (data_dir, os.path.join(data_dir, 'damaged'),
                      os.path.dirname(data_dir)):
    with pytest.raises(ValueError):
      million_dataset.ensure_damaged(data_dir, damaged_dir=damaged_dir,
                                     log=_quiet)
  assert _digests(data_dir) == digests_before


def test_the_check_passes_on_a_real_ingest(ingested):
  damaged_dir, output_dir = ingested
  expected = million_dataset.read_damaged_list(damaged_dir)
  check = million_damaged.check_artifact(output_dir, expected, _FILES)
  assert check.mismatches == []
  assert check.skipped == _DAMAGED
  assert check.skipped_per_reason == check.expected_per_reason
  assert check.total_examples == _FILES - _DAMAGED
  assert check.report_bytes > 0 and check.skipped_file_bytes > 0


def test_the_check_fails_when_the_expected_list_is_altered(ingested):
  damaged_dir, output_dir = ingested
  expected = million_dataset.read_damaged_list(damaged_dir)
  first, second = sorted(expected)[:2]
  wrong_reason = dict(expected, **{first: 'unreadable'})
  missing = {path: reason for path, reason in expected.items()
             if path != second}
  extra = dict(expected, **{'class_00/p000/img_9999999.jpg': 'corrupt'})
  checks = {name: million_damaged.check_artifact(output_dir, altered, _FILES)
            for name, altered in (('wrong_reason', wrong_reason),
                                  ('missing', missing), ('extra', extra))}
  assert not any(check.passed for check in checks.values())
  assert f'wrong reason: {first}' in checks['wrong_reason'].mismatches[0]
  assert any(line.startswith(f'skipped but not damaged: {second}')
             for line in checks['missing'].mismatches)
  assert ('not skipped: class_00/p000/img_9999999.jpg (expected corrupt)'
          in checks['extra'].mismatches)


def test_the_command_checks_an_existing_artifact(ingested, tmp_path,
                                                 capsys):
  damaged_dir, output_dir = ingested
  result = tmp_path / 'result.json'
  assert million_damaged.main([
      '--data-dir', damaged_dir, '--output-dir', output_dir, '--check-only',
      '--result', str(result)]) == 0
  out = capsys.readouterr().out
  assert 'mismatches 0: PASS' in out and 'ingest not run' in out
  assert result.exists()
  altered_dir = _copy_expectations(damaged_dir, str(tmp_path / 'altered'))
  with open(million_dataset.damaged_csv_path(altered_dir), 'a',
            encoding='utf-8') as file:
    file.write('class_00/p000/img_9999999.jpg,corrupt,empty,0\n')
  assert million_damaged.main([
      '--data-dir', altered_dir, '--output-dir', output_dir,
      '--check-only']) == 1
  assert 'FAIL' in capsys.readouterr().out


def _copy_expectations(damaged_dir, target_dir):
  """A variant folder with damaged_dir's marker and damaged.csv, no images."""
  os.makedirs(target_dir)
  for name in ('DAMAGED.json', 'damaged.csv'):
    shutil.copyfile(os.path.join(damaged_dir, name),
                    os.path.join(target_dir, name))
  return target_dir


@pytest.mark.parametrize('streamed', [False, True])
def test_the_report_profile_replays_the_artifacts_lists(ingested, streamed):
  """benchmarks/report_profile.py builds the report again from the lists
  the ingest wrote: the same groups and skipped files, either way."""
  # pylint: disable-next=g-import-not-at-top
  from benchmarks import report_profile
  from image_example_gen.core import artifact
  _, output_dir = ingested
  values = artifact.read_report_dict(output_dir)
  result = report_profile.build_once(output_dir, streamed, with_skipped=True)
  assert result['groups'] == values['near_duplicate_groups'] > 0
  assert result['skipped'] == values['total_skipped'] == _DAMAGED
  assert result['rss_peak_mb'] >= result['rss_before_mb'] > 0
