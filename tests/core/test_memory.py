"""Giving freed heap back to the OS (core/memory.py)."""

import platform

import pytest

from image_example_gen.core import memory


@pytest.mark.skipif(platform.system() != 'Linux' or
                    platform.libc_ver()[0] != 'glibc',
                    reason='malloc_trim is glibc\'s')
def test_release_freed_trims_the_heap_on_glibc():
  # A heap full of freed small blocks: malloc_trim gives pages back.
  blocks = [bytearray(4000) for _ in range(20_000)]
  del blocks[::2]
  blocks.clear()
  assert memory.release_freed() is True
