"""core.files: local paths and URIs through one set of functions."""

from image_example_gen.core import files


def test_read_lines_streams_lines_without_their_ends(tmp_path):
  path = tmp_path / 'lines.jsonl'
  path.write_bytes('{"a": 1}\r\n\n{"é": 2}\n{"last": 3}'.encode('utf-8'))
  lines = files.read_lines(str(path))
  assert next(lines) == '{"a": 1}'  # A generator: read as it goes.
  assert list(lines) == ['', '{"é": 2}', '{"last": 3}']
