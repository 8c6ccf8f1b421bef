"""Where an ingest's time goes: per file and fixed.

Two measurements, on a million_dataset folder:

    python -m benchmarks.million_profile steps --data-dir DATA [--files 20000]
    python -m benchmarks.million_profile prof FILE.prof --files 20000
    python -m benchmarks.million_profile memory --data-dir DATA
    python -m benchmarks.million_profile plan --data-dir DATA [--labels metadata]

`steps` times each step of the ingest of one file directly, on the first
--files files of the dataset in one process, with the package's own functions
(no Beam, no profiler, warm page cache after a first read of every file):
  listing    core.discovery.discover of the whole folder (every file of the
             dataset, divided by their number), then core.plan.plan_files
             (listing + labels) the same
  read       beam/transform.py's _read_bytes (open, fstat, read)
  digest     hashlib.sha256 of the bytes, as the stratify pass and the
             Example's image/sha256 take it (hexdigest)
  quick check  publish.quick_check: the structure walk of the stratify pass
  check      publish.publish_image: the decode check (1/8-scale JPEG decode)
  encode     example_encoder.build_example + SerializeToString
  write      the TFRecord framing with CRC32C (sink.masked_crc32c) and a
             write to a local file
and the fixed costs: importing Beam and the engine, and running an empty
Beam pipeline (Create of one element, Map) on the DirectRunner in-process and
with 2 workers (their start-up).

`prof` reads a cProfile of a whole in-process ingest (million_benchmark
--profile) and gives the cumulative seconds, and us per file, of the same
steps as the profiler saw them, plus Beam's per-element machinery (bundle
processing outside the package's DoFns) and the imports. cProfile slows Python
code (roughly 1.2-2x), so `steps` gives the absolute figures and `prof` the
shares inside Beam.

`memory` measures, with tracemalloc, the Python heap each per-file structure
of an ingest takes, per file, on the whole dataset: the launcher's plan
(core.plan.plan_files: the Discovery's SourceFile per file) with folder labels
and with labels='metadata' (the metadata table and the join), and the records
the Beam pipeline keeps per file on the DirectRunner: the stratify pass's
(class, (sha256 hex, path)) records its GroupByKey holds, the {path: split}
dict of its side input, and the exact-duplicate (sha256 hex, (path, size,
split, class)) records its GroupByKey holds.

`plan` runs the launcher's plan alone (core.plan.plan_files, folder or
metadata labels) in this process and reports its seconds and the process's RSS
before, at its peak (ru_maxrss) and after: what the launcher holds for the
file list before the manifest is written. Run it in a fresh process.
"""

import argparse
import hashlib
import json
import os
import pstats
import struct
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from benchmarks import million_dataset

__all__ = ['main', 'profile_breakdown', 'time_steps']

_US = 1e6

# (step, file path suffix, function name): cumulative time of the function.
_PROFILE_STEPS: List[Tuple[str, str, str]] = [
    ('imports (Beam, the engine)', 'image_example_gen/__init__.py',
     '__getattr__'),
    ('plan: listing + labels (launcher)', 'core/plan.py', 'plan_files'),
    ('  of it, listing', 'core/discovery.py', 'discover'),
    ('manifest staging (launcher)', 'beam/manifest.py', 'stage'),
    ('stratify pass DoFn (read, quick check, digest)', 'beam/transform.py',
     '_DigestFilesDoFn.process'),
    ('encode pass DoFn (read, check, encode)', 'beam/transform.py',
     '_EncodeImagesDoFn.process'),
    ('  read (both passes)', 'beam/transform.py', '_read_bytes'),
    ('  check: probe_image (both passes)', 'core/image_probe/__init__.py',
     'probe_image'),
    ('    of it, the 1/8-scale decode', 'core/image_probe/jpeg.py',
     '_decode_scaled'),
    ('  quick check (stratify pass)', 'core/publish.py', 'quick_check'),
    ('  publish_image (check, orientation, transcode test)',
     'core/publish.py', 'publish_image'),
    ('  encode: build_example', 'core/example_encoder.py', 'build_example'),
    ('  encode: SerializeToString', '~', 'SerializeToString'),
    ('  digest: sha256', '~', 'openssl_sha256'),
    ('  digest: hexdigest', '~', 'hexdigest'),
    ('write: TFRecord framing + CRC', 'beam/sink.py', 'write_encoded_record'),
    ('stratify: assign_stratum', 'core/stratify.py', 'assign_stratum'),
    ('duplicates: duplicate_group', 'beam/transform.py', 'duplicate_group'),
    ('report: build_report', 'core/ingest_report.py', 'build_report'),
    ('artifact files', 'core/artifact.py', 'write_artifact_files'),
    ('Beam: bundles (all per-element work)',
     'runners/worker/bundle_processor.py', 'process_encoded'),
    ('Beam: the whole pipeline run', 'apache_beam/pipeline.py', 'run'),
    ('run_ingest', 'beam/engine.py', 'run_ingest'),
]


