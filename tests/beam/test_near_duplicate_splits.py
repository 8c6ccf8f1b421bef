"""Near-duplicate detection through the engine: groups, report and splits.

The folder holds families of real photos: each family is a base crop of one
of scikit-learn's photos and its copies resized (0.5x, 2x), re-encoded (JPEG
quality 50 and 95) and converted to PNG (benchmarks.near_duplicate_eval), the
kinds whose measured recall is 1.0 at the default threshold.
"""

import os

import pytest
import tensorflow as tf

from benchmarks import near_duplicate_eval
from image_example_gen import IngestConfig
from image_example_gen.core import artifact
from image_example_gen.core import image_probe
from image_example_gen.core import near_duplicates as nd
from ingest_runner import ingest_folder

pytestmark = pytest.mark.slow

_KINDS = ('base', 'resize0.5x', 'resize2x', 'jpeg50', 'jpeg95', 'png')
_FAMILIES = 24
_CLASSES = 3


@pytest.fixture(scope='module')
def families(tmp_path_factory):
  """(folder, {family: [relative paths]}): 24 families of 6 files, 3 classes."""
  root = tmp_path_factory.mktemp('families')
  _, items = near_duplicate_eval.build_set()
  members = {}
  for family, kind, data in items:
    if family >= _FAMILIES or kind not in _KINDS:
      continue
    class_name = f'class_{family % _CLASSES}'
    name = f'f{family:03d}_{kind}.{"png" if kind == "png" else "jpg"}'
    (root / class_name).mkdir(exist_ok=True)
    (root / class_name / name).write_bytes(data)
    members.setdefault(family, []).append(f'{class_name}/{name}')
  return str(root), members


def _examples_by_file(output_dir, report):
  """{image/filename: (split, Example)} of every Example written."""
  found = {}
  for split in report.examples:
    for shard in tf.io.gfile.glob(artifact.split_dir(output_dir, split) + '/*'):
      for record in tf.data.TFRecordDataset(shard):
        example = tf.train.Example.FromString(record.numpy())
        name = example.features.feature[
            artifact.FILENAME].bytes_list.value[0].decode()
        found[name] = (split, example)
  return found


def _ingest(families, tmp_path, **options):
  root, _ = families
  output_dir = str(tmp_path / 'examples')
  ingest_folder(root, output_dir, IngestConfig(**options))
  report = artifact.read_report(output_dir)
  return report, _examples_by_file(output_dir, report)


def test_default_split_reports_the_families_that_straddle_splits(
    families, tmp_path):
  _, members = families
  report, examples = _ingest(families, tmp_path)
  groups = sorted(sorted(group['files']) for group in report.near_duplicates)
  assert groups == sorted(sorted(paths) for paths in members.values())
  assert report.near_duplicate_threshold == nd.DEFAULT_THRESHOLD
  straddling = [paths for paths in members.values()
                if len({examples[path][0] for path in paths}) > 1]
  assert straddling, 'the content split spreads some family over two splits'
  assert report.near_duplicate_groups_straddling_splits == len(straddling)
  assert not report.near_duplicate_groups_spanning_labels
  text = '\n'.join(report.summary_lines())
  assert (f'Near-duplicates (within 10 bits): {_FAMILIES} groups, '
          f'{_FAMILIES * len(_KINDS)} images') in text
  assert (f'{len(straddling)} groups ({len(straddling) * len(_KINDS)} '
          'images) straddle splits') in text


def test_every_example_carries_the_fingerprint_of_its_pixels(
    families, tmp_path):
  root, _ = families
  _, examples = _ingest(families, tmp_path)
  for name, (_, example) in examples.items():
    feature = example.features.feature
    phash = feature[artifact.PHASH].bytes_list.value[0]
    with open(os.path.join(root, name), 'rb') as file:
      assert nd.from_hex(phash) == nd.fingerprint(file.read()), name


def test_near_duplicate_split_keeps_every_family_in_one_split(
    families, tmp_path):
  _, members = families
  report, examples = _ingest(families, tmp_path,
                             split_key='near_duplicate')
  for paths in members.values():
    assert len({examples[path][0] for path in paths}) == 1, paths
  assert len(report.near_duplicates) == _FAMILIES
  assert not report.near_duplicate_groups_straddling_splits
  # Stratified by family: each class's 8 families are dealt 2:1 (6 and 2
  # families by the stratified rank: ceil(2 * 8 / 3) ... within one family).
  for class_index in range(_CLASSES):
    class_name = f'class_{class_index}'
    train_families = report.examples['train'][class_name] // len(_KINDS)
    eval_families = report.examples['eval'][class_name] // len(_KINDS)
    assert train_families + eval_families == _FAMILIES // _CLASSES
    assert abs(train_families - 2 * eval_families) <= 3


