"""Reads the records of one TFRecord shard, one at a time, without TensorFlow.

Shards ending in `.gz` are gzip streams, all others uncompressed (the rule
`image_dataset()` and TFX's readers follow). Both checksums of every record
are verified, as `tf.data.TFRecordDataset` does. Importing TensorFlow would
cost the command line ~4 s and ~600 MB only to read bytes.
"""

import struct
from typing import Iterator

from isal import igzip

from image_example_gen.inspection.errors import InspectionError
from image_example_gen.beam.sink import masked_crc32c

__all__ = ['read_records']

_HEADER = struct.Struct('<QI')  # record length, masked CRC32C of the length
_FOOTER = struct.Struct('<I')  # masked CRC32C of the record


def read_records(path: str) -> Iterator[bytes]:
  """Yields the serialized records of a shard, in order.

  Raises:
    InspectionError: The shard is truncated, fails a checksum, or is not
      valid gzip although named `.gz`.
  """
  opener = igzip.open if path.endswith('.gz') else open
  try:
    with opener(path, 'rb') as file:
      while True:
        header = file.read(_HEADER.size)
        if not header:
          return
        if len(header) < _HEADER.size:
          raise _damaged(path, 'truncated record header')
        length, length_crc = _HEADER.unpack(header)
        if masked_crc32c(header[:8]) != length_crc:
          raise _damaged(path, 'record length checksum mismatch')
        data = file.read(length)
        footer = file.read(_FOOTER.size)
        if len(data) < length or len(footer) < _FOOTER.size:
          raise _damaged(path, 'truncated record')
        if masked_crc32c(data) != _FOOTER.unpack(footer)[0]:
          raise _damaged(path, 'record checksum mismatch')
        yield data
  except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError.
    raise _damaged(path, f'{type(error).__name__}: {error}') from error


def _damaged(path: str, what: str) -> InspectionError:
  return InspectionError(
      f'{path}: damaged TFRecord shard ({what}); re-run ImageExampleGen')
