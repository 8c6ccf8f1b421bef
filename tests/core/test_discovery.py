"""Tests of discovery: files, classes, labels and skips of image folder trees.

Every test builds its own small tree in tmp_path. Discovery only lists files
(it never reads them), but the files still hold real image bytes.
"""

import os
import pathlib
from typing import Dict, Iterable, NamedTuple, Tuple

import pytest

import image_factory as factory
from image_example_gen.core import discovery
from image_example_gen.core import labeling
from image_example_gen.core import plan
from image_example_gen.core.config import IngestConfig
from image_example_gen.core import reasons
from image_example_gen.core.discovery import InputSplit


class Found(NamedTuple):
  """The planned files, sorted, and the vocabulary."""
  files: Tuple[discovery.SourceFile, ...]
  class_names: Tuple[str, ...]


def discover(input_base, splits, *, labeled=True, class_names=None):
  """Lists and labels the files, as the launcher plans an ingest.

  The planned files come back sorted by (split, relative path).
  """
  with plan.plan_files(
      input_base, splits,
      IngestConfig(labels='folder' if labeled else 'none',
                   class_names=class_names)) as planned:
    files = sorted(planned.files(),
                   key=lambda source: (source.input_split,
                                       source.relative_path))
    return Found(tuple(files), planned.class_names)

ALL = [InputSplit('train', '*')]
TRAIN_EVAL = [InputSplit('train', 'train/*'), InputSplit('eval', 'eval/*')]


def write_images(root: pathlib.Path, relative_paths: Iterable[str]) -> None:
  """Writes a small real JPEG at each path; a path ending in '/' is a folder."""
  for relative in relative_paths:
    path = root / relative
    if relative.endswith('/'):
      path.mkdir(parents=True, exist_ok=True)
    else:
      path.parent.mkdir(parents=True, exist_ok=True)
      path.write_bytes(factory.jpeg(size=(8, 6)))


def by_path(found: Found) -> Dict[str, discovery.SourceFile]:
  return {source.relative_path: source for source in found.files}


def ingested(found: Found):
  """Relative paths of the files sent to the workers as images to read."""
  return sorted(s.relative_path for s in found.files if s.skip_reason is None)


def skipped(found: Found):
  """{relative path: skip reason} of the files reported as skipped."""
  return {s.relative_path: s.skip_reason for s in found.files if s.skip_reason}


# --- Layouts and labels -----------------------------------------------------------


def test_flat_layout_labels_by_class_folder(tmp_path):
  write_images(tmp_path, ['dog/a.jpg', 'cat/b.jpg', 'cat/c.jpg', 'fox/d.jpg'])

  found = discover(str(tmp_path), ALL)

  assert found.class_names == ('cat', 'dog', 'fox')
  assert [(s.relative_path, s.class_name, s.label) for s in found.files] == [
      ('cat/b.jpg', 'cat', 0), ('cat/c.jpg', 'cat', 0),
      ('dog/a.jpg', 'dog', 1), ('fox/d.jpg', 'fox', 2)]
  assert not skipped(found)


def test_source_files_point_at_the_files_with_their_sizes(tmp_path):
  write_images(tmp_path, ['cat/a.jpg'])
  (tmp_path / 'cat' / 'big.jpg').write_bytes(factory.jpeg(size=(64, 48)))

  found = discover(str(tmp_path), ALL)

  assert len(found.files) == 2
  for source in found.files:
    assert source.input_split == 'train'
    assert pathlib.Path(source.path) == tmp_path / source.relative_path
    assert source.size == os.path.getsize(source.path)


def test_nested_sub_folders_belong_to_the_first_folder_below_the_root(tmp_path):
  write_images(tmp_path, ['cat/a.jpg', 'cat/indoor/b.jpg',
                       'cat/indoor/sofa/c.jpg', 'dog/park/d.jpg'])

  found = discover(str(tmp_path), ALL)

  assert found.class_names == ('cat', 'dog')
  assert {path: s.class_name for path, s in by_path(found).items()} == {
      'cat/a.jpg': 'cat', 'cat/indoor/b.jpg': 'cat',
      'cat/indoor/sofa/c.jpg': 'cat', 'dog/park/d.jpg': 'dog'}


