"""The list of files to ingest: written once by the launcher, read by the workers.

`plan_and_stage` plans an ingest (core.plan) and stages it, as every entry
point does before its pipeline. `stage(planned, staging_dir)` writes the planned files (core.plan) to a
manifest in the staging folder and returns what the pipeline needs: the
batches, the vocabulary, the totals and the folder where workers report their
progress.

The launcher writes one JSON line per file to a manifest on storage every
worker can read (a local temp folder for the DirectRunner, the pipeline's temp
location on Dataflow), and hands Beam only the byte ranges of its batches. The
pipeline graph, the runner and the workers therefore hold a few hundred small
ranges, not a copy of the file list: their memory does not grow with the
number of files, and each worker reads just the lines of the batches it gets.

Files come ordered by md5 of their relative path (core.plan_store), a fixed
pseudo-random order: shards mix classes, and the same input always gives the
same batches.
"""

import dataclasses
import itertools
import json
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
import numpy as np

from image_example_gen.beam import progress
from image_example_gen.core import config as config_lib
from image_example_gen.core import memory
from image_example_gen.core import plan as plan_lib
from image_example_gen.core.discovery import InputSplit
from image_example_gen.core.discovery import SourceFile
from image_example_gen.core.plan import Plan

__all__ = ['MANIFEST_FILE_NAME', 'BatchTable', 'ManifestRange', 'StagedFiles',
           'batch_size',
           'plan_and_stage', 'read_range', 'stage']

# The manifest's file name in the staging folder.
MANIFEST_FILE_NAME = 'files.jsonl'

# Files per batch (the unit of work Beam distributes), and how many batches
# to aim for, so that every worker gets several even on small inputs.
MAX_BATCH_SIZE = 100
TARGET_BATCHES = 64
# Beyond 10,000,000 files, batches grow past MAX_BATCH_SIZE so that there
# are at most this many: the ranges go into the job graph (28 B each,
# pickled), which Dataflow refuses above about 20 MB; 100,000,000 files in
# batches of 100 would be 1,000,000 ranges, 28 MB (docs/scale.md).
MAX_BATCHES = 100_000


@dataclasses.dataclass(frozen=True)
class ManifestRange:
  """A batch of files: bytes [start, end) of the manifest at `path`."""
  path: str
  start: int
  end: int


class BatchTable:
  """Batches by number: the pipeline passes a batch's number, a small int,
  and each DoFn, which holds the table (two small arrays), turns it back
  into its ManifestRange.

  Why not the ManifestRange objects themselves: the in-process DirectRunner
  keeps each element of `beam.Create` and of its Reshuffle as a pickle and
  as an object. Its RSS after a run over the 10,000 batches of a million
  files was 18 MB above the start with ManifestRanges and 9 MB with ints
  (peak 31 and 11 MB), and the ingest holds them for its whole run.
  """

  def __init__(self, batches: Sequence[ManifestRange]):
    self._paths = sorted({batch.path for batch in batches})
    path_number = {path: number for number, path in enumerate(self._paths)}
    self._path_numbers = np.array(
        [path_number[batch.path] for batch in batches], dtype=np.int32)
    self._bounds = np.array([(batch.start, batch.end) for batch in batches],
                            dtype=np.int64).reshape(-1, 2)

  def __len__(self) -> int:
    return len(self._bounds)

  def __getitem__(self, number: int) -> ManifestRange:
    start, end = self._bounds[number].tolist()
    return ManifestRange(self._paths[self._path_numbers[number]], start, end)


@dataclasses.dataclass(frozen=True)
class StagedFiles:
  """What the launcher found and wrote to the manifest.

  Attributes:
    class_names: The class vocabulary.
    batches: The manifest's batches, for EncodeImages.
    total_files: Files in the manifest.
    total_bytes: Their total size.
    progress_dir: Where the workers report their progress (beam.progress).
    multi_label: Whether images have several labels each.
  """
  class_names: Tuple[str, ...]
  batches: List[ManifestRange]
  total_files: int
  total_bytes: int
  progress_dir: str
  multi_label: bool = False


def plan_and_stage(input_base: str, input_splits: Sequence[InputSplit],
                   config: config_lib.IngestConfig,
                   previous_class_names: Optional[Sequence[str]],
                   staging_dir: str) -> StagedFiles:
  """Plans the files of an ingest (core.plan.plan_files), writes them to a
  manifest in staging_dir, and gives the plan's freed heap back to the OS:
  in-process, the pipeline runs in this process next
  (benchmarks/million_profile.py plan: 241 -> 207 MB after a million
  files)."""
  with plan_lib.plan_files(input_base, input_splits, config,
                           previous_class_names) as planned:
    staged = stage(planned, staging_dir)
  memory.release_freed()
  return staged


def stage(planned: Plan, staging_dir: str) -> StagedFiles:
  """Writes the planned files (core.plan) to a manifest in staging_dir."""
  manifest_path = FileSystems.join(staging_dir, MANIFEST_FILE_NAME)
  batches = _write_manifest(planned.files(), planned.total_files,
                            manifest_path)
  return StagedFiles(planned.class_names, batches, planned.total_files,
                     planned.total_bytes,
                     progress.progress_dir(manifest_path), planned.multi_label)


def _write_manifest(files: Iterable[SourceFile], total: int,
                    path: str) -> List[ManifestRange]:
  """Writes the files, already in order, in batches to a new manifest.

  Returns:
    The batches (see batch_size).
  """
  size = batch_size(total)
  ranges = []
  offset = 0
  files = iter(files)
  with FileSystems.create(path, 'application/json',
                          CompressionTypes.UNCOMPRESSED) as manifest:
    while True:
      batch = b''.join(
          json.dumps(list(source), ensure_ascii=False).encode('utf-8') + b'\n'
          for source in itertools.islice(files, size))
      if not batch:
        break
      manifest.write(batch)
      ranges.append(ManifestRange(path, offset, offset + len(batch)))
      offset += len(batch)
  return ranges


def batch_size(total: int) -> int:
  """Files per batch for `total` files: about TARGET_BATCHES batches of at
  most MAX_BATCH_SIZE files, and never more than MAX_BATCHES batches."""
  return max(-(-total // MAX_BATCHES),
             min(MAX_BATCH_SIZE, max(1, -(-total // TARGET_BATCHES))))


def read_range(batch: ManifestRange) -> Iterator[SourceFile]:
  """Yields the files of one batch."""
  with FileSystems.open(batch.path, 'application/json',
                        CompressionTypes.UNCOMPRESSED) as manifest:
    manifest.seek(batch.start)
    data = manifest.read(batch.end - batch.start)
  for line in data.splitlines():
    yield SourceFile(*json.loads(line))
