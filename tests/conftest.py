"""Shared pytest fixtures: writing small image trees."""

from typing import Dict

import pytest

from file_tree import write_tree


@pytest.fixture(name='make_tree')
def make_tree_fixture(tmp_path):
  """make_tree({'cat/a.jpg': data, ...}) -> path of a new folder."""
  counter = iter(range(1000))

  def make(files: Dict[str, bytes]) -> str:
    return write_tree(str(tmp_path / f'tree{next(counter)}'), files)

  return make
