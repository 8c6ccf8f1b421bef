"""Benchmark: ways of turning a folder of images into a TFX Examples artifact.

Run from the repository root:

    python -m benchmarks.ingest_benchmark                  # 20,000 images
    python -m benchmarks.ingest_benchmark --images 600     # a quick check
    python -m benchmarks.ingest_benchmark --ways two_step image_example_gen
    python -m benchmarks.ingest_benchmark --scale-check    # also at 3x images

The dataset (see benchmarks/dataset.py: crops of scikit-learn's two photos,
~85% JPEG and ~15% PNG, ~31 KB each, 10 class folders) is generated once under
--data-dir (default /tmp/image_example_gen_bench/data-<N>) and reused.

The ways, each a TFX pipeline run by LocalDagRunner (SQLite metadata, a fresh
pipeline root) on Beam's DirectRunner with `--direct_running_mode=
multi_processing --direct_num_workers=<--workers>`, and default output splits
(hash buckets train:eval 2:1):

  two_step                 a plain Python loop writes every image as a
                           tf.train.Example to one gzip TFRecord file with
                           tf.io.TFRecordWriter, then ImportExampleGen ingests
                           that file; timed together, split reported.
  obvious_executor         FileBasedExampleGen with the custom executor a user
                           would write (benchmarks/obvious_executor.py): glob,
                           Create, Map to Example; TFX's Do writes the splits
                           (WriteSplit: Reshuffle, then gzip TFRecords).
  image_example_gen        ImageExampleGen, default options: validation='decode'
                           (the decode guarantee), compression='none'.
  image_example_gen_structure
                           ImageExampleGen(validation='structure'): the
                           opt-out, container walk only.
  image_example_gen_gzip   ImageExampleGen(compression='gzip').
  image_example_gen_structure_gzip
                           ImageExampleGen(validation='structure',
                           compression='gzip'): the defaults before the
                           decode guarantee, for comparison.

Each way runs in a fresh child process (benchmarks/run_way.py), so memory is
isolated. Measured per way:
  seconds      the work timed inside the child: LocalDagRunner.run (plus the
               packing loop for two_step); images/s and MB/s use it
  process s    the child process from start to exit (imports included)
  peak RSS     the largest sum of the RSS of the child and all its descendants
               (the Beam workers), sampled every 50 ms
  largest process MB  the peak RSS of the largest single process of the tree
               (what `/usr/bin/time` or getrusage report for a process tree)
  CPU s        user+system CPU of the child and its descendants during the work
  output MB    size of the Split-* files; their records are counted with
               tf.data after the child exits and checked against the images
The floor is one core gzip -6 compressing the concatenated image files (what
TFX's gzip output costs at least), and half of it for two ideal cores. MB are
2^20 bytes.

It prints a markdown table and writes all results as JSON to --output (default
/tmp/image_example_gen_bench/results-<N>.json). With --scale-check it also runs
image_example_gen on 3N images and compares its peak RSS with the run at N
(target: a ratio of at most 1.15). Child logs go to
/tmp/image_example_gen_bench/logs/.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Optional, Sequence

from benchmarks import dataset
from benchmarks import measure
from benchmarks import ways

_BENCH_ROOT = '/tmp/image_example_gen_bench'
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MB = 1 << 20
_BASELINE_WAY = 'two_step'
_SCALE_WAY = 'image_example_gen'
_SCALE_FACTOR = 3
_SCALE_RSS_TARGET = 1.15

Result = Dict[str, Any]


def _default_data_dir(num_images: int) -> str:
  return os.path.join(_BENCH_ROOT, f'data-{num_images}')


def _code_version() -> str:
  """HEAD's commit, '-dirty' when image_example_gen has uncommitted changes."""
  def git(*args: str) -> str:
    return subprocess.run(['git', '-C', _REPO_ROOT, *args], check=True,
                          capture_output=True, text=True).stdout.strip()
  dirty = git('status', '--porcelain', '--', 'image_example_gen')
  return git('rev-parse', '--short', 'HEAD') + ('-dirty' if dirty else '')


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      prog='python -m benchmarks.ingest_benchmark',
      description='Compare ways of ingesting an image folder into TFX.')
  parser.add_argument('--images', type=int, default=20_000,
                      help='Number of images N (default 20000).')
  parser.add_argument('--ways', nargs='+', choices=list(ways.WAYS),
                      default=list(ways.WAYS), help='Ways to run, in order.')
  parser.add_argument('--data-dir',
                      help=f'Dataset folder (default {_BENCH_ROOT}/data-<N>).')
  parser.add_argument('--workers', type=int, default=2,
                      help='Beam --direct_num_workers (default 2).')
  parser.add_argument('--scale-check', action='store_true',
                      help=f'Also run {_SCALE_WAY} on {_SCALE_FACTOR}x images '
                      'and compare peak RSS.')
  parser.add_argument('--output',
                      help='JSON results file (default '
                      f'{_BENCH_ROOT}/results-<N>.json).')
  return parser.parse_args(argv)


