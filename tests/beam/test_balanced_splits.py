"""Balanced splits by default (stratify=True): every class in every split,
in its proportion, even for a small folder; identical files together; the
same files give the same splits; adding files moves few existing ones."""

import collections

import pytest

import image_factory
from image_example_gen import IngestConfig
from image_example_gen import run_ingest
from image_example_gen.core import artifact
import example_reader

pytestmark = pytest.mark.slow


def _folder(make_tree, counts, extra=()):
  """{class: n} distinct real-photo JPEGs per class (+ extra files)."""
  files = {}
  for class_index, (name, count) in enumerate(sorted(counts.items())):
    for index in range(count):
      files[f'{name}/{index:02d}.jpg'] = image_factory.jpeg(
          size=(24 + index, 18 + class_index))
  files.update(extra)
  return make_tree(files)


def _splits(root, out):
  run_ingest(root, out)  # Default options: train:eval 2:1, stratified.
  return {example_reader.feature_value(example, artifact.FILENAME).decode():
          split
          for split in ('train', 'eval')
          for example in example_reader.read_split(
              artifact.split_dir(out, split))}


def test_a_small_folder_has_every_class_in_eval(make_tree, tmp_path):
  # 25 images of 3 classes: the case, where plain hashing left two
  # classes out of eval.
  counts = {'icons': 5, 'logos': 8, 'photos': 12}
  splits = _splits(_folder(make_tree, counts), str(tmp_path / 'out'))

  per_class = collections.Counter(
      (path.split('/')[0], split) for path, split in splits.items())
  for name, count in counts.items():
    # Within one image of its share: eval gets 1/3 of each class.
    assert abs(per_class[(name, 'eval')] - count / 3) <= 1, name
    assert per_class[(name, 'train')] + per_class[(name, 'eval')] == count


def test_identical_files_share_a_split_and_runs_agree(make_tree, tmp_path):
  same = image_factory.png(size=(33, 21))
  root = _folder(make_tree, {'a': 9, 'b': 9},
                 extra={f'{name}/copy{index}.png': same
                        for index, name in enumerate('abab')})
  first = _splits(root, str(tmp_path / 'first'))
  second = _splits(root, str(tmp_path / 'second'))

  assert first == second
  assert len({split for path, split in first.items() if 'copy' in path}) == 1


def test_adding_files_moves_few_existing_ones(make_tree, tmp_path):
  counts = {'a': 30, 'b': 20, 'c': 10}
  before = _splits(_folder(make_tree, counts), str(tmp_path / 'before'))
  more = {f'{name}/new{index}.png': image_factory.png(size=(40 + index, 9))
          for name in 'abc' for index in range(3)}
  after = _splits(_folder(make_tree, counts, extra=more),
                  str(tmp_path / 'after'))

  moved = sorted(path for path, split in before.items()
                 if after[path] != split)
  # Ranks shift by the inserted images: each class's images move only
  # across its one train/eval boundary, about one per image added.
  assert len(moved) <= len(more), moved


def test_a_presplit_folder_is_read_as_splits(make_tree, tmp_path, caplog):
  root = make_tree({
      'train/cat/a.jpg': image_factory.jpeg(size=(30, 20)),
      'train/dog/b.jpg': image_factory.jpeg(size=(31, 20)),
      'Eval/cat/c.jpg': image_factory.jpeg(size=(32, 20)),
  })
  with caplog.at_level('INFO', logger='image_example_gen'):
    report = run_ingest(root, str(tmp_path / 'out'))

  assert report.class_names == ('cat', 'dog')
  assert report.examples == {'Eval': {'cat': 1},
                             'train': {'cat': 1, 'dog': 1}}
  assert 'Found split folders Eval, train' in caplog.text


def test_split_names_beside_class_folders_warn_and_stay_classes(
    make_tree, tmp_path, caplog):
  root = make_tree({
      'train/a.jpg': image_factory.jpeg(size=(30, 20)),
      'cats/b.jpg': image_factory.jpeg(size=(31, 20)),
  })
  with caplog.at_level('WARNING', logger='image_example_gen'):
    report = run_ingest(root, str(tmp_path / 'out'))

  assert report.class_names == ('cats', 'train')
  assert 'named like splits' in caplog.text
