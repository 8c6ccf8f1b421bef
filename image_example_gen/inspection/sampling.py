"""Keeps the k items with the smallest keys of a stream: the sampling rule.

The contact sheet shows, per class, the images with the smallest
`(image/key/sha256, image/filename)`: the same images on every run, whatever
the shard order or the number of workers that wrote them, and spread over the
class as a random sample would be (a digest is uniform). The value of an item
(its thumbnail) is only made when the item enters the k kept, so decoding
costs about k * (1 + ln(n / k)) thumbnails per class of n images, not n.
"""

import bisect
from typing import Any, Callable, Generic, List, Tuple, TypeVar

__all__ = ['SmallestKeys']

Value = TypeVar('Value')


class SmallestKeys(Generic[Value]):
  """The k (key, value) pairs with the smallest keys offered so far."""

  def __init__(self, k: int):
    if k < 1:
      raise ValueError(f'k must be 1 or more, got {k}')
    self._k = k
    self._keys: List[Any] = []
    self._values: List[Value] = []

  def offer(self, key: Any, make_value: Callable[[], Value]) -> bool:
    """Keeps `(key, make_value())` if key is among the k smallest so far.

    Returns whether it was kept; `make_value` is called only then.
    """
    if len(self._keys) == self._k and not key < self._keys[-1]:
      return False
    position = bisect.bisect_right(self._keys, key)
    self._keys.insert(position, key)
    self._values.insert(position, make_value())
    if len(self._keys) > self._k:
      self._keys.pop()
      self._values.pop()
    return True

  def items(self) -> List[Tuple[Any, Value]]:
    """The kept pairs, smallest key first."""
    return list(zip(self._keys, self._values))

  def __len__(self) -> int:
    return len(self._keys)