def _prepare_dataset(data_dir: str, num_images: int) -> Dict[str, Any]:
  """Generates or reuses a dataset; prints and returns its size."""
  marker, paths = dataset.prepare(data_dir, num_images)
  input_bytes = measure.read_all(paths)  # Also warms the page cache.
  if input_bytes != marker['bytes']:
    raise RuntimeError(f'{data_dir} holds {input_bytes} bytes, not '
                       f"{marker['bytes']}; delete it to regenerate.")
  print(f'  {input_bytes / _MB:.1f} MB on disk, '
        f'{input_bytes / num_images / 1024:.1f} KB per image on average',
        flush=True)
  return {'data_dir': data_dir, 'images': num_images,
          'input_bytes': input_bytes, 'paths': paths}


def _measure_floor(data: Dict[str, Any]) -> Dict[str, float]:
  print('Floor: gzip -6 of the concatenated images on one core ...',
        flush=True)
  floor = measure.gzip_seconds(data['paths'])
  floor['two_core_seconds'] = floor['seconds'] / 2
  print(f"  {floor['seconds']:.1f} s on one core, "
        f"{floor['two_core_seconds']:.1f} s ideal on two; "
        f"{data['input_bytes'] / _MB:.1f} MB -> "
        f"{floor['gzip_bytes'] / _MB:.1f} MB", flush=True)
  return floor


def _run_child(way_name: str, data: Dict[str, Any], work_dir: str,
               workers: int) -> Result:
  """Runs one way in a child process; returns its timings and peak RSS."""
  log_path = os.path.join(_BENCH_ROOT, 'logs',
                          f"{way_name}-{data['images']}.log")
  result_path = os.path.join(work_dir, 'result.json')
  command = [
      sys.executable, '-m', 'benchmarks.run_way', '--way', way_name,
      '--input-base', dataset.images_dir(data['data_dir']),
      '--work-dir', work_dir, '--workers', str(workers),
      '--result', result_path
  ]
  # Beam's worker processes import benchmarks.obvious_executor.
  python_path = os.pathsep.join(
      filter(None, [_REPO_ROOT, os.environ.get('PYTHONPATH')]))
  env = dict(os.environ, PYTHONPATH=python_path, TF_CPP_MIN_LOG_LEVEL='2')
  run = measure.run_sampled(command, log_path, _REPO_ROOT, env)
  return {'way': way_name, 'images': data['images'],
          **measure.child_result(run, log_path, result_path)}


def _check_outputs(result: Result, data: Dict[str, Any],
                   pipeline_root: str) -> None:
  """Adds the output size and record counts of a finished way to result."""
  splits = measure.split_files(pipeline_root)
  per_split = {name: measure.count_records(paths)
               for name, paths in splits.items()}
  output_bytes = sum(os.path.getsize(path)
                     for paths in splits.values() for path in paths)
  seconds = result.get('pack_seconds', 0.0) + result['run_seconds']
  result.update(
      seconds=seconds,
      images_per_s=data['images'] / seconds,
      mb_per_s=data['input_bytes'] / _MB / seconds,
      output_mb=output_bytes / _MB,
      examples_per_split=per_split,
      examples_ok=sum(per_split.values()) == data['images'])


def _measure_way(way_name: str, data: Dict[str, Any], workers: int) -> Result:
  """Runs a way in a fresh work folder, checks its output, removes the folder."""
  print(f"Way {way_name} on {data['images']} images ...", flush=True)
  runs_dir = os.path.join(_BENCH_ROOT, 'runs')
  os.makedirs(runs_dir, exist_ok=True)
  os.makedirs(os.path.join(_BENCH_ROOT, 'logs'), exist_ok=True)
  work_dir = tempfile.mkdtemp(prefix=f'{way_name}-', dir=runs_dir)
  try:
    result = _run_child(way_name, data, work_dir, workers)
    if 'error' not in result:
      _check_outputs(result, data, os.path.join(work_dir, 'pipeline_root'))
      print(f"  {result['seconds']:.1f} s, peak RSS "
            f"{result['peak_rss_mb']:.0f} MB, examples "
            f"{result['examples_per_split']}", flush=True)
  finally:
    shutil.rmtree(work_dir)
  return result


def _add_ratios(results: List[Result], floor: Dict[str, float]) -> None:
  """Speed-up vs the baseline way, and seconds over the two-core gzip floor."""
  baseline = next((result for result in results
                   if result['way'] == _BASELINE_WAY and 'error' not in result),
                  None)
  for result in results:
    if 'error' in result:
      continue
    if baseline:
      result['speedup_vs_two_step'] = baseline['seconds'] / result['seconds']
    result['x_two_core_gzip_floor'] = (
        result['seconds'] / floor['two_core_seconds'])