def profile_breakdown(prof_path: str, files: int) -> List[Dict[str, object]]:
  """[{step, seconds, us_per_file}] of a cProfile file (see _PROFILE_STEPS)."""
  stats = pstats.Stats(prof_path).stats  # pytype: disable=attribute-error
  rows = []
  for step, path_suffix, name in _PROFILE_STEPS:
    class_name, _, function = name.rpartition('.')
    seconds = 0.0
    for (path, line, function_name), (_, _, _, cumulative, _) in stats.items():
      if not (path.endswith(path_suffix) or path_suffix == '~' == path):
        continue
      if path_suffix == '~':
        if function not in function_name:
          continue
      elif function_name != function:
        continue
      if class_name and not _defined_in_class(path, line, class_name):
        continue
      seconds = max(seconds, cumulative) if path_suffix != '~' else (
          seconds + cumulative)
    rows.append({'step': step, 'seconds': seconds,
                 'us_per_file': seconds / files * _US})
  return rows


def _defined_in_class(path: str, line: int, class_name: str) -> bool:
  """Whether the `def` at path:line is inside `class class_name`."""
  try:
    with open(path, encoding='utf-8') as file:
      lines = file.read().splitlines()[:line]
  except OSError:
    return False
  for text in reversed(lines):
    if text.startswith('class '):
      return text.startswith(f'class {class_name}')
  return False


def _per_file(function: Callable[[int], None], count: int) -> float:
  start = time.perf_counter()
  for index in range(count):
    function(index)
  return (time.perf_counter() - start) / count * _US


