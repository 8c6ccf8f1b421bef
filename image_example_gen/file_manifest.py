"""The list of files to ingest: written once by the launcher, read by the workers.

The launcher writes one JSON line per file to a manifest on storage every
worker can read (a local temp folder for the DirectRunner, the pipeline's temp
location on Dataflow), and hands Beam only the byte ranges of its batches. The
pipeline graph, the runner and the workers therefore hold a few hundred small
ranges, not a copy of the file list: their memory does not grow with the
number of files, and each worker reads just the lines of the batches it gets.

Files are ordered by md5 of their relative path, a fixed pseudo-random order:
shards mix classes, and the same input always gives the same batches.
"""

import dataclasses
import hashlib
import json
from typing import Iterator, List, Sequence

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from image_example_gen.discovery import SourceFile

__all__ = ['ManifestRange', 'read_range', 'write_manifest']

# Files per batch (the unit of work Beam distributes), and how many batches
# to aim for, so that every worker gets several even on small inputs.
MAX_BATCH_SIZE = 100
TARGET_BATCHES = 64


@dataclasses.dataclass(frozen=True)
class ManifestRange:
  """A batch of files: bytes [start, end) of the manifest at `path`."""
  path: str
  start: int
  end: int


def write_manifest(files: Sequence[SourceFile], path: str) -> List[ManifestRange]:
  """Writes the files, in batches, to a new manifest; returns the batches."""
  ordered = sorted(files, key=lambda source: hashlib.md5(
      source.relative_path.encode('utf-8')).digest())
  size = min(MAX_BATCH_SIZE, max(1, -(-len(ordered) // TARGET_BATCHES)))
  ranges = []
  offset = 0
  with FileSystems.create(path, 'application/json',
                          CompressionTypes.UNCOMPRESSED) as manifest:
    for start in range(0, len(ordered), size):
      batch = b''.join(
          json.dumps(list(source), ensure_ascii=False).encode('utf-8') + b'\n'
          for source in ordered[start:start + size])
      manifest.write(batch)
      ranges.append(ManifestRange(path, offset, offset + len(batch)))
      offset += len(batch)
  return ranges


def read_range(batch: ManifestRange) -> Iterator[SourceFile]:
  """Yields the files of one batch."""
  with FileSystems.open(batch.path, 'application/json',
                        CompressionTypes.UNCOMPRESSED) as manifest:
    manifest.seek(batch.start)
    data = manifest.read(batch.end - batch.start)
  for line in data.splitlines():
    yield SourceFile(*json.loads(line))
