"""core.files: local paths and URIs through one set of functions."""

import os
import threading

from image_example_gen.core import files


def test_read_lines_streams_lines_without_their_ends(tmp_path):
  path = tmp_path / 'lines.jsonl'
  path.write_bytes('{"a": 1}\r\n\n{"é": 2}\n{"last": 3}'.encode('utf-8'))
  lines = files.read_lines(str(path))
  assert next(lines) == '{"a": 1}'  # A generator: read as it goes.
  assert list(lines) == ['', '{"é": 2}', '{"last": 3}']


def test_prefetch_passes_over_what_it_cannot_read_ahead(tmp_path):
  image = tmp_path / 'a.jpg'
  image.write_bytes(b'\xff\xd8' + bytes(4096))
  fifo = tmp_path / 'pipe.jpg'
  os.mkfifo(fifo)
  done = threading.Event()

  def prefetch():
    files.prefetch([str(image), str(tmp_path / 'gone.jpg'), str(fifo),
                    'gs://bucket/a.jpg'])
    done.set()

  # A FIFO without a writer would block a plain open forever.
  threading.Thread(target=prefetch, daemon=True).start()
  assert done.wait(timeout=10)
  assert image.read_bytes()[:2] == b'\xff\xd8'
