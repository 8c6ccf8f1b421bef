"""Finds the files of each input split, and the class folder of each.

Expected layout under `input_base` (the split root is the part of a split's
pattern before its first wildcard; `*` alone means input_base itself):

    input_base/                   input_base/
      <class>/                      train/            <- split root of 'train/*'
        <image>                       <class>/
        <sub-folder>/<image>            <image> ...
      ...                           eval/             <- split root of 'eval/*'
                                      <class>/ ...

A pattern may match files or folders; a matched folder is walked recursively.
The class folder of a file is the first folder below its split root, so images
in deeper sub-folders belong to that class; core.labeling turns class folders
(or metadata rows) into labels.

Nothing outside `input_base` is read: a symbolic link is followed only while its
target stays inside input_base, and a link back to one of its own ancestors (a
loop) is not followed. Hidden entries (names starting with '.') met by a
wildcard or a walk are not read. Such entries are listed with a skip reason, so
that the report names them. A file in no class folder gets no class; the
workers report it as `no_class_folder` if it is an image and labels come from
folders.

Local paths are walked with os.scandir; other URIs (gs://, s3://, hdfs://) with
Beam's FileSystems, which has no folders or links to follow.

A listing that takes longer than `progress_interval_s` (5 s by default; about
a million local files here) logs its progress every such interval: the files
found so far and the rate, then one line when it ends. Shorter listings log
nothing.
"""

import dataclasses
import fnmatch
import functools
import logging
import os
import posixpath
import stat
import time
from typing import Iterable, Iterator, List, NamedTuple, Optional, Sequence, Set, Tuple

from apache_beam.io.filesystems import FileSystems

from image_example_gen.core import reasons

__all__ = [
    'InputSplit', 'SPLIT_FOLDER_NAMES', 'SourceFile', 'list_split',
    'split_folders',
    'fingerprint', 'split_root', 'walk_pattern'
]

_WILDCARDS = frozenset('*?[')
_LOGGER = logging.getLogger(__name__)
# Seconds between two progress lines of a listing (none before the first).
PROGRESS_INTERVAL_S = 5.0


@dataclasses.dataclass(frozen=True)
class InputSplit:
  """An input split: its name and its pattern relative to input_base."""
  name: str
  pattern: str


class FoundEntry(NamedTuple):
  """A file or folder met while expanding a pattern."""
  path: str  # What to open: a local path or a URI.
  relative_path: str  # '/'-separated, relative to input_base.
  is_dir: bool
  size: int
  mtime_seconds: int
  skip_reason: Optional[str] = None
  skip_detail: str = ''


class SourceFile(NamedTuple):
  """One file to ingest (or to report as skipped), as sent to the workers."""
  path: str
  relative_path: str
  input_split: str
  class_name: Optional[str]
  label: Optional[int]
  size: int
  skip_reason: Optional[str] = None
  skip_detail: str = ''
  # The output split chosen before the ingest (stratified splits), if any.
  assigned_split: Optional[str] = None
  # Several labels (a metadata `labels` column): ids and names; `label` and
  # `class_name` are then None.
  label_ids: Tuple[int, ...] = ()
  label_names: Tuple[str, ...] = ()
  # Metadata columns: (name, 'int64' | 'float' | 'bytes', values).
  features: Tuple[Tuple[str, str, Tuple], ...] = ()

  @property
  def class_key(self) -> str:
    """What the report counts the image under: its class, its labels
    joined by '|' (multi-label), or '' (unlabeled)."""
    if self.label_names:
      return '|'.join(self.label_names)
    return self.class_name or ''