def test_groups_are_dealt_out_like_single_images(tmp_path):
  """A group's key is uniform like an image's: with 12 groups among 24
  single photos of one class, eval receives groups too (a group keyed on its
  smallest member digest would always rank first, in train)."""
  _, items = near_duplicate_eval.build_set()
  root = tmp_path / 'images' / 'all'
  root.mkdir(parents=True)
  for family, kind, data in items:
    grouped = family < 12 and kind in _KINDS
    single = 60 <= family < 84 and kind == 'base'
    if grouped or single:
      (root / f'f{family:03d}_{kind}.{"png" if kind == "png" else "jpg"}'
      ).write_bytes(data)
  output_dir = str(tmp_path / 'examples')
  ingest_folder(str(tmp_path / 'images'), output_dir,
                IngestConfig(split_key='near_duplicate'))
  report = artifact.read_report(output_dir)
  examples = _examples_by_file(output_dir, report)
  eval_groups = {int(name[5:8]) for name, (split, _) in examples.items()
                 if split == 'eval' and int(name[5:8]) < 12}
  eval_singles = [name for name, (split, _) in examples.items()
                  if split == 'eval' and int(name[5:8]) >= 60]
  # 36 units dealt 2:1: 12 to eval, within one.
  assert 11 <= len(eval_groups) + len(eval_singles) <= 13
  assert eval_groups and eval_singles


def test_near_duplicate_split_without_stratify_keys_groups_by_content(
    families, tmp_path):
  _, members = families
  report, examples = _ingest(families, tmp_path, split_key='near_duplicate',
                             stratify=False)
  for paths in members.values():
    assert len({examples[path][0] for path in paths}) == 1, paths
  assert not report.near_duplicate_groups_straddling_splits


def test_group_spanning_labels_is_flagged(tmp_path):
  data = near_duplicate_eval.build_set()[1]
  base = next(item for family, kind, item in data
              if family == 0 and kind == 'base')
  resized = next(item for family, kind, item in data
                 if family == 0 and kind == 'resize0.5x')
  other = next(item for family, kind, item in data
               if family == 40 and kind == 'base')
  root = tmp_path / 'images'
  for path, content in (('cats/a.jpg', base), ('dogs/a_small.jpg', resized),
                        ('dogs/other.jpg', other)):
    (root / os.path.dirname(path)).mkdir(parents=True, exist_ok=True)
    (root / path).write_bytes(content)
  output_dir = str(tmp_path / 'examples')
  ingest_folder(str(root), output_dir, IngestConfig())
  report = artifact.read_report(output_dir)
  assert [group['files'] for group in report.near_duplicates] == [
      ['cats/a.jpg', 'dogs/a_small.jpg']]
  assert [group['class_names'] for group in report.near_duplicates] == [
      ['cats', 'dogs']]
  assert report.near_duplicate_groups_spanning_labels == 1
  assert '1 group spans different labels' in '\n'.join(report.summary_lines())


def test_off_writes_no_fingerprint_and_no_groups(families, tmp_path):
  report, examples = _ingest(families, tmp_path, near_duplicates=False)
  assert report.near_duplicate_threshold is None
  assert not report.near_duplicates
  assert not any(artifact.PHASH in example.features.feature
                 for _, example in examples.values())
  assert not any('Near-duplicates' in line for line in report.summary_lines())
  assert not os.path.exists(
      tmp_path / 'examples' / artifact.NEAR_DUPLICATES_FILE_NAME)


def test_the_fingerprint_reuses_the_checks_scaled_decode():
  _, items = near_duplicate_eval.build_set()
  jpegs = [data for _, kind, data in items if kind == 'resize2x'][:20]
  for data in jpegs:
    info = image_probe.probe_image(data)
    assert info.preview is not None
    assert nd.reuses_scaled_decode(info.width, info.height,
                                   info.preview_scale)
    assert nd.fingerprint_published(
        data, info.preview, (info.width, info.height),
        info.preview_scale) == nd.fingerprint(data)
