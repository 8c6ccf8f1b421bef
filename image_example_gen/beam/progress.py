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

An ingest with a split planned before encoding (stratify, the default) reads
every file twice: its first pass reports as phase FIRST_PASS, and until the
encoding starts the line says so, with that pass's own rate and time left;
the encoding's rate and time left then count from its own start (the
workers' files carry when their phase started), so the first pass does not
skew them.
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

__all__ = ['ENCODING', 'FIRST_PASS', 'PROGRESS_FOLDER', 'ProgressMonitor',
           'ProgressReporter', 'Snapshot', 'progress_dir']

PROGRESS_FOLDER = 'progress'
# How often a worker rewrites its file, and the launcher logs a line.
REPORT_INTERVAL_S = 2.0
LOG_INTERVAL_S = 5.0
_POLL_INTERVAL_S = 1.0
_MB = 1 << 20
# The phases a worker reports: the split's first pass, then the encoding.
FIRST_PASS = 'first_pass'
ENCODING = 'encoding'

_LOGGER = logging.getLogger(__name__)


def progress_dir(manifest_path: str) -> str:
  """The progress folder beside a manifest."""
  return FileSystems.join(FileSystems.split(manifest_path)[0], PROGRESS_FOLDER)


class ProgressReporter:
  """A worker's running totals in one phase (FIRST_PASS or ENCODING),
  written to its own file now and then."""

  def __init__(self, phase: str = ENCODING):
    self._path = None
    # `worker` names the process (host:pid): the engine tests check that the
    # work was spread over several workers. `started`: wall-clock seconds at
    # which this worker began its first batch (`begin_batch`), not its
    # DoFn's setup: between the two the runner may wait on the first pass's
    # side inputs, and a rate counted from setup made the first line of a
    # million-file encoding say "58 images/s, about 1737 s left".
    self._totals = {'files': 0, 'bytes': 0, 'skipped': 0,
                    'worker': f'{socket.gethostname()}:{os.getpid()}',
                    'phase': phase, 'started': None}
    self._written_at = 0.0

  def begin_batch(self) -> None:
    """Marks the phase's start, at the first batch."""
    if self._totals['started'] is None:
      self._totals['started'] = time.time()

  def add(self, manifest_path: str, *, files: int, size: int,
          skipped: int) -> None:
    """Counts a finished batch; writes the totals if it is time to."""
    self.begin_batch()
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
    self._totals['updated'] = time.time()
    with FileSystems.create(self._path, 'application/json',
                            CompressionTypes.UNCOMPRESSED) as file:
      file.write(json.dumps(self._totals).encode())
    self._written_at = time.monotonic()


@dataclasses.dataclass(frozen=True)
class Snapshot:
  """The ingest's progress at one moment.

  `elapsed_s` is the phase's time so far; `counted_s`, when known, the time
  its counts cover: from the phase's start to the workers' last report,
  which may be a few seconds old. Rates divide by it: divided by the
  elapsed time, the one batch of the first report, read 5 s later, said
  "0.1 MB/s, about 19017 s left" for a 2-minute pass at a million files.
  """
  files: int
  total_files: int
  bytes: int
  total_bytes: int
  skipped: int
  elapsed_s: float
  phase: str = ENCODING
  counted_s: Optional[float] = None

  @property
  def _rate_s(self) -> float:
    return self.elapsed_s if self.counted_s is None else self.counted_s

  @property
  def images_per_s(self) -> float:
    return (self.files - self.skipped) / self._rate_s if self._rate_s else 0

  @property
  def mb_per_s(self) -> float:
    return self.bytes / _MB / self._rate_s if self._rate_s else 0.0

  @property
  def seconds_left(self) -> Optional[float]:
    """From the byte rate so far, less the time since the counts; None
    before any byte is done."""
    if not self.bytes:
      return None
    left = (self.total_bytes - self.bytes) * self._rate_s / self.bytes
    return max(left - max(self.elapsed_s - self._rate_s, 0.0), 0.0)

  def line(self) -> str:
    share = self.files / self.total_files if self.total_files else 1.0
    left = self.seconds_left
    left_text = (f'about {left:.0f} s left' if left is not None else
                 'time left unknown')
    if self.phase == FIRST_PASS:
      return (f'Split first pass (reading every file to balance the splits): '
              f'{self.files:,} of {self.total_files:,} files ({share:.0%}), '
              f'{self.mb_per_s:.1f} MB/s, {left_text} in this pass, then the '
              'encoding')
    return (f'Ingest progress: {self.files:,} of {self.total_files:,} files '
            f'({share:.0%}), {self.mb_per_s:.1f} MB/s, '
            f'{self.images_per_s:.0f} images/s, {self.skipped:,} skipped, '
            + left_text)


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
    phases = {}
    for worker in self._per_worker.values():
      phases.setdefault(worker.get('phase', ENCODING), []).append(worker)
    phase = ENCODING if ENCODING in phases or not phases else FIRST_PASS
    workers = phases.get(phase, [])
    total = lambda key: sum(worker[key] for worker in workers)
    elapsed = time.monotonic() - self._started
    starts = [worker['started'] for worker in workers
              if worker.get('started')]
    if starts and (phase == FIRST_PASS or FIRST_PASS in phases):
      # The phase's own time, when there are two.
      elapsed = max(time.time() - min(starts), 1e-3)
    updates = [worker['updated'] for worker in workers
               if worker.get('updated')]
    counted = (min(max(max(updates) - min(starts), 1e-3), elapsed)
               if starts and updates else None)
    return Snapshot(total('files'), self._total_files, total('bytes'),
                    self._total_bytes, total('skipped'), elapsed, phase,
                    counted)

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