def list_split(input_base: str, split: InputSplit, class_folders: Set[str],
               *, progress_interval_s: float = PROGRESS_INTERVAL_S
               ) -> Iterator[SourceFile]:
  """Yields the files of one split as the walk meets them, unlabelled.

  Labels are not set here: core.labeling gives them, from the class folders
  or from a metadata file. Nothing is kept per file, so a million files
  list in constant memory.

  Args:
    input_base: The folder (local path or URI) holding the data.
    split: The input split, its pattern relative to input_base.
    class_folders: Receives every class folder met (the first folder below
      the split root), empty ones included.
    progress_interval_s: Seconds between progress lines of a long listing.

  Raises:
    ValueError: The pattern matched no file (raised once the walk ends).
  """
  listing = _ListingProgress(f'split {split.name!r} under {input_base}',
                             progress_interval_s)
  root_depth = _split_root_depth(input_base, split.pattern)
  for entry in listing.count(walk_pattern(input_base, split.pattern)):
    class_name = _class_of(entry, root_depth)
    if class_name is not None:
      class_folders.add(class_name)
    if entry.is_dir and not entry.skip_reason:
      continue
    yield SourceFile(entry.path, entry.relative_path, split.name, class_name,
                     None, entry.size, entry.skip_reason, entry.skip_detail)
  listing.finish()
  if not listing.files:
    raise ValueError(
        f'Input pattern {split.pattern!r} of split {split.name!r} matched '
        f'no files under {input_base!r}. Check input_base and the '
        'input_config patterns.')


# Folder names read as splits, as Hugging Face's imagefolder recognises them.
SPLIT_FOLDER_NAMES = frozenset(
    ('train', 'test', 'validation', 'valid', 'val', 'eval', 'dev'))


def split_folders(input_base: str) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
  """(split folders, other folders) at the top of a local input_base.

  The folders whose name (any case) is in SPLIT_FOLDER_NAMES, and the other
  visible folders, each sorted. Empty for a URI (object stores have no
  folders to list cheaply) or a missing folder.
  """
  if FileSystems.get_scheme(input_base) is not None:
    return (), ()
  try:
    with os.scandir(input_base) as scan:
      names = sorted(entry.name for entry in scan
                     if entry.is_dir() and not entry.name.startswith('.'))
  except OSError:
    return (), ()
  splits = tuple(name for name in names
                 if name.lower() in SPLIT_FOLDER_NAMES)
  return splits, tuple(name for name in names if name not in splits)


def fingerprint(input_base: str, split_name: str, pattern: str, *,
                progress_interval_s: float = PROGRESS_INTERVAL_S) -> str:
  """The input fingerprint of a split, in TFX's format, over all its files.

  Unlike TFX's default (a stat of what the glob matches, which for
  `<class>/<image>` folders is the class folders), this covers every file the
  ingest would read, so a changed image changes the fingerprint.
  """
  count = total_bytes = xor_checksum = sum_checksum = 0
  listing = _ListingProgress(
      f'split {split_name!r} under {input_base} (fingerprint)',
      progress_interval_s)
  for entry in listing.count(walk_pattern(input_base, pattern)):
    if entry.is_dir:
      continue
    count += 1
    total_bytes += max(entry.size, 0)
    xor_checksum ^= entry.mtime_seconds
    sum_checksum += entry.mtime_seconds
  listing.finish()
  return ('split:%s,num_files:%d,total_bytes:%d,xor_checksum:%d,'
          'sum_checksum:%d' %
          (split_name, count, total_bytes, xor_checksum, sum_checksum))


class _ListingProgress:
  """Logs a long listing's progress: files so far and rate, every interval.

  Nothing is logged before the listing has run for one interval, so small
  folders stay quiet; a listing that logged progress also logs its end.
  """

  def __init__(self, what: str, interval_s: float):
    self._what = what
    self._interval_s = interval_s
    self._start = time.monotonic()
    self._next_line = self._start + interval_s
    self._logged = False
    self.files = 0

  def count(self, entries: Iterable[FoundEntry]) -> Iterator[FoundEntry]:
    """Yields the entries, counting the files and logging when due."""
    for entry in entries:
      if not entry.is_dir:
        self.files += 1
      now = time.monotonic()
      if now >= self._next_line:
        elapsed = now - self._start
        _LOGGER.info('Listing %s: %d files so far in %.0f s (%.0f files/s)',
                     self._what, self.files, elapsed,
                     self.files / max(elapsed, 1e-9))
        self._logged = True
        self._next_line = now + self._interval_s
      yield entry

  def finish(self) -> None:
    if self._logged:
      elapsed = time.monotonic() - self._start
      _LOGGER.info('Listed %s: %d files in %.1f s (%.0f files/s)', self._what,
                   self.files, elapsed, self.files / max(elapsed, 1e-9))


