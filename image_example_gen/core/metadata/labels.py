"""Turns the labels of metadata rows into class ids of a vocabulary."""

import functools
from typing import Dict, Sequence, Tuple

from image_example_gen.core.metadata import table

__all__ = ['resolve_labels']

_SHOWN_NAMES = 20


def resolve_labels(labels: Tuple[table.Label, ...],
                   vocabulary: Sequence[str]) -> Tuple[int, ...]:
  """The class ids of `labels`, in their order: label i is vocabulary[i].

  A name is looked up in the vocabulary; an int is an id already, and must be
  in [0, len(vocabulary)).

  Raises:
    ValueError: A name missing from the vocabulary, or an id outside it,
      naming the label and the vocabulary.
  """
  names = tuple(vocabulary)
  index = _index_of(names)
  ids = []
  for label in labels:
    if isinstance(label, str):
      if label not in index:
        raise ValueError(
            f'Label {label!r} is not a class name; the classes are '
            f'{_shown(names)}. Fix the label, or add the class to '
            'class_names.')
      ids.append(index[label])
    elif isinstance(label, int) and not isinstance(label, bool):
      if not 0 <= label < len(names):
        raise ValueError(
            f'Label id {label} is outside the {len(names)} classes (ids 0 to '
            f'{len(names) - 1}: {_shown(names)}). Fix the label, or add '
            'classes to class_names.')
      ids.append(label)
    else:
      raise ValueError(f'Label {label!r} is neither a class name nor an id.')
  return tuple(ids)


@functools.lru_cache(maxsize=8)
def _index_of(names: Tuple[str, ...]) -> Dict[str, int]:
  index: Dict[str, int] = {}
  for position, name in enumerate(names):
    index.setdefault(name, position)
  return index


def _shown(names: Tuple[str, ...]) -> str:
  if len(names) <= _SHOWN_NAMES:
    return str(list(names))
  shown = ', '.join(repr(name) for name in names[:_SHOWN_NAMES])
  return f'[{shown}, ... ({len(names)} in all)]'
