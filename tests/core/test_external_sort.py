"""Lines sorted through runs on disk: the same order as sorted(), stable."""

import glob
import json
import random
import tempfile

import pytest

from image_example_gen.core import external_sort


def _lines(count, seed=0):
  rng = random.Random(seed)
  return [json.dumps({'key': rng.randrange(50), 'n': index})
          for index in range(count)]


def _key(line):
  return json.loads(line)['key']


@pytest.mark.parametrize('count, run_lines, max_fan_in', [
    (0, 4, 2), (3, 4, 2), (4, 4, 2), (5, 4, 2), (1000, 7, 256), (1000, 1, 3),
    (1000, 7, 2), (1000, 4096, 2)])
def test_same_order_as_a_stable_sort_in_memory(count, run_lines, max_fan_in):
  """Many runs merged in passes, a few at a time, keep the order too."""
  lines = _lines(count, seed=count + run_lines)
  assert list(external_sort.sorted_lines(
      lines, _key, run_lines, max_fan_in)) == sorted(lines, key=_key)


def test_lines_keep_their_unicode_and_escaped_line_ends():
  lines = [json.dumps({'key': 2, 'path': 'ä\u2028b'}, ensure_ascii=False),
           json.dumps({'key': 1, 'path': 'c\rd\ne'}), '{"key": 0}']
  assert list(external_sort.sorted_lines(lines, _key, run_lines=1)) == [
      lines[2], lines[1], lines[0]]


def test_runs_are_removed_once_read_or_closed():
  before = set(glob.glob(f'{tempfile.gettempdir()}/image_example_gen_sort_*'))
  read = list(external_sort.sorted_lines(_lines(100), _key, run_lines=10))
  assert len(read) == 100
  closed = external_sort.sorted_lines(_lines(100), _key, run_lines=10)
  next(closed)
  assert set(glob.glob(
      f'{tempfile.gettempdir()}/image_example_gen_sort_*')) - before
  closed.close()
  assert set(glob.glob(
      f'{tempfile.gettempdir()}/image_example_gen_sort_*')) == before


def test_run_lines_must_be_positive():
  with pytest.raises(ValueError, match='run_lines must be at least 1'):
    list(external_sort.sorted_lines(['a'], len, run_lines=0))
  with pytest.raises(ValueError, match='max_fan_in at least 2'):
    list(external_sort.sorted_lines(['a'], len, max_fan_in=1))