def walk_pattern(input_base: str, pattern: str) -> Iterator[FoundEntry]:
  """Yields the files and folders that `pattern` reaches under input_base."""
  components = _pattern_components(pattern)
  if FileSystems.get_scheme(input_base) is None:
    return _LocalWalker(input_base).walk(components)
  return _walk_with_beam_filesystems(input_base, components)


def _pattern_components(pattern: str) -> Tuple[str, ...]:
  components = tuple(part for part in pattern.split('/') if part not in ('', '.'))
  if pattern.startswith('/') or '..' in components:
    raise ValueError(
        f'Input pattern {pattern!r} must be relative to input_base and stay '
        'inside it (no leading "/" and no "..").')
  return components or ('*',)


def _has_wildcard(component: str) -> bool:
  return any(char in _WILDCARDS for char in component)


def split_root(input_base: str, pattern: str) -> str:
  """The split root of a pattern: where its classes (and metadata) are."""
  depth = _split_root_depth(input_base, pattern)
  return posixpath.join(input_base, *_pattern_components(pattern)[:depth])


def _split_root_depth(input_base: str, pattern: str) -> int:
  """Number of path components from input_base to the split root."""
  components = _pattern_components(pattern)
  for depth, component in enumerate(components):
    if _has_wildcard(component):
      return depth
  # A literal pattern names the split root itself, or a file inside it.
  literal = posixpath.join(input_base, *components)
  is_local_file = (FileSystems.get_scheme(input_base) is None and
                   os.path.isfile(literal))
  return len(components) - 1 if is_local_file else len(components)


def _class_of(entry: FoundEntry, root_depth: int) -> Optional[str]:
  """The class folder of an entry, or None outside any class folder."""
  if entry.skip_reason:
    return None
  below_root = entry.relative_path.split('/')[root_depth:]
  if entry.is_dir:
    return below_root[0] if len(below_root) == 1 else None
  return below_root[0] if len(below_root) >= 2 else None


