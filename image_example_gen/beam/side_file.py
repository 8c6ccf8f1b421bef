"""A side input passed as the name of a file, loaded once per DoFn.

The per-image state that steps hand each other at scale (a stratum's
sorted content keys, the copies' ids) goes through files in the staging
folder: a runner would encode a large side input, hold copies of it and, on
some runners, decode it again for every bundle. `WriteAndReduce` writes
the lines to files and runs one step over them, which writes its result to
a file and passes on that file's name, the side input; each DoFn loads the
file the first time it sees that name (`LoadedFile`).
"""

from typing import Any, Callable, Generic, Optional, Sequence, TypeVar

import apache_beam as beam

__all__ = ['LoadedFile', 'WriteAndReduce']

_T = TypeVar('_T')


class LoadedFile(Generic[_T]):
  """`get(path)` returns `load(path)`, loaded again only for another path."""

  def __init__(self, load: Callable[[str], _T]):
    self._load = load
    self._path: Optional[str] = None
    self._value: Optional[_T] = None

  def get(self, path: str) -> _T:
    if path != self._path:
      self._value = None  # Let the former go before loading.
      self._value, self._path = self._load(path), path
    return self._value

  def release(self) -> None:
    """Lets the loaded value go; the next `get` loads it again."""
    self._value = self._path = None


class WriteAndReduce(beam.PTransform):
  """Text lines -> files under `lines_prefix` (`.b64`, by WriteToText) ->
  one call `step(file_names, *args, output_path)`, on one worker, once they
  are all written -> its result (the output file's name), one element.

  Args:
    lines_prefix: Where the lines go (a staging folder every worker reads).
    step: Reads the files, writes `output_path`, returns it.
    args: step's arguments between the file names and the output path.
    output_path: The file step writes.
  """

  def __init__(self, lines_prefix: str, step: Callable[..., str],
               *args: Any, output_path: str):
    super().__init__()
    self._lines_prefix = lines_prefix
    self._step = step
    self._args: Sequence[Any] = args
    self._output_path = output_path

  def expand(self, lines):
    return (lines
            | 'Write' >> beam.io.WriteToText(self._lines_prefix, '.b64')
            | 'ListFiles' >> beam.combiners.ToList()
            | 'Reduce' >> beam.Map(self._step, *self._args,
                                   self._output_path))