def _format_row(result: Result) -> List[str]:
  if 'error' in result:
    return [result['way'], 'FAILED: ' + result['error']] + [''] * 12
  per_split = result['examples_per_split']
  split_text = ' / '.join(f'{name} {count}'
                          for name, count in sorted(per_split.items()))
  speedup = result.get('speedup_vs_two_step')
  return [
      result['way'],
      f"{result['seconds']:.1f}",
      (f"{result['pack_seconds']:.1f} + {result['run_seconds']:.1f}"
       if 'pack_seconds' in result else ''),
      f"{result['process_seconds']:.1f}",
      f"{result['images_per_s']:.0f}",
      f"{result['mb_per_s']:.1f}",
      f"{result['peak_rss_mb']:.0f}",
      f"{result['peak_process_rss_mb']:.0f}",
      f"{result['cpu_seconds']:.1f}",
      f"{result['output_mb']:.1f}",
      split_text,
      'yes' if result['examples_ok'] else 'NO',
      f'{speedup:.2f}x' if speedup else '',
      f"{result['x_two_core_gzip_floor']:.2f}",
  ]


def _format_table(results: List[Result]) -> str:
  header = [
      'way', 'seconds', 'pack + pipeline s', 'process s', 'images/s', 'MB/s',
      'peak RSS MB', 'largest process MB', 'CPU s', 'output MB', 'examples', 'examples ok?',
      'speed-up vs two_step', 'seconds / 2-core gzip floor'
  ]
  rows = [header, ['---'] * len(header)]
  rows.extend(_format_row(result) for result in results)
  return '\n'.join('| ' + ' | '.join(row) + ' |' for row in rows)


def _scale_check(results: List[Result], data: Dict[str, Any],
                 scale_data: Dict[str, Any], workers: int) -> Dict[str, Any]:
  """Peak RSS of _SCALE_WAY at N and at _SCALE_FACTOR * N images."""
  at_n = next((result for result in results
               if result['way'] == _SCALE_WAY and 'error' not in result), None)
  at_n = at_n or _measure_way(_SCALE_WAY, data, workers)
  at_scale = _measure_way(_SCALE_WAY, scale_data, workers)
  check = {'way': _SCALE_WAY, 'at_n': at_n, 'at_scale': at_scale}
  if 'error' in at_n or 'error' in at_scale:
    print('Scale check FAILED: a run failed.')
    return check
  ratio = at_scale['peak_rss_mb'] / at_n['peak_rss_mb']
  check.update(rss_ratio=ratio, target=_SCALE_RSS_TARGET,
               passed=ratio <= _SCALE_RSS_TARGET)
  print(f'\nScale check ({_SCALE_WAY}): peak RSS '
        f"{at_n['peak_rss_mb']:.0f} MB at {data['images']} images "
        f"({at_n['seconds']:.1f} s), {at_scale['peak_rss_mb']:.0f} MB at "
        f"{scale_data['images']} images ({at_scale['seconds']:.1f} s); ratio "
        f'{ratio:.2f} (target <= {_SCALE_RSS_TARGET}): '
        f"{'PASS' if check['passed'] else 'FAIL'}")
  print(f"Examples ok at {scale_data['images']}: {at_scale['examples_ok']} "
        f"{at_scale['examples_per_split']}")
  return check


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = _parse_args(argv)
  num_images = args.images
  data_dir = args.data_dir or _default_data_dir(num_images)
  output = args.output or os.path.join(_BENCH_ROOT,
                                       f'results-{num_images}.json')
  code_version = _code_version()
  # Both datasets first: their generator forks, which must come before
  # measure.count_records loads TensorFlow into this process.
  data = _prepare_dataset(data_dir, num_images)
  scale_data = None
  if args.scale_check:
    scale_images = _SCALE_FACTOR * num_images
    scale_data = _prepare_dataset(
        f'{data_dir}-x{_SCALE_FACTOR}' if args.data_dir else
        _default_data_dir(scale_images), scale_images)
  floor = _measure_floor(data)

  results = [_measure_way(way, data, args.workers) for way in args.ways]
  _add_ratios(results, floor)
  print(f'\nimage_example_gen at {code_version}; '
        f"{num_images} images, {data['input_bytes'] / _MB:.1f} MB; "
        f'{args.workers} Beam workers; gzip -6 floor {floor["seconds"]:.1f} s '
        f'on one core, {floor["two_core_seconds"]:.1f} s on two.\n')
  print(_format_table(results), flush=True)

  report = {
      'code_version': code_version,
      'images': num_images,
      'input_bytes': data['input_bytes'],
      'data_dir': data_dir,
      'workers': args.workers,
      'gzip_floor': floor,
      'ways': results,
  }
  if scale_data:
    measure.read_all(scale_data['paths'])  # Back into the page cache.
    report['scale_check'] = _scale_check(results, data, scale_data,
                                         args.workers)
  os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
  with open(output, 'w', encoding='utf-8') as file:
    json.dump(report, file, indent=2)
  print(f'\nResults written to {output}')


if __name__ == '__main__':
  main()
