"""Progress of a running ingest: workers report it, the launcher shows it.

Each worker's DoFn (`ProgressReporter`) keeps its running totals (files done,
their bytes, files skipped) and, at most every `REPORT_INTERVAL_S`, rewrites
one small JSON file of its own in a `progress/` folder beside the file
manifest, on the storage every worker already reads (a local folder for the
DirectRunner, the temp location on Dataflow). The launcher's
`ProgressMonitor`, a thread running while the pipeline runs, sums those files
and logs files done of the total, MB/s, images/s, files skipped so far and
the time left; a callback (the `ingest` command's progress bar) gets each
snapshot too. The same works with the DirectRunner in-process and with worker
processes, because it needs nothing from the runner.
"""

import dataclasses
import json
import logging
import os
import socket
import threading
import time
from typing import Callable, Dict, Optional
import uuid

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

__all__ = ['PROGRESS_FOLDER', 'ProgressMonitor', 'ProgressReporter',
           'Snapshot', 'progress_dir']

PROGRESS_FOLDER = 'progress'
# How often a worker rewrites its file, and the launcher logs a line.
REPORT_INTERVAL_S = 2.0
LOG_INTERVAL_S = 5.0
_POLL_INTERVAL_S = 1.0
_MB = 1 << 20

_LOGGER = logging.getLogger(__name__)


def progress_dir(manifest_path: str) -> str:
  """The progress folder beside a manifest."""
  return FileSystems.join(FileSystems.split(manifest_path)[0], PROGRESS_FOLDER)


class ProgressReporter:
  """A worker's running totals, written to its own file now and then."""

  def __init__(self):
    self._path = None
    # `worker` names the process (host:pid): the engine tests check that the
    # work was spread over several workers.
    self._totals = {'files': 0, 'bytes': 0, 'skipped': 0,
                    'worker': f'{socket.gethostname()}:{os.getpid()}'}
    self._written_at = 0.0

  def add(self, manifest_path: str, *, files: int, size: int,
          skipped: int) -> None:
    """Counts a finished batch; writes the totals if it is time to."""
    if self._path is None:
      self._path = FileSystems.join(progress_dir(manifest_path),
                                    f'{uuid.uuid4().hex}.json')
    self._totals['files'] += files
    self._totals['bytes'] += size
    self._totals['skipped'] += skipped
    if time.monotonic() - self._written_at >= REPORT_INTERVAL_S:
      self.flush()

  def flush(self) -> None:
    """Writes the totals (a no-op before the first batch)."""
    if self._path is None:
      return
    with FileSystems.create(self._path, 'application/json',
                            CompressionTypes.UNCOMPRESSED) as file:
      file.write(json.dumps(self._totals).encode())
    self._written_at = time.monotonic()


@dataclasses.dataclass(frozen=True)
class Snapshot:
  """The ingest's progress at one moment."""
  files: int
  total_files: int
  bytes: int
  total_bytes: int
  skipped: int
  elapsed_s: float

  @property
  def images_per_s(self) -> float:
    return (self.files - self.skipped) / self.elapsed_s if self.elapsed_s else 0

  @property
  def mb_per_s(self) -> float:
    return self.bytes / _MB / self.elapsed_s if self.elapsed_s else 0.0

  @property
  def seconds_left(self) -> Optional[float]:
    """From the byte rate so far; None before any byte is done."""
    if not self.bytes:
      return None
    return (self.total_bytes - self.bytes) * self.elapsed_s / self.bytes

  def line(self) -> str:
    share = self.files / self.total_files if self.total_files else 1.0
    left = self.seconds_left
    return (f'Ingest progress: {self.files:,} of {self.total_files:,} files '
            f'({share:.0%}), {self.mb_per_s:.1f} MB/s, '
            f'{self.images_per_s:.0f} images/s, {self.skipped:,} skipped, '
            + (f'about {left:.0f} s left' if left is not None else
               'time left unknown'))


class ProgressMonitor:
  """Sums the workers' progress files while a pipeline runs; logs it.

  ```
  with ProgressMonitor(progress_dir(manifest), files, size):
    pipeline.run().wait_until_finish()
  ```

  Args:
    directory: The progress folder (`progress_dir` of the manifest).
    total_files: Files in the manifest.
    total_bytes: Their total size.
    on_update: Called with each Snapshot (about once a second).
    log_interval_s: Seconds between log lines.
  """

  def __init__(self, directory: str, total_files: int, total_bytes: int, *,
               on_update: Optional[Callable[[Snapshot], None]] = None,
               log_interval_s: float = LOG_INTERVAL_S):
    self._directory = directory
    self._total_files = total_files
    self._total_bytes = total_bytes
    self._on_update = on_update
    self._log_interval_s = log_interval_s
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._run, daemon=True,
                                    name='image_example_gen-progress')
    self._started = 0.0
    self._per_worker: Dict[str, Dict[str, int]] = {}

  def __enter__(self) -> 'ProgressMonitor':
    self._started = time.monotonic()
    self._thread.start()
    return self

  def __exit__(self, *exc_info) -> None:
    self._stop.set()
    self._thread.join()

  def snapshot(self) -> Snapshot:
    """Reads every worker's file; a file being rewritten keeps its last value."""
    pattern = FileSystems.join(self._directory, '*.json')
    try:
      matched = FileSystems.match([pattern])[0].metadata_list
    except Exception:  # pylint: disable=broad-except
      matched = []  # No worker has written yet.
    for metadata in matched:
      try:
        with FileSystems.open(metadata.path, 'application/json',
                              CompressionTypes.UNCOMPRESSED) as file:
          self._per_worker[metadata.path] = json.loads(file.read())
      except (OSError, ValueError):
        continue
    total = lambda key: sum(worker[key] for worker in self._per_worker.values())
    return Snapshot(total('files'), self._total_files, total('bytes'),
                    self._total_bytes, total('skipped'),
                    time.monotonic() - self._started)

  def _run(self) -> None:
    logged_at = time.monotonic()
    while not self._stop.wait(_POLL_INTERVAL_S):
      snapshot = self.snapshot()
      if self._on_update:
        self._on_update(snapshot)
      if time.monotonic() - logged_at >= self._log_interval_s:
        _LOGGER.info('%s', snapshot.line())
        logged_at = time.monotonic()
    snapshot = self.snapshot()
    if self._on_update:
      self._on_update(snapshot)
    _LOGGER.info('%s', snapshot.line())
