"""A side input passed as the name of a file, loaded once per DoFn.

The per-image state that steps hand each other at scale (a stratum's
sorted content keys, the copies' ids) goes through files in the staging
folder: a runner would encode a large side input, hold copies of it and, on
some runners, decode it again for every bundle. The side input is the
file's name; each DoFn loads the file the first time it sees that name.
"""

from typing import Callable, Generic, Optional, TypeVar

__all__ = ['LoadedFile']

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
