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
  check      publish.publish_image: the decode check (a reduced JPEG decode:
             1/8, or the fingerprint's scale under 121 px)
  fingerprint  near_duplicates.fingerprint_published, reusing that decode
  encode     example_encoder.build_example + SerializeToString
  write      the TFRecord framing with CRC32C (sink.masked_crc32c) and a
             write to a local file
  check and fingerprint again, on each image format's files apart
and the fixed costs: importing Beam and the engine, and running an empty
Beam pipeline (Create of one element, Map) on the DirectRunner in-process and
with 2 workers (their start-up).

`prof` reads a cProfile of a whole in-process ingest (million_benchmark
--profile) and gives the cumulative seconds, and us per file, of the same
steps as the profiler saw them, plus Beam's per-element machinery (bundle
processing outside the package's DoFns) and the imports. cProfile slows Python
code (roughly 1.2-2x), so `steps` gives the absolute figures and `prof` the
shares inside Beam.

`memory` measures, with tracemalloc, the Python heap per file of the
launcher's work before the pipeline (core.plan.plan_files into its store,
then beam.manifest.stage writing the manifest), with folder labels and with
labels='metadata' (the dataset's metadata.csv joined): what it keeps after,
and its peak.

`plan` runs the same (plan and manifest, folder or metadata labels) in this
process and reports its seconds and the process's RSS before, at its peak
(ru_maxrss) and after. Run it in a fresh process.
"""

import argparse
import hashlib
import itertools
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
    ('  of it, listing', 'core/discovery.py', 'list_split'),
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
    ('stratify: sort_keys', 'beam/split_plan.py', 'sort_keys'),
    ('stratify: SplitPlan.split_of', 'beam/split_plan.py',
     'SplitPlan.split_of'),
    ('duplicates: find_copies', 'beam/duplicates.py', 'find_copies'),
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
  return _per_index(function, range(count))


def _per_index(function: Callable[[int], None],
               indices: Sequence[int]) -> float:
  start = time.perf_counter()
  for index in indices:
    function(index)
  return (time.perf_counter() - start) / len(indices) * _US


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
  from image_example_gen.core import near_duplicates
  from image_example_gen.core import publish
  from image_example_gen.core.config import IngestConfig
  # pylint: enable=g-import-not-at-top
  fixed['import Beam and the engine s'] = time.perf_counter() - start

  root = million_dataset.images_dir(data_dir)
  splits = [discovery.InputSplit('train', '*')]
  start = time.perf_counter()
  total = sum(1 for _ in discovery.list_split(root, splits[0], set()))
  listing_seconds = time.perf_counter() - start
  start = time.perf_counter()
  with plan.plan_files(root, splits, IngestConfig()) as planned:
    planned_files = planned.files()
    plan_seconds = time.perf_counter() - start
    sources = list(itertools.islice(planned_files, files))
  sources.sort(key=lambda source: source.relative_path)
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
      'listing (list_split)': listing_seconds / total * _US,
      'plan_files (listing + labels into the store)':
          plan_seconds / total * _US,
      'read': _per_file(lambda i: transform._read_bytes(  # pylint: disable=protected-access
          sources[i].path, max_bytes), len(sources)),
      'digest (sha256 hexdigest)': _per_file(
          lambda i: hashlib.sha256(data[i]).hexdigest(), len(sources)),
      'quick check (structure)': _per_file(
          lambda i: publish.quick_check(data[i], config), len(sources)),
      'check (publish_image, decode)': _per_file(
          lambda i: publish.publish_image(data[i], config), len(sources)),
      'fingerprint (near duplicates, from the check\'s decode)': _per_file(
          lambda i: near_duplicates.fingerprint_published(
              published[i].data, published[i].info.preview,
              (published[i].info.width, published[i].info.height),
              published[i].info.preview_scale),
          len(sources)),
      'encode (build_example + serialize)': _per_file(encode, len(sources)),
  }
  # The check and the fingerprint of each format apart: a PNG is decoded in
  # full for its fingerprint, a JPEG's comes from the check's reduced decode.
  by_format: Dict[str, List[int]] = {}
  for index, item in enumerate(published):
    by_format.setdefault(item.info.format, []).append(index)
  for image_format, indices in sorted(by_format.items()):
    share = f'{image_format}, {len(indices) / len(sources):.0%} of the files'
    steps[f'  check of a {share}'] = _per_index(
        lambda i: publish.publish_image(data[i], config), indices)
    steps[f'  fingerprint of a {share}'] = _per_index(
        lambda i: near_duplicates.fingerprint_published(
            published[i].data, published[i].info.preview,
            (published[i].info.width, published[i].info.height),
            published[i].info.preview_scale), indices)
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


def _config(data_dir: str, labels: str):
  from image_example_gen.core.config import IngestConfig  # pylint: disable=g-import-not-at-top
  if labels == 'folder':
    return IngestConfig()
  return IngestConfig(labels='metadata',
                      metadata_file=os.path.abspath(
                          million_dataset.metadata_path(data_dir)))


def _plan_and_stage(data_dir: str, labels: str) -> int:
  """Runs the launcher's plan and writes the manifest (to a temporary
  folder), as an ingest does before its pipeline (beam.manifest.
  plan_and_stage: the heap freed after it goes back to the OS); returns the
  files."""
  # pylint: disable=g-import-not-at-top
  from image_example_gen.beam import manifest
  from image_example_gen.core import discovery
  # pylint: enable=g-import-not-at-top
  with tempfile.TemporaryDirectory() as staging:
    return manifest.plan_and_stage(
        million_dataset.images_dir(data_dir),
        [discovery.InputSplit('train', '*')], _config(data_dir, labels), None,
        staging).total_files


def memory_per_file(data_dir: str) -> Dict[str, float]:
  """{what: Python heap bytes per file} of the launcher's plan and manifest,
  with folder labels and with labels='metadata'; see the module doc."""
  result: Dict[str, float] = {}
  for labels in ('folder', 'metadata'):
    files, kept, peak = _heap_bytes(lambda: _plan_and_stage(data_dir, labels))  # pylint: disable=cell-var-from-loop
    result['files'] = files
    result[f'plan + manifest, labels={labels}: kept'] = kept / files
    result[f'plan + manifest, labels={labels}: peak'] = peak / files
  return result


def plan_rss(data_dir: str, labels: str) -> Dict[str, float]:
  """Seconds and RSS (MB) of the launcher's plan and manifest; see the
  module doc."""
  # pylint: disable=g-import-not-at-top,unused-import
  import resource
  import psutil
  # Imported before `before`, so that the RSS counts the plan, not imports.
  from image_example_gen.beam import manifest
  # pylint: enable=g-import-not-at-top,unused-import
  before = psutil.Process().memory_info().rss
  start = time.perf_counter()
  files = _plan_and_stage(data_dir, labels)
  seconds = time.perf_counter() - start
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
    print(f"plan + manifest, labels={result['labels']}: {result['files']} files "
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
