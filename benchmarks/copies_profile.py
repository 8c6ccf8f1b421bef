"""The memory of the copies report alone, at the benchmark's scale, in seconds.

    python -m benchmarks.copies_profile --files 100000 1000000
    python -m benchmarks.copies_profile --files 100000 1000000 --step find_copies

The end of an ingest (beam.duplicates.ReportCopies: the image index, the
near-duplicate grouping, reading the copies' records back, the group
summaries) is where a million-file run's memory rose above its steady
level (docs/scale.md). A whole run takes 15-20 minutes; this runs the same
transform, on the in-process DirectRunner, fed with what the encoding pass
would give it for the million_dataset benchmark's files: their paths, a
distinct content key per file, and their real fingerprints (each file's
pixels are those of one crop of the dataset's library, so the fingerprints
of the 65,536 crops, computed once from the dataset's files and cached in
bench_data/, give every file's). Batches of 100 entries, as the ingest's.

Each size runs in a fresh child process, which reports its RSS after the
imports, before the run and at its peak (ru_maxrss); a thread samples RSS
every 50 ms to say when the peak came (which share of the run's seconds).

`--step find_copies` measures the one step that holds per-image arrays,
`duplicates.copy_index` (the index read, the exact duplicates, the
near-duplicate grouping), outside Beam: the child writes the index file the
encoding would write, then samples RSS every 3 ms around that call and
reports its peak above the RSS just before it.
"""

import argparse
import glob
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, Optional, Sequence

import numpy as np

from benchmarks import measure
from benchmarks import million_dataset

_BATCH = 100
_CACHE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), 'bench_data', 'crop-fingerprints-{}.npy')


def crop_fingerprints(data_dir: str,
                      library_size: int = million_dataset.DEFAULT_LIBRARY
                      ) -> np.ndarray:
  """The fingerprint (uint64) of each crop of the library, from the dataset's
  first `library_size` files (crop_of is a permutation of them); cached."""
  from image_example_gen.core import near_duplicates  # pylint: disable=g-import-not-at-top
  cache = _CACHE.format(library_size)
  if os.path.exists(cache):
    return np.load(cache)
  table = np.zeros(library_size, dtype=np.uint64)
  for index in range(library_size):
    with open(os.path.join(data_dir, million_dataset.file_name(index)),
              'rb') as file:
      table[million_dataset.crop_of(index, library_size)] = (
          near_duplicates.fingerprint(file.read()))
  np.save(cache, table)
  return table


def _batch(batch: int, files: int, table: np.ndarray):
  """What the encoding pass emits for files [100 * batch, ...): the index
  entries and the record lines, tagged as transform.py tags them."""
  import apache_beam as beam  # pylint: disable=g-import-not-at-top
  from image_example_gen.beam import duplicates  # pylint: disable=g-import-not-at-top
  entries, lines = [], []
  for index in range(batch * _BATCH, min((batch + 1) * _BATCH, files)):
    path = million_dataset.relative_path(index)
    sha256 = hashlib.sha256(b'img %d' % index).hexdigest()
    fingerprint = int(table[million_dataset.crop_of(index, len(table))])
    entries.append(duplicates.index_entry(path, sha256, fingerprint))
    lines.append(duplicates.record_line(
        path, sha256, 2700, 'train', million_dataset.class_name(index)))
  yield beam.pvalue.TaggedOutput('index', duplicates.index_line(entries))
  yield beam.pvalue.TaggedOutput('records', '\n'.join(lines))


def _count_lines(prefix: str) -> int:
  total = 0
  for name in glob.glob(prefix + '*'):
    with open(name, encoding='utf-8') as file:
      total += sum(1 for _ in file)
  return total