def test_vocabulary_spans_all_splits_and_labels_agree(tmp_path):
  # 'dog' is missing from eval; per-split vocabularies would give fox label 1
  # in eval and 2 in train.
  write_images(tmp_path, ['train/cat/a.jpg', 'train/dog/b.jpg', 'train/fox/c.jpg',
                       'eval/cat/d.jpg', 'eval/fox/e.jpg'])

  found = discover(str(tmp_path), TRAIN_EVAL)

  assert found.class_names == ('cat', 'dog', 'fox')
  labels = {(s.input_split, s.class_name): s.label for s in found.files}
  assert labels == {('train', 'cat'): 0, ('train', 'dog'): 1,
                    ('train', 'fox'): 2, ('eval', 'cat'): 0,
                    ('eval', 'fox'): 2}
  assert {s.input_split for s in found.files} == {'train', 'eval'}
  assert [s.relative_path for s in found.files if s.input_split == 'eval'] == [
      'eval/cat/d.jpg', 'eval/fox/e.jpg']


def test_class_found_only_in_eval_is_in_the_vocabulary(tmp_path):
  write_images(tmp_path, ['train/cat/a.jpg', 'eval/ant/b.jpg', 'eval/cat/c.jpg'])

  found = discover(str(tmp_path), TRAIN_EVAL)

  assert found.class_names == ('ant', 'cat')
  assert by_path(found)['train/cat/a.jpg'].label == 1


def test_empty_class_folder_is_in_the_vocabulary(tmp_path):
  write_images(tmp_path, ['cat/a.jpg', 'bird/', 'dog/b.jpg'])

  found = discover(str(tmp_path), ALL)

  assert found.class_names == ('bird', 'cat', 'dog')
  assert by_path(found)['cat/a.jpg'].label == 1
  assert ingested(found) == ['cat/a.jpg', 'dog/b.jpg']


def test_file_directly_in_the_split_root_has_no_class(tmp_path):
  # The workers, not discovery, report it as no_class_folder.
  write_images(tmp_path, ['cat/a.jpg', 'stray.jpg'])

  stray = by_path(discover(str(tmp_path), ALL))['stray.jpg']

  assert (stray.class_name, stray.label, stray.skip_reason) == (None, None,
                                                                 None)


def test_unicode_and_spaces_in_names(tmp_path):
  write_images(tmp_path, ['Gärten am See/blüte 01.jpg',
                       'Gärten am See/Ufer mit Bäumen/ufer 02.jpg',
                       '東京 タワー/夜景.jpg'])

  found = discover(str(tmp_path), ALL)

  assert found.class_names == ('Gärten am See', '東京 タワー')
  assert {p: s.label for p, s in by_path(found).items()} == {
      'Gärten am See/blüte 01.jpg': 0,
      'Gärten am See/Ufer mit Bäumen/ufer 02.jpg': 0,
      '東京 タワー/夜景.jpg': 1}
  for source in found.files:
    assert os.path.isfile(source.path)


def test_unlabeled_files_have_no_class(tmp_path):
  write_images(tmp_path, ['cat/a.jpg', 'dog/b.jpg', 'c.jpg'])

  found = discover(str(tmp_path), ALL, labeled=False)

  assert found.class_names == ()
  assert ingested(found) == ['c.jpg', 'cat/a.jpg', 'dog/b.jpg']
  assert {(s.class_name, s.label) for s in found.files} == {(None, None)}


def test_explicit_class_names_set_the_labels(tmp_path):
  write_images(tmp_path, ['cat/a.jpg', 'dog/b.jpg'])

  found = discover(str(tmp_path), ALL,
                             class_names=['dog', 'cat', 'emu'])

  assert found.class_names == ('dog', 'cat', 'emu')
  assert {p: s.label for p, s in by_path(found).items()} == {
      'cat/a.jpg': 1, 'dog/b.jpg': 0}


