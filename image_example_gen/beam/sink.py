"""A streaming TFRecord writer: one shard per bundle, no shuffle, no grouping.

`WriteTFRecords` writes each bundle of serialized records straight to its own
shard (Beam's file-sink protocol: temp files, then an atomic rename), so memory
stays flat whatever the data size. It differs from `beam.io.WriteToTFRecord` in
two ways that matter for image bytes:

- gzip is done by ISA-L (the `isal` package), whose level 3 compresses photos
  as well as zlib's default level 6 at about 4x the speed; the output is a
  standard gzip stream that zlib, TensorFlow and Beam read;
- record checksums use google-crc32c (hardware CRC32C) instead of crcmod.

The files are standard TFRecords: `*.gz` files are gzip streams that TFX, Beam
and tf.data open as GZIP; files without the suffix are uncompressed.
"""

import struct

import apache_beam as beam
from apache_beam.io import filebasedsink
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
import google_crc32c
from isal import isal_zlib

__all__ = ['WriteTFRecords', 'masked_crc32c']

_GZIP_WINDOW = 16 + 15  # zlib's convention: a gzip header and trailer.


def masked_crc32c(data: bytes) -> int:
  """The masked CRC32C of the TFRecord format."""
  crc = google_crc32c.value(data)
  return (((crc >> 15) | (crc << 17)) + 0xa282ead8) & 0xffffffff


class _GzipFile:
  """A write-only gzip stream over a Beam file handle, at an ISA-L level."""

  def __init__(self, raw, level: int):
    self._raw = raw
    self._compressor = isal_zlib.compressobj(level, isal_zlib.DEFLATED,
                                             _GZIP_WINDOW)

  def write(self, data) -> None:
    compressed = self._compressor.compress(data)
    if compressed:
      self._raw.write(compressed)

  def close(self) -> None:
    self._raw.write(self._compressor.flush())
    self._raw.close()


class _TFRecordSink(filebasedsink.FileBasedSink):
  """Beam file sink writing TFRecords, gzip-compressed or not."""

  def __init__(self, file_path_prefix: str, gzip_level, record_lists: bool):
    super().__init__(
        file_path_prefix=file_path_prefix,
        coder=beam.coders.BytesCoder(),
        file_name_suffix='.gz' if gzip_level is not None else '',
        num_shards=0,
        shard_name_template=None,
        mime_type='application/octet-stream',
        compression_type=CompressionTypes.UNCOMPRESSED)
    self._gzip_level = gzip_level
    self._record_lists = record_lists

  def open(self, temp_path):
    raw = FileSystems.create(temp_path, self.mime_type,
                             CompressionTypes.UNCOMPRESSED)
    if self._gzip_level is None:
      return raw
    return _GzipFile(raw, self._gzip_level)

  def write_record(self, file_handle, value) -> None:
    if not self._record_lists:
      self.write_encoded_record(file_handle, value)
      return
    for record in value:
      self.write_encoded_record(file_handle, record)

  def write_encoded_record(self, file_handle, value: bytes) -> None:
    length = struct.pack('<Q', len(value))
    file_handle.write(length + struct.pack('<I', masked_crc32c(length)))
    file_handle.write(value)
    file_handle.write(struct.pack('<I', masked_crc32c(value)))


class WriteTFRecords(beam.PTransform):
  """Writes serialized records to `<prefix>-SSSSS-of-NNNNN[.gz]` files.

  Args:
    file_path_prefix: Path (or URI) prefix of the shards.
    gzip_level: ISA-L level 0-3 for gzip files ending in `.gz`, or None for
      uncompressed TFRecords.
    record_lists: Each element is a list of serialized records, written in
      order (as `EncodeImages(record_lists=True)` gives them), not one record.
  """

  def __init__(self, file_path_prefix: str, *, gzip_level=3,
               record_lists: bool = False):
    super().__init__()
    self._sink = _TFRecordSink(file_path_prefix, gzip_level, record_lists)

  def expand(self, records):
    return records | beam.io.Write(self._sink)
