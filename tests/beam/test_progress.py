"""Progress: workers' reports, the launcher's sums, and a real ingest."""

import logging
import os

import pytest

from image_example_gen import IngestConfig
from image_example_gen.beam import progress
from ingest_runner import ingest_folder
import image_factory


def test_monitor_sums_every_worker_report(tmp_path):
  manifest = str(tmp_path / 'files.jsonl')
  first, second = progress.ProgressReporter(), progress.ProgressReporter()
  first.add(manifest, files=10, size=1000, skipped=1)
  second.add(manifest, files=5, size=500, skipped=0)
  second.add(manifest, files=5, size=700, skipped=2)  # Not written yet ...
  second.flush()  # ... until flushed.

  monitor = progress.ProgressMonitor(progress.progress_dir(manifest), 40, 4400)
  snapshot = monitor.snapshot()

  assert (snapshot.files, snapshot.bytes, snapshot.skipped) == (20, 2200, 3)
  assert (snapshot.total_files, snapshot.total_bytes) == (40, 4400)
  assert len(os.listdir(progress.progress_dir(manifest))) == 2


def test_monitor_before_any_report():
  snapshot = progress.ProgressMonitor('/nonexistent/progress', 7, 70).snapshot()
  assert (snapshot.files, snapshot.bytes, snapshot.skipped) == (0, 0, 0)
  assert snapshot.seconds_left is None
  assert 'time left unknown' in snapshot.line()


def test_snapshot_rates_and_time_left():
  snapshot = progress.Snapshot(files=300, total_files=1200,
                               bytes=30 << 20, total_bytes=120 << 20,
                               skipped=20, elapsed_s=10.0)
  assert snapshot.mb_per_s == pytest.approx(3.0)
  assert snapshot.images_per_s == pytest.approx(28.0)
  assert snapshot.seconds_left == pytest.approx(30.0)
  assert snapshot.line() == (
      'Ingest progress: 300 of 1,200 files (25%), 3.0 MB/s, 28 images/s, '
      '20 skipped, about 30 s left')


def test_first_pass_is_shown_until_the_encoding_starts(tmp_path):
  manifest = str(tmp_path / 'files.jsonl')
  first_pass = progress.ProgressReporter(progress.FIRST_PASS)
  first_pass.add(manifest, files=30, size=3 << 20, skipped=0)
  first_pass.flush()
  monitor = progress.ProgressMonitor(progress.progress_dir(manifest), 40,
                                     4 << 20)

  snapshot = monitor.snapshot()
  assert (snapshot.phase, snapshot.files) == (progress.FIRST_PASS, 30)
  assert snapshot.line().startswith(
      'Split first pass (reading every file to balance the splits): 30 of 40 '
      'files (75%)')
  assert 'in this pass, then the encoding' in snapshot.line()

  encoding = progress.ProgressReporter()
  encoding.add(manifest, files=4, size=1 << 20, skipped=1)
  encoding.flush()
  snapshot = monitor.snapshot()
  # The encoding's own counts, and its time since it started, not since the
  # first pass did.
  assert (snapshot.phase, snapshot.files, snapshot.skipped) == (
      progress.ENCODING, 4, 1)
  assert snapshot.line().startswith('Ingest progress: 4 of 40 files (10%)')
  assert snapshot.elapsed_s < 5


def test_first_pass_time_counts_from_its_workers_start(tmp_path,
                                                       monkeypatch):
  manifest = str(tmp_path / 'files.jsonl')
  clock = [1000.0]
  monkeypatch.setattr(progress.time, 'time', lambda: clock[0])
  reporter = progress.ProgressReporter(progress.FIRST_PASS)
  clock[0] += 100.0  # Set up, waiting for its first batch: not counted.
  reporter.begin_batch()
  clock[0] += 20.0  # 20 s to read a quarter of the bytes.
  reporter.begin_batch()
  reporter.add(manifest, files=10, size=1 << 20, skipped=0)
  reporter.flush()
  snapshot = progress.ProgressMonitor(progress.progress_dir(manifest), 40,
                                      4 << 20).snapshot()
  assert snapshot.elapsed_s == pytest.approx(20.0)
  assert snapshot.seconds_left == pytest.approx(60.0)


def test_rates_count_to_the_last_report_not_to_now(tmp_path, monkeypatch):
  manifest = str(tmp_path / 'files.jsonl')
  clock = [1000.0]
  monkeypatch.setattr(progress.time, 'time', lambda: clock[0])
  reporter = progress.ProgressReporter(progress.FIRST_PASS)
  reporter.begin_batch()
  clock[0] += 0.1  # One batch of 100 files, a tenth of the bytes, in 0.1 s.
  reporter.add(manifest, files=100, size=1 << 20, skipped=0)
  clock[0] += 0.3  # Read by the launcher 0.3 s later.
  snapshot = progress.ProgressMonitor(progress.progress_dir(manifest), 1000,
                                      10 << 20).snapshot()
  assert snapshot.elapsed_s == pytest.approx(0.4)
  assert snapshot.images_per_s == pytest.approx(1000.0)
  assert snapshot.mb_per_s == pytest.approx(10.0)
  # 0.9 s at that rate from the report, 0.3 s of which have passed.
  assert snapshot.seconds_left == pytest.approx(0.6)


@pytest.mark.parametrize('beam_args', [
    None,
    ['--direct_running_mode=multi_processing', '--direct_num_workers=2'],
], ids=['in_process', 'two_workers'])
@pytest.mark.slow
def test_ingest_reports_all_its_files(make_tree, tmp_path, caplog, beam_args):
  files = {f'c{i % 3}/{i}.jpg': image_factory.jpeg(size=(20 + i, 16))
           for i in range(30)}
  files.update({'c0/bad.jpg': b'not an image', 'c1/cut.png':
                image_factory.png()[:60]})
  snapshots = []
  progress_callback = snapshots.append
  caplog.set_level(logging.INFO, logger=progress.__name__)

  ingest_folder(make_tree(files), str(tmp_path / 'out'), IngestConfig(),
               beam_pipeline_args=beam_args,
               progress_callback=progress_callback)

  last = snapshots[-1]
  assert (last.files, last.total_files) == (32, 32)
  assert last.skipped == 2
  assert last.bytes == last.total_bytes == sum(map(len, files.values()))
  assert 'Ingest progress: 32 of 32 files (100%)' in caplog.text
