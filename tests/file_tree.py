"""Writes small trees of files for tests."""

import os
from typing import Dict


def write_tree(root: str, files: Dict[str, bytes]) -> str:
  """Writes {relative path: bytes} under root; returns root."""
  for relative_path, data in files.items():
    path = os.path.join(root, *relative_path.split('/'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as file:
      file.write(data)
  return root
