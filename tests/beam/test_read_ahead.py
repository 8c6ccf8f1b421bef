"""Reading a batch's files ahead (beam/read_ahead.py)."""

import pytest

from image_example_gen.beam import read_ahead
from image_example_gen.core import discovery
from image_example_gen.core import image_probe
from image_example_gen.core import reasons


def _source(path, size, skip_reason=None):
  return discovery.SourceFile(str(path), str(path), 'train', None, None,
                              size, skip_reason)


@pytest.mark.parametrize('chunk,depth', [(1, 1), (3, 2), (8, 4), (50, 1)])
def test_files_come_back_in_order_with_their_own_bytes_or_error(
    tmp_path, chunk, depth):
  sources = []
  for index in range(23):
    path = tmp_path / f'{index:02d}.jpg'
    if index % 7 == 3:
      sources.append(_source(path, 10))  # Missing: an OSError of its own.
      continue
    path.write_bytes(bytes([index]) * (index + 1))
    if index % 5 == 4:
      sources.append(_source(path, index + 1, skip_reason='corrupt'))
    elif index == 20:
      sources.append(_source(path, 10_000))  # Over max_file_bytes.
    else:
      sources.append(_source(path, index + 1))
  reader = read_ahead.FileReader(max_bytes=100, threads=2, chunk=chunk,
                                 depth=depth)
  try:
    results = list(reader.read(iter(sources)))
  finally:
    reader.close()
  assert [source for source, _ in results] == sources
  for index, (source, read) in enumerate(results):
    if source.skip_reason or index == 20:
      assert read is None
    elif index % 7 == 3:
      with pytest.raises(FileNotFoundError):
        read.result()
    else:
      assert read.result() == bytes([index]) * (index + 1)


def test_a_file_that_grew_past_the_limit_is_too_large(tmp_path):
  path = tmp_path / 'grew.jpg'
  path.write_bytes(b'x' * 500)
  reader = read_ahead.FileReader(max_bytes=100)
  try:
    [(_, read)] = list(reader.read([_source(path, 50)]))  # Listed small.
  finally:
    reader.close()
  with pytest.raises(image_probe.BadImageError) as raised:
    read.result()
  assert raised.value.reason == reasons.TOO_LARGE