class _LocalWalker:
  """Expands a pattern on the local disk, never leaving input_base."""

  def __init__(self, input_base: str):
    self._base = input_base
    self._real_base = os.path.realpath(input_base)

  def walk(self, components: Sequence[str]) -> Iterator[FoundEntry]:
    level: List[Tuple[str, ...]] = [()]
    for index, component in enumerate(components):
      is_last = index == len(components) - 1
      next_level = []
      for parent in level:
        for name in self._match(parent, component):
          relative = parent + (name,)
          if not is_last and name.startswith('.') and _has_wildcard(component):
            continue  # A wildcard never leads into a hidden folder.
          if is_last:
            yield from self._visit(relative, self._real_ancestors(relative))
          elif (os.path.isdir(self._path(relative)) and
                self._inside(self._path(relative))):
            next_level.append(relative)
      level = next_level

  def _real_ancestors(self, relative: Tuple[str, ...]) -> frozenset:
    """Real paths of input_base and the folders between it and `relative`."""
    return frozenset(
        os.path.realpath(self._path(relative[:depth]))
        for depth in range(len(relative)))

  def _path(self, relative: Tuple[str, ...]) -> str:
    return os.path.join(self._base, *relative)

  def _inside(self, path: str) -> bool:
    real = os.path.realpath(path)
    return real == self._real_base or real.startswith(
        self._real_base.rstrip(os.sep) + os.sep)

  def _match(self, parent: Tuple[str, ...], component: str) -> List[str]:
    if not _has_wildcard(component):
      exists = os.path.lexists(self._path(parent + (component,)))
      return [component] if exists else []
    try:
      names = sorted(entry.name for entry in os.scandir(self._path(parent)))
    except OSError:
      return []
    return [name for name in names if fnmatch.fnmatchcase(name, component)]

  def _visit(self, relative: Tuple[str, ...],
             ancestors: frozenset) -> Iterator[FoundEntry]:
    return self._visit_path(self._path(relative), '/'.join(relative),
                            ancestors, os.path.islink(self._path(relative)))

  def _visit_path(self, path: str, relative: str, ancestors: frozenset,
                  is_link: bool) -> Iterator[FoundEntry]:
    """Yields the entry at `path` and, for a folder, everything inside it."""
    entry = functools.partial(FoundEntry, path, relative)
    if relative.rpartition('/')[2].startswith('.'):
      what = 'folder (not walked)' if os.path.isdir(path) else 'file'
      yield entry(False, -1, 0, reasons.HIDDEN, f'hidden {what}')
      return
    if is_link and not self._inside(path):
      yield entry(False, -1, 0, reasons.OUTSIDE_ROOT,
                  f'symbolic link to {os.path.realpath(path)}, outside '
                  'input_base')
      return
    try:
      info = os.stat(path)
    except OSError as error:
      yield entry(False, -1, 0, reasons.UNREADABLE,
                  f'cannot stat: {error.strerror or error}')
      return
    if stat.S_ISREG(info.st_mode):
      yield entry(False, info.st_size, int(info.st_mtime))
    elif stat.S_ISDIR(info.st_mode):
      real = os.path.realpath(path)
      if real in ancestors:
        yield entry(False, -1, 0, reasons.OUTSIDE_ROOT,
                    f'symbolic link loop back to {real}, not followed')
        return
      yield entry(True, -1, int(info.st_mtime))
      yield from self._walk_folder(path, relative, ancestors | {real})
    else:
      yield entry(False, -1, 0, reasons.UNREADABLE, 'not a regular file')

  def _walk_folder(self, path: str, relative: str,
                   ancestors: frozenset) -> Iterator[FoundEntry]:
    try:
      with os.scandir(path) as scan:
        children = sorted(((child.name, child.path, child.is_symlink())
                           for child in scan))
    except OSError as error:
      yield FoundEntry(path, relative, False, -1, 0, reasons.UNREADABLE,
                       f'cannot list folder: {error.strerror or error}')
      return
    for name, child_path, is_link in children:
      yield from self._visit_path(child_path, f'{relative}/{name}', ancestors,
                                  is_link)


def _walk_with_beam_filesystems(
    input_base: str, components: Sequence[str]) -> Iterator[FoundEntry]:
  """Expands a pattern on an object store (no folders, no links)."""
  base = input_base.rstrip('/')
  pattern = FileSystems.join(base, *components)
  results = FileSystems.match([pattern, pattern + '/**'])
  seen = set()
  for metadata in _all_metadata(results):
    if metadata.path in seen or metadata.path.endswith('/'):
      continue
    seen.add(metadata.path)
    relative = metadata.path[len(base) + 1:]
    below_pattern = relative.split('/')[len(components) - 1:]
    hidden = any(part.startswith('.') for part in below_pattern)
    yield FoundEntry(metadata.path, relative, False, metadata.size_in_bytes,
                     int(metadata.last_updated_in_seconds or 0),
                     reasons.HIDDEN if hidden else None,
                     'hidden file' if hidden else '')


def _all_metadata(results: Iterable) -> List:
  metadata = [item for result in results for item in result.metadata_list]
  return sorted(metadata, key=lambda item: item.path)
