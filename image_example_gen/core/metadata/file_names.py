"""Checks and normalizes the file_name of a metadata row.

A file_name is a path relative to the metadata file's folder. It is refused
when it could name a file outside that folder (absolute, a URI, '..' climbing
above the folder) and normalized otherwise: backslashes become '/', and '.',
empty and non-climbing '..' components are resolved ('./a//b/../c.jpg' ->
'a/c.jpg'), so that two spellings of one file are one file_name.
"""

import posixpath
import re

from image_example_gen.core.metadata import table

__all__ = ['BadFileName', 'normalize_file_name']

_URI = re.compile(r'[A-Za-z][A-Za-z0-9+.-]*://')
_WINDOWS_DRIVE = re.compile(r'[A-Za-z]:/')


class BadFileName(ValueError):
  """A file_name that names no safe file; carries a row problem reason."""

  def __init__(self, reason: str, detail: str):
    super().__init__(detail)
    self.reason = reason
    self.detail = detail


def normalize_file_name(written: str) -> str:
  """Returns the normalized file_name, or raises BadFileName.

  Raises:
    BadFileName: UNPARSABLE_ROW for an empty name, a NUL character or a name
      of the folder itself; UNSAFE_FILE_NAME for a URI, an absolute path or
      one that climbs above the metadata file's folder.
  """
  name = written.strip()
  if not name:
    raise BadFileName(table.UNPARSABLE_ROW,
                      'file_name is empty: name the image file of this row')
  if '\0' in name:
    raise BadFileName(table.UNPARSABLE_ROW,
                      'file_name contains a NUL character')
  if _URI.match(name):
    raise BadFileName(
        table.UNSAFE_FILE_NAME,
        f'file_name {name!r} is a URI: write the path relative to the '
        "metadata file's folder")
  name = name.replace('\\', '/')
  if name.startswith('/') or _WINDOWS_DRIVE.match(name):
    raise BadFileName(
        table.UNSAFE_FILE_NAME,
        f'file_name {written.strip()!r} is an absolute path: write the path '
        "relative to the metadata file's folder")
  normalized = posixpath.normpath(name)
  if normalized == '..' or normalized.startswith('../'):
    raise BadFileName(
        table.UNSAFE_FILE_NAME,
        f"file_name {written.strip()!r} climbs out of the metadata file's "
        'folder: only images in that folder or below it can be named')
  if normalized == '.':
    raise BadFileName(
        table.UNPARSABLE_ROW,
        f"file_name {written.strip()!r} names the metadata file's folder, "
        'not an image file')
  return normalized
