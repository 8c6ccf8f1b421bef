"""A tqdm progress bar fed by `Executor.progress_callback`."""

import sys
import threading
from typing import Optional, TextIO, TYPE_CHECKING

if TYPE_CHECKING:  # Importing it at run time would load Beam.
  from image_example_gen.beam import progress  # pylint: disable=g-import-not-at-top

__all__ = ['ProgressBar', 'available']

_BAR_FORMAT = ('{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} files '
               '[{elapsed}{postfix}]')


def available() -> bool:
  """Whether tqdm is installed (it is not a declared dependency)."""
  try:
    import tqdm  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    return False
  return True


class ProgressBar:
  """Draws each `progress.Snapshot` as a bar on a stream (stderr by default).

  ```
  with ProgressBar() as bar:
    executor.progress_callback = bar
    executor.Do(...)
  ```

  The bar appears with the first snapshot (once the files are listed) and shows
  files done of the total, MB/s, images/s, files skipped and the time left,
  which comes from the bytes done (files differ in size).
  """

  def __init__(self, stream: Optional[TextIO] = None):
    self._stream = stream or sys.stderr
    self._bar = None
    self._lock = threading.Lock()  # Snapshots come from the monitor thread.

  def __enter__(self) -> 'ProgressBar':
    return self

  def __exit__(self, *exc_info) -> None:
    self.close()

  def __call__(self, snapshot: 'progress.Snapshot') -> None:
    import tqdm  # pylint: disable=g-import-not-at-top
    with self._lock:
      if self._bar is None:
        self._bar = tqdm.tqdm(total=snapshot.total_files, file=self._stream,
                              bar_format=_BAR_FORMAT, dynamic_ncols=True)
      self._bar.n = snapshot.files
      self._bar.set_postfix_str(postfix(snapshot), refresh=False)
      self._bar.refresh()

  def close(self) -> None:
    with self._lock:
      if self._bar is not None:
        self._bar.close()
        self._bar = None


def postfix(snapshot: 'progress.Snapshot') -> str:
  """'12.3 MB/s, 450 images/s, 2 skipped, 7 s left'; during the split's
  first pass, 'first pass: 12.3 MB/s, 7 s left in this pass'."""
  left = snapshot.seconds_left
  if snapshot.phase == 'first_pass':  # progress.FIRST_PASS (not imported:
    # the command starts without Beam).
    return (f'first pass: {snapshot.mb_per_s:.1f} MB/s, ' +
            (f'{left:.0f} s left in this pass' if left is not None else
             'time left unknown'))
  return (f'{snapshot.mb_per_s:.1f} MB/s, {snapshot.images_per_s:.0f} '
          f'images/s, {snapshot.skipped:,} skipped, ' +
          (f'{left:.0f} s left' if left is not None else 'time left unknown'))
