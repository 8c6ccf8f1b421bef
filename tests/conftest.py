"""Shared pytest fixtures: writing small image trees."""

import os
from typing import Dict

import pytest


def write_tree(root: str, files: Dict[str, bytes]) -> str:
  """Writes {relative path: bytes} under root; returns root."""
  for relative_path, data in files.items():
    path = os.path.join(root, *relative_path.split('/'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as file:
      file.write(data)
  return root


@pytest.fixture(name='make_tree')
def make_tree_fixture(tmp_path):
  """make_tree({'cat/a.jpg': data, ...}) -> path of a new folder."""
  counter = iter(range(1000))

  def make(files: Dict[str, bytes]) -> str:
    return write_tree(str(tmp_path / f'tree{next(counter)}'), files)

  return make