def test_class_folder_missing_from_explicit_class_names_is_named(tmp_path):
  write_images(tmp_path, ['cat/a.jpg', 'wombat/b.jpg'])

  with pytest.raises(ValueError, match='wombat'):
    discover(str(tmp_path), ALL, class_names=['cat'])


def test_pattern_matching_nothing_is_named(tmp_path):
  write_images(tmp_path, ['train/cat/a.jpg'])
  splits = [InputSplit('train', 'train/*'), InputSplit('test', 'test/*')]

  with pytest.raises(ValueError, match=r"'test/\*'"):
    discover(str(tmp_path), splits)


def test_pattern_matching_only_empty_folders_is_an_error(tmp_path):
  write_images(tmp_path, ['cat/', 'dog/'])

  with pytest.raises(ValueError, match='matched no files'):
    discover(str(tmp_path), ALL)


@pytest.mark.parametrize('pattern', ['/etc/*', '../*', 'train/../../*'])
def test_pattern_must_stay_inside_input_base(tmp_path, pattern):
  write_images(tmp_path, ['cat/a.jpg'])

  with pytest.raises(ValueError, match='inside'):
    discover(str(tmp_path), [InputSplit('train', pattern)])


# --- Hidden entries -------------------------------------------------------------------


def test_hidden_files_and_folders_are_reported_and_hidden_folders_not_walked(
    tmp_path):
  write_images(tmp_path, ['cat/a.jpg', 'cat/.DS_Store', 'cat/.b.jpg',
                       'cat/.ipynb_checkpoints/c.jpg', '.cache/cat/d.jpg'])

  found = discover(str(tmp_path), ALL)

  assert ingested(found) == ['cat/a.jpg']
  assert skipped(found) == {
      '.cache': reasons.HIDDEN, 'cat/.DS_Store': reasons.HIDDEN,
      'cat/.b.jpg': reasons.HIDDEN,
      'cat/.ipynb_checkpoints': reasons.HIDDEN}
  assert found.class_names == ('cat',)


def test_hidden_folder_is_reported_as_a_folder_not_walked(tmp_path):
  write_images(tmp_path, ['cat/a.jpg', 'cat/.thumbs/t.jpg'])

  hidden = by_path(discover(str(tmp_path), ALL))['cat/.thumbs']

  assert 'folder' in hidden.skip_detail
  assert hidden.class_name is None and hidden.label is None


# --- Symbolic links -------------------------------------------------------------------


@pytest.fixture(name='tree_with_outside')
def fixture_tree_with_outside(tmp_path):
  """(input_base, outside): a data folder and a folder next to it."""
  base, outside = tmp_path / 'data', tmp_path / 'outside'
  write_images(base, ['cat/a.jpg', 'dog/b.jpg'])
  write_images(outside, ['secret.jpg', 'more/secret2.jpg'])
  return base, outside


def test_symlink_to_a_file_inside_input_base_is_ingested(tree_with_outside):
  base, _ = tree_with_outside
  (base / 'dog' / 'alias.jpg').symlink_to('../cat/a.jpg')

  found = discover(str(base), ALL)

  alias = by_path(found)['dog/alias.jpg']
  assert alias.skip_reason is None
  assert (alias.class_name, alias.label) == ('dog', 1)
  assert alias.size == os.path.getsize(base / 'cat' / 'a.jpg')


def test_symlinked_folder_inside_input_base_is_walked(tree_with_outside):
  base, _ = tree_with_outside
  (base / 'kitten').symlink_to('cat', target_is_directory=True)

  found = discover(str(base), ALL)

  assert 'kitten/a.jpg' in ingested(found)
  assert found.class_names == ('cat', 'dog', 'kitten')