def time_steps(data_dir: str, files: int) -> Dict[str, float]:
  """{step: us per file, or seconds for the fixed costs}; see module doc."""
  fixed: Dict[str, float] = {}
  start = time.perf_counter()
  # pylint: disable=g-import-not-at-top
  import apache_beam as beam
  from image_example_gen.beam import engine  # pylint: disable=unused-import
  from image_example_gen.beam import sink
  from image_example_gen.beam import transform
  from image_example_gen.core import discovery
  from image_example_gen.core import example_encoder
  from image_example_gen.core import plan
  from image_example_gen.core import publish
  from image_example_gen.core.config import IngestConfig
  # pylint: enable=g-import-not-at-top
  fixed['import Beam and the engine s'] = time.perf_counter() - start

  root = million_dataset.images_dir(data_dir)
  splits = [discovery.InputSplit('train', '*')]
  start = time.perf_counter()
  found = discovery.discover(root, splits)
  listing_seconds = time.perf_counter() - start
  total = len(found.files)
  start = time.perf_counter()
  planned = plan.plan_files(root, splits, IngestConfig())
  plan_seconds = time.perf_counter() - start
  sources = planned.files[:files]
  del found, planned
  config = IngestConfig()
  max_bytes = config.max_file_bytes
  for source in sources:  # Warm the page cache, as the benchmark runs do.
    transform._read_bytes(source.path, max_bytes)  # pylint: disable=protected-access
  data = [transform._read_bytes(s.path, max_bytes) for s in sources]  # pylint: disable=protected-access
  published = [publish.publish_image(item, config) for item in data]
  records = []

  def encode(index: int) -> None:
    source, item = sources[index], published[index]
    example = example_encoder.build_example(
        item.data, item.info, source.relative_path, label=source.label,
        class_name=source.class_name, source_format=item.source_format,
        original_size=item.original_size)
    records.append(example.SerializeToString(deterministic=True))

  steps = {
      'listing (discover)': listing_seconds / total * _US,
      'plan_files (listing + labels)': plan_seconds / total * _US,
      'read': _per_file(lambda i: transform._read_bytes(  # pylint: disable=protected-access
          sources[i].path, max_bytes), len(sources)),
      'digest (sha256 hexdigest)': _per_file(
          lambda i: hashlib.sha256(data[i]).hexdigest(), len(sources)),
      'quick check (structure)': _per_file(
          lambda i: publish.quick_check(data[i], config), len(sources)),
      'check (publish_image, decode)': _per_file(
          lambda i: publish.publish_image(data[i], config), len(sources)),
      'encode (build_example + serialize)': _per_file(encode, len(sources)),
  }
  with tempfile.TemporaryDirectory() as folder:
    with open(os.path.join(folder, 'records'), 'wb') as out:
      def write(index: int) -> None:
        value = records[index]
        length = struct.pack('<Q', len(value))
        out.write(length + struct.pack('<I', sink.masked_crc32c(length)))
        out.write(value)
        out.write(struct.pack('<I', sink.masked_crc32c(value)))
      steps['write (TFRecord framing, CRC32C, file write)'] = _per_file(
          write, len(records))
  for mode, args in (('in-process', []),
                     ('2 workers', ['--direct_running_mode=multi_processing',
                                    '--direct_num_workers=2'])):
    start = time.perf_counter()
    with beam.Pipeline(argv=args) as pipeline:
      _ = pipeline | beam.Create([1]) | beam.Map(lambda x: x)
    fixed[f'empty Beam pipeline, {mode} s'] = time.perf_counter() - start
  start = time.perf_counter()
  subprocess.run([sys.executable, '-c', 'from tfx import v1'], check=True,
                 env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3'))
  fixed['python -c "from tfx import v1" s (new process)'] = (
      time.perf_counter() - start)
  return {'files_timed': len(sources), 'files_listed': total,
          'us_per_file': steps, 'fixed_seconds': fixed}


def _heap_bytes(build: Callable[[], object]) -> Tuple[object, int, int]:
  """(what build returns, the heap it still holds, the heap's peak while it
  ran) under tracemalloc, above the heap before."""
  import gc  # pylint: disable=g-import-not-at-top
  import tracemalloc  # pylint: disable=g-import-not-at-top
  gc.collect()
  tracemalloc.start()
  before = tracemalloc.get_traced_memory()[0]
  value = build()
  gc.collect()
  after, peak = tracemalloc.get_traced_memory()
  tracemalloc.stop()
  return value, after - before, peak - before


def _fresh(text: str) -> str:
  """A new copy of a str, as a record decoded by a Beam coder holds."""
  return text.encode('utf-8').decode('utf-8')


def memory_per_file(data_dir: str) -> Dict[str, float]:
  """{structure: heap bytes per file}; see the module doc."""
  # pylint: disable=g-import-not-at-top
  from image_example_gen.core import discovery
  from image_example_gen.core import plan
  from image_example_gen.core.config import IngestConfig
  # pylint: enable=g-import-not-at-top
  root = million_dataset.images_dir(data_dir)
  splits = [discovery.InputSplit('train', '*')]
  planned, plan_bytes, plan_peak = _heap_bytes(
      lambda: plan.plan_files(root, splits, IngestConfig()))
  files = len(planned.files)
  _, metadata_bytes, metadata_peak = _heap_bytes(lambda: plan.plan_files(
      root, splits, IngestConfig(
          labels='metadata',
          metadata_file=million_dataset.metadata_path(data_dir))))
  digests = [hashlib.sha256(source.relative_path.encode()).hexdigest()
             for source in planned.files]
  sources = planned.files
  _, stratify_bytes, _ = _heap_bytes(lambda: [
      (_fresh(source.class_key), (_fresh(digest),
                                  _fresh(source.relative_path)))
      for source, digest in zip(sources, digests)])
  _, side_input_bytes, _ = _heap_bytes(lambda: {
      _fresh(source.relative_path): ('train', 'eval')[index % 3 == 2]
      for index, source in enumerate(sources)})
  _, duplicate_bytes, _ = _heap_bytes(lambda: [
      (_fresh(digest), (_fresh(source.relative_path), source.size, 'train',
                        _fresh(source.class_key)))
      for source, digest in zip(sources, digests)])
  return {
      'files': files,
      'plan_files, labels=folder: kept (Discovery)': plan_bytes / files,
      'plan_files, labels=folder: peak': plan_peak / files,
      "plan_files, labels='metadata': kept (Discovery with features)":
          metadata_bytes / files,
      "plan_files, labels='metadata': peak (table + join)":
          metadata_peak / files,
      'stratify GroupByKey records (class, (sha256 hex, path))':
          stratify_bytes / files,
      'stratify side input {path: split}': side_input_bytes / files,
      'exact-duplicate GroupByKey records (sha256 hex, (path, size, split, '
      'class))': duplicate_bytes / files,
  }


def plan_rss(data_dir: str, labels: str) -> Dict[str, float]:
  """Seconds and RSS (MB) of the launcher's plan; see the module doc."""
  # pylint: disable=g-import-not-at-top
  import resource
  import psutil
  from image_example_gen.core import discovery
  from image_example_gen.core import plan
  from image_example_gen.core.config import IngestConfig
  # pylint: enable=g-import-not-at-top
  config = (IngestConfig() if labels == 'folder' else IngestConfig(
      labels='metadata', metadata_file=million_dataset.metadata_path(data_dir)))
  before = psutil.Process().memory_info().rss
  start = time.perf_counter()
  found = plan.plan_files(million_dataset.images_dir(data_dir),
                          [discovery.InputSplit('train', '*')], config)
  seconds = time.perf_counter() - start
  files = len(found.files)
  after = psutil.Process().memory_info().rss
  peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
  return {'files': files, 'labels': labels, 'seconds': seconds,
          'rss_before_mb': before / (1 << 20), 'rss_peak_mb': peak / (1 << 20),
          'rss_after_mb': after / (1 << 20),
          'peak_bytes_per_file': (peak - before) / files}


def main(argv: Optional[Sequence[str]] = None) -> None:
  parser = argparse.ArgumentParser(prog='python -m benchmarks.million_profile')
  commands = parser.add_subparsers(dest='command', required=True)
  steps = commands.add_parser('steps')
  steps.add_argument('--data-dir', required=True)
  steps.add_argument('--files', type=int, default=20_000)
  plan_parser = commands.add_parser('plan')
  plan_parser.add_argument('--data-dir', required=True)
  plan_parser.add_argument('--labels', default='folder',
                           choices=('folder', 'metadata'))
  memory = commands.add_parser('memory')
  memory.add_argument('--data-dir', required=True)
  prof = commands.add_parser('prof')
  prof.add_argument('prof_file')
  prof.add_argument('--files', type=int, required=True)
  args = parser.parse_args(argv)
  if args.command == 'steps':
    result = time_steps(args.data_dir, args.files)
    print(f"{result['files_timed']} files timed, {result['files_listed']} "
          'listed\n\n| step | us per file |\n|---|---|')
    for step, us in result['us_per_file'].items():
      print(f'| {step} | {us:.1f} |')
    print('\n| fixed cost | seconds |\n|---|---|')
    for step, seconds in result['fixed_seconds'].items():
      print(f'| {step} | {seconds:.2f} |')
  elif args.command == 'plan':
    result = plan_rss(args.data_dir, args.labels)
    print(f"plan_files, labels={result['labels']}: {result['files']} files "
          f"in {result['seconds']:.1f} s; RSS {result['rss_before_mb']:.0f} "
          f"MB before, {result['rss_peak_mb']:.0f} MB peak, "
          f"{result['rss_after_mb']:.0f} MB after; "
          f"{result['peak_bytes_per_file']:.0f} B per file at the peak")
  elif args.command == 'memory':
    result = memory_per_file(args.data_dir)
    print(f"{result['files']} files\n\n| structure | heap bytes per file |"
          '\n|---|---|')
    for name, value in result.items():
      if name != 'files':
        print(f'| {name} | {value:.0f} |')
  else:
    result = profile_breakdown(args.prof_file, args.files)
    print('| step (cProfile, cumulative) | seconds | us per file |\n|---|---|---|')
    for row in result:
      print(f"| {row['step']} | {row['seconds']:.2f} | "
            f"{row['us_per_file']:.0f} |")
  print(json.dumps(result))


if __name__ == '__main__':
  main()
