"""Tests of the listing's own progress lines (core/discovery.py).

A listing logs progress only once it has run for one interval, so each test
lists a folder of a few hundred (empty) files with a clock that advances a
fixed step per reading, or with the real clock and the default interval.
"""

import logging
import re

import pytest

from image_example_gen.core import discovery
from image_example_gen.core.discovery import InputSplit

_FILES = 300
_LOGGER_NAME = discovery.__name__


@pytest.fixture(name='folder')
def folder_fixture(tmp_path):
  """tmp_path/images/<class_0..2>/<100 files each>."""
  root = tmp_path / 'images'
  for index in range(_FILES):
    path = root / f'class_{index % 3}' / f'img_{index:04d}.jpg'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'')
  return str(root)


class _SteppingClock:
  """time.monotonic stand-in: each reading is `step` seconds after the last."""

  def __init__(self, step: float):
    self.now = 1000.0
    self.step = step

  def __call__(self) -> float:
    self.now += self.step
    return self.now


def _progress_lines(caplog):
  return [record.getMessage() for record in caplog.records
          if record.name == _LOGGER_NAME]


def _counts(lines):
  return [int(re.search(r': (\d+) files so far', line).group(1))
          for line in lines if 'so far' in line]


def test_small_folder_logs_nothing_with_the_default_interval(folder, caplog):
  caplog.set_level(logging.INFO, logger=_LOGGER_NAME)
  found = list(discovery.list_split(folder, InputSplit('train', '*'), set()))
  assert len(found) == _FILES
  discovery.fingerprint(folder, 'train', '*')
  assert _progress_lines(caplog) == []


def test_long_listing_logs_files_so_far_and_rate(folder, caplog, monkeypatch):
  # One clock reading per entry (files and the 3 class folders), 1 s apart:
  # with a 50 s interval, a line about every 50 entries.
  monkeypatch.setattr(discovery.time, 'monotonic', _SteppingClock(1.0))
  caplog.set_level(logging.INFO, logger=_LOGGER_NAME)
  found = list(discovery.list_split(folder, InputSplit('train', '*'), set(),
                                    progress_interval_s=50))
  assert len(found) == _FILES
  lines = _progress_lines(caplog)
  counts = _counts(lines)
  assert len(counts) == 6  # 303 entries, 303 s: at 50, 100, ..., 300 s.
  assert counts == sorted(counts) and 0 < counts[0] < counts[-1] < _FILES
  assert all(re.search(r'in \d+ s \(\d+ files/s\)', line)
             for line in lines[:-1])
  assert "split 'train' under " + folder in lines[0]
  assert lines[-1].startswith(f"Listed split 'train' under {folder}: "
                              f'{_FILES} files in ')


def test_rate_is_files_over_elapsed_seconds(folder, caplog, monkeypatch):
  monkeypatch.setattr(discovery.time, 'monotonic', _SteppingClock(0.5))
  caplog.set_level(logging.INFO, logger=_LOGGER_NAME)
  list(discovery.list_split(folder, InputSplit('train', '*'), set(),
                            progress_interval_s=100))
  first = _progress_lines(caplog)[0]
  files, seconds, rate = map(int, re.search(
      r': (\d+) files so far in (\d+) s \((\d+) files/s\)', first).groups())
  assert seconds == 100
  assert rate == round(files / seconds)


def test_fingerprint_listing_logs_progress_too(folder, caplog, monkeypatch):
  monkeypatch.setattr(discovery.time, 'monotonic', _SteppingClock(1.0))
  caplog.set_level(logging.INFO, logger=_LOGGER_NAME)
  quiet = discovery.fingerprint(folder, 'train', '*', progress_interval_s=1e9)
  assert _progress_lines(caplog) == []
  logged = discovery.fingerprint(folder, 'train', '*', progress_interval_s=50)
  assert logged == quiet  # Progress changes nothing of the result.
  lines = _progress_lines(caplog)
  assert _counts(lines) and '(fingerprint)' in lines[0]
  assert f': {_FILES} files in ' in lines[-1]


def test_progress_with_the_real_clock(folder, caplog):
  # A zero interval: a line for every entry, with the real clock.
  caplog.set_level(logging.INFO, logger=_LOGGER_NAME)
  list(discovery.list_split(folder, InputSplit('train', '*'), set(),
                            progress_interval_s=0))
  counts = _counts(_progress_lines(caplog))
  assert counts[-1] == _FILES and counts == sorted(counts)