def run_one(files: int, table_path: str) -> Dict[str, float]:
  """Runs ReportCopies over `files` synthetic entries in this process."""
  # pylint: disable=g-import-not-at-top
  import apache_beam as beam
  from apache_beam.options.pipeline_options import PipelineOptions
  from image_example_gen.beam import duplicates
  from image_example_gen.core import near_duplicates
  # pylint: enable=g-import-not-at-top
  table = np.load(table_path)
  after_imports = measure.own_rss_mb()
  samples = []
  done = threading.Event()

  def sample():
    while not done.is_set():
      samples.append((time.perf_counter(), measure.own_rss_mb()))
      time.sleep(0.05)

  with tempfile.TemporaryDirectory() as staging:
    start = time.perf_counter()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with beam.Pipeline(options=PipelineOptions(runner='DirectRunner')) as p:
      made = (p | beam.Create(range(-(-files // _BATCH)))
              | beam.FlatMap(_batch, files, table).with_outputs(
                  'index', 'records'))
      exact, near = (made['index'], made['records']) | duplicates.ReportCopies(
          os.path.join(staging, 'records'),
          near_duplicates.DEFAULT_THRESHOLD)
      for name, lines in (('exact', exact), ('near', near)):
        _ = lines | f'Write{name}' >> beam.io.WriteToText(
            os.path.join(staging, name))
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    counts = {name: _count_lines(os.path.join(staging, name))
              for name in ('exact', 'near')}
  peak_at = max(samples, key=lambda sample: sample[1])[0] - start
  return {
      'files': files, 'seconds': seconds,
      'rss_after_imports_mb': after_imports,
      'rss_peak_mb': resource.getrusage(
          resource.RUSAGE_SELF).ru_maxrss / 1024,
      'rss_half_way_mb': min(samples, key=lambda sample: abs(
          sample[0] - start - seconds / 2))[1],
      'peak_at_share': peak_at / seconds,
      'exact_groups': counts['exact'],
      'near_groups': counts['near'],
  }


def find_copies_one(files: int, table_path: str) -> Dict[str, float]:
  """Runs duplicates.copy_index over the index of `files` synthetic entries
  in this process, sampling RSS every 3 ms."""
  from image_example_gen.beam import duplicates  # pylint: disable=g-import-not-at-top
  from image_example_gen.core import near_duplicates  # pylint: disable=g-import-not-at-top
  table = np.load(table_path)
  with tempfile.TemporaryDirectory() as staging:
    index_path = os.path.join(staging, 'records-index.b64')
    with open(index_path, 'w', encoding='ascii') as file:
      for batch in range(-(-files // _BATCH)):
        for output in _batch(batch, files, table):
          if output.tag == 'index':
            file.write(output.value + '\n')
    with measure.PeakRss() as rss:
      start = time.perf_counter()
      found = duplicates.copy_index([index_path],
                                    near_duplicates.DEFAULT_THRESHOLD)
      seconds = time.perf_counter() - start
  return {'files': files, 'seconds': seconds, 'rss_before_mb': rss.before,
          'rss_peak_mb': rss.peak, 'grouped_images': len(found.groups)}


def main(argv: Optional[Sequence[str]] = None) -> None:
  parser = argparse.ArgumentParser(prog='python -m benchmarks.copies_profile')
  parser.add_argument('--files', type=int, nargs='+',
                      default=[100_000, 1_000_000])
  parser.add_argument('--data-dir', default=million_dataset.default_data_dir(
      100_000), help='a million_dataset folder of >= 65,536 files, for the '
      'crops\' fingerprints (made the first time)')
  parser.add_argument('--step', choices=['report', 'find_copies'],
                      default='report', help='the whole copies report '
                      '(ReportCopies, on the DirectRunner), or its '
                      'find_copies step alone')
  parser.add_argument('--child', type=int, help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  table_path = _CACHE.format(million_dataset.DEFAULT_LIBRARY)
  if args.child:
    run = run_one if args.step == 'report' else find_copies_one
    print(json.dumps(run(args.child, table_path)))
    return
  crop_fingerprints(args.data_dir)
  for files in args.files:
    output = subprocess.run(
        [sys.executable, '-m', 'benchmarks.copies_profile', '--step',
         args.step, '--child', str(files)], check=True, capture_output=True,
        text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    if args.step == 'find_copies':
      print(f"{result['files']:>9,} files: find_copies "
            f"{result['seconds']:5.1f} s, RSS before "
            f"{result['rss_before_mb']:.0f} MB, peak "
            f"{result['rss_peak_mb']:.0f} MB (+"
            f"{result['rss_peak_mb'] - result['rss_before_mb']:.0f}); "
            f"{result['grouped_images']:,} images in near-duplicate groups",
            flush=True)
      continue
    print(f"{result['files']:>9,} files: {result['seconds']:6.1f} s, RSS "
          f"after imports {result['rss_after_imports_mb']:.0f} MB, half way "
          f"{result['rss_half_way_mb']:.0f} MB, peak "
          f"{result['rss_peak_mb']:.0f} MB at {result['peak_at_share']:.0%} "
          f"of the run; {result['exact_groups']} exact, "
          f"{result['near_groups']} near-duplicate groups", flush=True)


if __name__ == '__main__':
  main()