def test_symlinks_to_outside_input_base_are_reported_not_followed(
    tree_with_outside):
  base, outside = tree_with_outside
  (base / 'cat' / 'leak.jpg').symlink_to(outside / 'secret.jpg')
  (base / 'cat' / 'leak_folder').symlink_to(outside, target_is_directory=True)
  (base / 'elsewhere').symlink_to(outside, target_is_directory=True)

  found = discover(str(base), ALL)

  assert skipped(found) == {'cat/leak.jpg': reasons.OUTSIDE_ROOT,
                            'cat/leak_folder': reasons.OUTSIDE_ROOT,
                            'elsewhere': reasons.OUTSIDE_ROOT}
  assert ingested(found) == ['cat/a.jpg', 'dog/b.jpg']
  assert 'elsewhere' not in found.class_names
  for source in found.files:
    assert 'secret' not in source.relative_path


def test_symlinked_class_folder_outside_is_reported_under_a_split_root(
    tree_with_outside):
  base, outside = tree_with_outside
  write_images(base, ['train/cat/c.jpg'])
  (base / 'train' / 'elsewhere').symlink_to(outside, target_is_directory=True)

  found = discover(str(base), [InputSplit('train', 'train/*')])

  assert skipped(found) == {'train/elsewhere': reasons.OUTSIDE_ROOT}
  assert ingested(found) == ['train/cat/c.jpg']


def test_link_to_its_own_folder_is_a_reported_loop(tmp_path):
  write_images(tmp_path, ['cat/a.jpg'])
  (tmp_path / 'cat' / 'again').symlink_to('.', target_is_directory=True)

  found = discover(str(tmp_path), ALL)

  assert skipped(found) == {'cat/again': reasons.OUTSIDE_ROOT}
  assert ingested(found) == ['cat/a.jpg']


def test_link_to_input_base_is_a_reported_loop(tmp_path):
  # input_base is an ancestor of every class folder: following the link
  # would list every other class again, under the wrong class.
  write_images(tmp_path, ['cat/a.jpg', 'dog/b.jpg'])
  (tmp_path / 'cat' / 'up').symlink_to('..', target_is_directory=True)

  found = discover(str(tmp_path), ALL)

  assert ingested(found) == ['cat/a.jpg', 'dog/b.jpg']
  assert skipped(found) == {'cat/up': reasons.OUTSIDE_ROOT}


def test_dangling_link_is_unreadable(tmp_path):
  write_images(tmp_path, ['cat/a.jpg'])
  (tmp_path / 'cat' / 'gone.jpg').symlink_to('deleted.jpg')

  found = discover(str(tmp_path), ALL)

  assert skipped(found) == {'cat/gone.jpg': reasons.UNREADABLE}
  assert ingested(found) == ['cat/a.jpg']


# --- fingerprint -----------------------------------------------------------------------


def test_fingerprint_is_stable_when_nothing_changes(tmp_path):
  write_images(tmp_path, ['train/cat/a.jpg', 'train/cat/sub/b.jpg',
                       'train/dog/c.jpg'])
  before = discovery.fingerprint(str(tmp_path), 'train', 'train/*')

  for path in tmp_path.rglob('*.jpg'):
    path.read_bytes()

  assert discovery.fingerprint(str(tmp_path), 'train', 'train/*') == before
  assert before.startswith('split:train,')


def test_fingerprint_changes_when_an_image_in_a_class_folder_changes(tmp_path):
  write_images(tmp_path, ['train/cat/a.jpg', 'train/cat/sub/b.jpg',
                       'train/dog/c.jpg'])
  image = tmp_path / 'train' / 'cat' / 'sub' / 'b.jpg'
  folder_mtimes = [os.stat(p).st_mtime_ns for p in image.parents
                   if tmp_path in p.parents]
  before = discovery.fingerprint(str(tmp_path), 'train', 'train/*')

  stat = os.stat(image)
  image.write_bytes(factory.jpeg(size=(16, 12)))
  os.utime(image, (stat.st_atime + 60, stat.st_mtime + 60))

  # Rewriting a file in place leaves its folders' mtimes alone, so a stat of
  # the class folders (TFX's default fingerprint) would miss this change.
  assert [os.stat(p).st_mtime_ns for p in image.parents
          if tmp_path in p.parents] == folder_mtimes
  assert discovery.fingerprint(str(tmp_path), 'train', 'train/*') != before


