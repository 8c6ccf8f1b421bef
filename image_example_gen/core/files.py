"""The one file API of the package: local paths and URIs (gs://, s3://) alike.

Everything the package reads or writes outside the Beam transforms' own I/O
goes through these functions: the artifact's report and label map, the
manifest, the workers' progress files, metadata files. They are Beam's
`FileSystems`, which every worker has already, which TFX itself uses through
`tfx.dsl.io`, and which reaches Google Cloud Storage with `apache-beam[gcp]`.

Beam's file systems are imported on first use, not with this module, so the
`image-example-gen` command starts fast and local folders that need nothing
more pay nothing.
"""

import os
from typing import Iterable, Iterator, List

__all__ = [
    'exists', 'glob', 'is_uri', 'join', 'makedirs', 'prefetch', 'read_bytes',
    'read_lines',
    'read_text', 'remove', 'write_bytes', 'write_chunks', 'write_lines',
    'write_text'
]


def _filesystems():
  from apache_beam.io.filesystems import FileSystems  # pylint: disable=g-import-not-at-top
  return FileSystems


def is_uri(path: str) -> bool:
  """Whether `path` is a URI (scheme://...) rather than a local path."""
  return '://' in path


def join(base: str, *parts: str) -> str:
  """Joins path parts, with '/' for URIs and os.path.join for local paths."""
  if is_uri(base):
    return _filesystems().join(base, *parts)
  return os.path.join(base, *parts)


def exists(path: str) -> bool:
  if not is_uri(path):
    return os.path.exists(path)
  return _filesystems().exists(path)


def prefetch(paths: Iterable[str]) -> None:
  """Asks the kernel to start reading local files into its page cache
  (`posix_fadvise(WILLNEED)`), so that the reads that follow, a moment
  later, find them there instead of waiting on the disk; the kernel reads
  them while this process works, without threads (which took the GIL from
  the encoding and were slower, docs/scale.md). URIs, files that cannot be
  opened (their read reports it) and systems without posix_fadvise are left
  alone."""
  advise = getattr(os, 'posix_fadvise', None)
  if advise is None:
    return
  for path in paths:
    if is_uri(path):
      continue
    try:
      # O_NONBLOCK: a FIFO among the files must not block the open.
      descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
      continue
    try:
      advise(descriptor, 0, 0, os.POSIX_FADV_WILLNEED)
    except OSError:
      pass
    finally:
      os.close(descriptor)


def read_bytes(path: str) -> bytes:
  if not is_uri(path):
    with open(path, 'rb') as file:
      return file.read()
  from apache_beam.io.filesystem import CompressionTypes  # pylint: disable=g-import-not-at-top
  with _filesystems().open(path, 'application/octet-stream',
                           CompressionTypes.UNCOMPRESSED) as file:
    return file.read()


def read_text(path: str) -> str:
  return read_bytes(path).decode('utf-8')


def read_lines(path: str) -> Iterator[str]:
  """The lines of a UTF-8 text file, one at a time, without their line
  ends: the file is never held whole."""
  if not is_uri(path):
    with open(path, encoding='utf-8') as file:
      for line in file:
        yield line.rstrip('\r\n')
    return
  from apache_beam.io.filesystem import CompressionTypes  # pylint: disable=g-import-not-at-top
  with _filesystems().open(path, 'text/plain',
                           CompressionTypes.UNCOMPRESSED) as file:
    for line in file:
      yield line.decode('utf-8').rstrip('\r\n')


def write_bytes(path: str, data: bytes) -> None:
  """Writes a whole file, creating its folder (local paths) if needed."""
  write_chunks(path, [data])


def write_chunks(path: str, chunks: Iterable[bytes]) -> None:
  """Writes a file from its pieces, one at a time, creating its folder
  (local paths) if needed: the whole is never held."""
  if not is_uri(path):
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'wb') as file:
      for chunk in chunks:
        file.write(chunk)
    return
  from apache_beam.io.filesystem import CompressionTypes  # pylint: disable=g-import-not-at-top
  with _filesystems().create(path, 'application/octet-stream',
                             CompressionTypes.UNCOMPRESSED) as file:
    for chunk in chunks:
      file.write(chunk)


def write_text(path: str, text: str) -> None:
  write_bytes(path, text.encode('utf-8'))


def write_lines(path: str, lines: Iterable[str]) -> None:
  """Writes UTF-8 text lines (a line end added to each) one at a time."""
  write_chunks(path, ((line + '\n').encode('utf-8') for line in lines))


def makedirs(path: str) -> None:
  """Creates a folder (object stores have none: a no-op there)."""
  if not is_uri(path):
    os.makedirs(path, exist_ok=True)


def glob(pattern: str) -> List[str]:
  """Sorted paths matching a glob pattern (files and, locally, folders)."""
  if not is_uri(pattern):
    import glob as glob_lib  # pylint: disable=g-import-not-at-top
    return sorted(glob_lib.glob(pattern))
  results = _filesystems().match([pattern])
  return sorted(metadata.path for result in results
                for metadata in result.metadata_list)


def remove(path: str) -> None:
  """Removes a file or a whole folder; nothing if it does not exist."""
  if not is_uri(path):
    if os.path.isdir(path):
      import shutil  # pylint: disable=g-import-not-at-top
      shutil.rmtree(path)
    elif os.path.lexists(path):
      os.remove(path)
    return
  filesystems = _filesystems()
  if filesystems.exists(path):
    filesystems.delete([path])
    return
  folder = path.rstrip('/') + '/'
  if filesystems.match([folder + '**'])[0].metadata_list:
    filesystems.delete([folder])
