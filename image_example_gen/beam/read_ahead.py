"""Reading a batch's files ahead of their use, on a few threads.

A DoFn handles its files one after another, and a file not in the page
cache, or on an object store, is a wait on the disk or the network, not
work: about 120 us for a small local file read cold here, where checking
and encoding it takes about 700 us of CPU, and tens of milliseconds for an
object on Cloud Storage. `FileReader` keeps up to `depth` reads in flight on
a thread pool (reads release the GIL) while the DoFn works on the file in
front, so the waits overlap the work. Measured on docs/scale.md's million
small JPEGs, page cache cold: see the figures there.
"""

import collections
import concurrent.futures
import os
from typing import Deque, Iterable, Iterator, List, Optional, Sequence, Tuple

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from image_example_gen.core import discovery as discovery_lib
from image_example_gen.core import image_probe
from image_example_gen.core import reasons

__all__ = ['FileReader', 'Read', 'read_bytes']

# Threads, files a task, and tasks in flight per DoFn instance: enough to
# hide a local disk's or an object store's latency behind one core's work.
DEFAULT_THREADS = 4
DEFAULT_CHUNK = 8
DEFAULT_DEPTH = 4


def read_bytes(path: str, max_bytes: int) -> bytes:
  """Reads a whole file, through Beam's FileSystems for URIs.

  `read()` without a size lets Python allocate exactly the file's size;
  `read(max_bytes + 1)` would allocate max_bytes for every file.
  """
  if FileSystems.get_scheme(path) is not None:
    with FileSystems.open(path, 'application/octet-stream',
                          CompressionTypes.UNCOMPRESSED) as file:
      return file.read()
  with open(path, 'rb') as file:
    size = os.fstat(file.fileno()).st_size
    if size > max_bytes:  # It grew since it was listed.
      raise image_probe.BadImageError(
          reasons.TOO_LARGE, f'{size} bytes, over max_file_bytes={max_bytes}')
    return file.read()


class Read:
  """A file's bytes, or what reading it raised (`result()` raises it)."""
  __slots__ = ('_data', '_error')

  def __init__(self, data: Optional[bytes] = None,
               error: Optional[BaseException] = None):
    self._data, self._error = data, error

  def result(self) -> bytes:
    if self._error is not None:
      raise self._error
    return self._data


def _read_chunk(paths: Sequence[str], max_bytes: int) -> List[Read]:
  reads = []
  for path in paths:
    try:
      reads.append(Read(read_bytes(path, max_bytes)))
    except (OSError, image_probe.BadImageError) as error:
      reads.append(Read(error=error))
  return reads


class FileReader:
  """Reads files ahead on a thread pool, `chunk` files a task (a task's
  hand-over costs about 20 us, more than a warm read); one per DoFn instance
  (create it in setup, close it in teardown)."""

  def __init__(self, max_bytes: int, threads: int = DEFAULT_THREADS,
               chunk: int = DEFAULT_CHUNK, depth: int = DEFAULT_DEPTH):
    self._max_bytes = max_bytes
    self._chunk = chunk
    self._depth = depth
    self._pool = concurrent.futures.ThreadPoolExecutor(
        threads, thread_name_prefix='image_example_gen-read')

  def read(self, sources: Iterable[discovery_lib.SourceFile]
          ) -> Iterator[Tuple[discovery_lib.SourceFile, Optional[Read]]]:
    """Yields each source with its Read, in order; None for a file that is
    not to be read (a skip reason already, or over max_file_bytes)."""
    pending: Deque = collections.deque()  # (sources, future of their reads)
    chunk: List[discovery_lib.SourceFile] = []

    def submit():
      to_read = [source.path for source in chunk if self._wanted(source)]
      pending.append((list(chunk), self._pool.submit(
          _read_chunk, to_read, self._max_bytes)))
      chunk.clear()

    def emit():
      chunk_sources, future = pending.popleft()
      reads = iter(future.result())
      for source in chunk_sources:
        yield source, next(reads) if self._wanted(source) else None

    for source in sources:
      chunk.append(source)
      if len(chunk) == self._chunk:
        submit()
        if len(pending) > self._depth:
          yield from emit()
    if chunk:
      submit()
    while pending:
      yield from emit()

  def _wanted(self, source: discovery_lib.SourceFile) -> bool:
    return not source.skip_reason and source.size <= self._max_bytes

  def close(self) -> None:
    self._pool.shutdown(wait=True, cancel_futures=True)
