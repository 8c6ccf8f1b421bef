"""ImageExampleGen on real Flink and Spark clusters equals the DirectRunner.

For each engine (`cluster` fixture: 1 coordinator, 2 workers, Beam's job
server, an SDK worker pool whose workers run the package from its wheel in a
venv of their own), on a mixed folder of good and bad files:

- `image-example-gen ingest` writes the same Examples per split (every
  feature of every record), the same report and the same labels.txt as on the
  DirectRunner, and at least two SDK worker processes encoded images (the
  `worker` field, host:pid, of the workers' progress files under
  <--temp_location>/image_example_gen-*/progress/);
- the sample pipeline (`python -m pipelines.image_pipeline`: ImageExampleGen,
  StatisticsGen, SchemaGen, ExampleValidator) exits 0 and prints the same
  summary as on the DirectRunner.
"""

import collections
import glob
import gzip
import hashlib
import json
import os
import struct
from typing import Counter, Dict, List, Tuple

import pytest

from engine_runs import read_json
from engine_runs import run_ingest
from engine_runs import run_sample_pipeline
from image_example_gen.core import artifact

pytestmark = pytest.mark.engines

REPORT = artifact.REPORT_FILE_NAME
LABELS = artifact.LABELS_FILE_NAME
# The sample pipeline's summary, up to its artifact paths (which differ).
SUMMARY_START = '=== ImageExampleGen summary ==='
SUMMARY_END = 'Artifacts:'


def tfrecords(path: str):
  """The records of one TFRecord file (gzip by its `.gz` name)."""
  opener = gzip.open if path.endswith('.gz') else open
  with opener(path, 'rb') as file:
    data = file.read()
  offset = 0
  while offset < len(data):
    (length,) = struct.unpack('<Q', data[offset:offset + 8])
    offset += 12  # length, its masked crc32c
    yield data[offset:offset + length]
    offset += length + 4  # data, its masked crc32c


def canonical_example(serialized: bytes) -> Tuple:
  """Every feature of an Example, order-free; image bytes by their sha256."""
  from tensorflow.core.example import example_pb2  # pylint: disable=g-import-not-at-top
  example = example_pb2.Example.FromString(serialized)
  features = []
  for key, feature in sorted(example.features.feature.items()):
    kind = feature.WhichOneof('kind')
    values = tuple(getattr(feature, kind).value) if kind else ()
    if key == 'image/encoded':
      values = tuple(hashlib.sha256(value).hexdigest() for value in values)
    features.append((key, kind, values))
  return tuple(features)


def examples_per_split(out: str) -> Dict[str, Counter]:
  """{split: multiset of canonical Examples} of an ingest's output folder."""
  splits = {}
  for split in artifact.split_names_on_disk(out):
    examples = collections.Counter()
    for path in sorted(glob.glob(os.path.join(artifact.split_dir(out, split),
                                              '*'))):
      examples.update(canonical_example(record) for record in tfrecords(path))
    splits[split] = examples
  return splits


def _order_free(value):
  """The report with its lists sorted: workers may emit rows in any order."""
  if isinstance(value, dict):
    return {key: _order_free(item) for key, item in value.items()}
  if isinstance(value, list):
    return sorted((_order_free(item) for item in value),
                  key=lambda item: json.dumps(item, sort_keys=True))
  return value


def progress_workers(temp: str) -> Dict[str, int]:
  """{worker (host:pid): files it reported} from the progress files."""
  workers = collections.Counter()
  for path in glob.glob(os.path.join(temp, 'image_example_gen-*', 'progress',
                                     '*.json')):
    progress = read_json(path)
    assert 'worker' in progress, f'{path} has no "worker" field: {progress}'
    workers[progress['worker']] += progress.get('files', 0)
  return dict(workers)


def summary(stdout: str) -> List[str]:
  lines = stdout.splitlines()
  assert SUMMARY_START in lines, stdout[-3000:]
  start = lines.index(SUMMARY_START)
  end = lines.index(SUMMARY_END, start) if SUMMARY_END in lines[start:] else (
      len(lines))
  return lines[start:end]


def test_ingest_matches_direct_runner(cluster, mixed_folder, direct_ingest,
                                      tmp_path):
  direct_out, _ = direct_ingest
  out, temp = str(tmp_path / 'out'), str(tmp_path / 'temp')

  result = run_ingest(mixed_folder, out, temp, cluster.beam_args)
  print(f'{cluster.engine}: ingest in {result.seconds:.0f} s')

  expected = examples_per_split(direct_out)
  actual = examples_per_split(out)
  assert sorted(actual) == sorted(expected)
  for split, examples in expected.items():
    assert sum(examples.values()) > 0, split
    missing = examples - actual[split]
    extra = actual[split] - examples
    assert not missing and not extra, (
        f'split {split}: {sum(missing.values())} Example(s) only on the '
        f'DirectRunner, {sum(extra.values())} only on {cluster.engine}')

  direct_report = read_json(os.path.join(direct_out, REPORT))
  report = read_json(os.path.join(out, REPORT))
  assert _order_free(report) == _order_free(direct_report)
  assert report['total_skipped'] >= 2  # The mixed folder's bad files.

  with open(os.path.join(direct_out, LABELS), 'rb') as file:
    direct_labels = file.read()
  with open(os.path.join(out, LABELS), 'rb') as file:
    assert file.read() == direct_labels

  workers = progress_workers(temp)
  assert len(workers) >= 2, (
      f'one SDK worker process did all the work on {cluster.engine}: '
      f'{workers}')
  assert all(files > 0 for files in workers.values()), workers


def test_sample_pipeline_matches_direct_runner(cluster, mixed_folder,
                                               direct_pipeline, tmp_path):
  result = run_sample_pipeline(mixed_folder, str(tmp_path), cluster.beam_args)
  print(f'{cluster.engine}: sample pipeline in {result.seconds:.0f} s')
  assert summary(result.stdout) == summary(direct_pipeline)