def test_fingerprint_changes_when_only_the_mtime_changes(tmp_path):
  write_images(tmp_path, ['cat/a.jpg'])
  image = tmp_path / 'cat' / 'a.jpg'
  before = discovery.fingerprint(str(tmp_path), 'train', '*')

  stat = os.stat(image)
  os.utime(image, (stat.st_atime, stat.st_mtime + 3600))

  assert discovery.fingerprint(str(tmp_path), 'train', '*') != before


def test_fingerprint_ignores_files_of_other_splits(tmp_path):
  write_images(tmp_path, ['train/cat/a.jpg', 'eval/cat/b.jpg'])
  before = discovery.fingerprint(str(tmp_path), 'train', 'train/*')

  other = tmp_path / 'eval' / 'cat' / 'b.jpg'
  other.write_bytes(factory.jpeg(size=(30, 20)))
  stat = os.stat(other)
  os.utime(other, (stat.st_atime, stat.st_mtime + 3600))

  assert discovery.fingerprint(str(tmp_path), 'train', 'train/*') == before


# --- The generic (Beam FileSystems) walker ------------------------------------------


@pytest.mark.parametrize('pattern', ['*', 'train/*'])
def test_beam_filesystems_walker_finds_what_the_local_walker_finds(
    tmp_path, pattern):
  write_images(tmp_path, [
      'train/cat/a.jpg', 'train/cat/deep/er/b.jpg', 'train/dog/c d.jpg',
      'train/Gärten/ü.jpg', 'train/root.jpg', 'train/.DS_Store',
      'train/.cache/x.jpg', 'eval/cat/e.jpg', 'eval/bird/', 'top.jpg'])
  components = discovery._pattern_components(pattern)

  def visible_files(entries):
    return sorted((e.relative_path, e.size) for e in entries
                  if not e.is_dir and e.skip_reason is None)

  local = list(discovery._LocalWalker(str(tmp_path)).walk(components))
  generic = list(
      discovery._walk_with_beam_filesystems(str(tmp_path), components))

  assert visible_files(generic) == visible_files(local)
  assert 'train/cat/deep/er/b.jpg' in [path for path, _ in
                                       visible_files(generic)]
  assert all(e.skip_reason == reasons.HIDDEN for e in generic
             if '/.' in '/' + e.relative_path)


def test_walk_pattern_uses_the_local_walker_for_local_paths(tmp_path):
  write_images(tmp_path, ['cat/a.jpg', 'cat/.b.jpg'])

  entries = list(discovery.walk_pattern(str(tmp_path), '*'))

  # Only the local walker reports folders.
  assert [(e.relative_path, e.is_dir, e.skip_reason) for e in entries] == [
      ('cat', True, None), ('cat/.b.jpg', False, reasons.HIDDEN),
      ('cat/a.jpg', False, None)]


def test_class_vocabulary_first_span_later_span_and_explicit():
  assert labeling.class_vocabulary({'cow', 'ant'}) == ('ant', 'cow')
  # A later span: earlier ids stay, even for classes gone; new ones appended.
  assert labeling.class_vocabulary(
      {'cow', 'bee', 'dog'}, previous_class_names=['ant', 'cow']) == (
          'ant', 'cow', 'bee', 'dog')
  assert labeling.class_vocabulary(
      {'ant'}, class_names=['ant', 'cow', 'emu'],
      previous_class_names=['ant', 'cow']) == ('ant', 'cow', 'emu')
  with pytest.raises(ValueError, match=r"class_names \['cow', 'ant'\] "
                     r"contradicts the vocabulary \['ant', 'cow'\]"):
    labeling.class_vocabulary({'ant'}, class_names=['cow', 'ant'],
                               previous_class_names=['ant', 'cow'])
