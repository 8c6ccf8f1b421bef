"""Benchmark: the whole sample pipeline, ImageExampleGen to ExampleValidator.

Run from the repository root (or `make benchmark-chain ARGS='...'`):

    python -m benchmarks.chain_benchmark                  # 20,000 and 60,000
    python -m benchmarks.chain_benchmark --images 600     # a quick check
    python -m benchmarks.chain_benchmark --images 20000 --modes workers2 \
        --compressions gzip

What runs is exactly what `pipelines.image_pipeline.create_pipeline` builds
(ImageExampleGen -> ImageStatisticsGen -> SchemaGen -> ExampleValidator
today), on the dataset of benchmarks/dataset.py (generated once per size under
/tmp/image_example_gen_bench/data-<N>, shared with ingest_benchmark). Every
configuration, images x mode x compression, runs in a fresh child process
(benchmarks/run_chain.py: LocalDagRunner, SQLite metadata, a fresh pipeline
root) with its process tree's RSS sampled every 50 ms:
  mode         in_process: no Beam arguments (the DirectRunner's in-memory
               mode); workers2: --direct_running_mode=multi_processing
               --direct_num_workers=2
  compression  none: ImageExampleGen's default; gzip: compression='gzip'

Measured per run:
  run s        LocalDagRunner.run
  <node> s     each component, from the records LocalDagRunner logs when it
               starts and finishes the node (the MLMD execution's create and
               last update times are in the JSON as mlmd_seconds; they leave
               out input resolution)
  tree peak    the largest sum of the RSS of the child and all its descendants
               (the Beam workers) over the child's life, and the component
               whose window held it; per component, the largest sum sampled in
               its window (in one process, memory a component leaves behind
               counts in the next ones' windows too)
  at run start the tree's RSS when LocalDagRunner.run began (imports done)
  CPU s        user+system CPU of the tree during the run (per component too,
               in the JSON)
  others' CPU s  busy CPU of the whole machine during the run minus the
               tree's: other processes competing for the 2 cores
  output MB    the Examples' Split-* files
  examples ok  StatisticsGen's num_examples over the splits equals the images
Derived figures and targets: see benchmarks/chain_report.py. MB are 2^20 bytes.

--code-dir runs the children from another copy of the repository (its
image_example_gen, pipelines and benchmarks), e.g. a snapshot taken with
`git archive HEAD | tar -x -C DIR` plus this benchmarks/ folder, so that
edits made to the working tree during a long run do not reach it.

It prints markdown tables and a targets block, and writes everything (with the
RSS samples, as [seconds since run start, tree MB, largest process MB]) as JSON
to --output (default /tmp/image_example_gen_bench/chain-results.json). Child
logs go to /tmp/image_example_gen_bench/logs/.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Any, Dict, List, Optional, Sequence

from benchmarks import chain_report
from benchmarks import dataset
from benchmarks import measure
from benchmarks.chain_config import COMPRESSIONS
from benchmarks.chain_config import MODES

_BENCH_ROOT = '/tmp/image_example_gen_bench'
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MB = 1 << 20

Result = Dict[str, Any]


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      prog='python -m benchmarks.chain_benchmark',
      description='Time and memory of the whole sample pipeline.')
  parser.add_argument('--images', type=int, nargs='+', default=[20_000, 60_000],
                      help='Dataset sizes (default 20000 60000).')
  parser.add_argument('--modes', nargs='+', choices=list(MODES),
                      default=list(MODES), help='Beam modes to run.')
  parser.add_argument('--compressions', nargs='+', choices=list(COMPRESSIONS),
                      default=list(COMPRESSIONS),
                      help='ImageExampleGen output compressions to run.')
  parser.add_argument('--code-dir', default=_REPO_ROOT,
                      help='Repository copy the children run from (default '
                      'this one).')
  parser.add_argument('--output',
                      default=os.path.join(_BENCH_ROOT, 'chain-results.json'),
                      help='JSON results file (default %(default)s).')
  return parser.parse_args(argv)


def _prepare_dataset(num_images: int) -> Dict[str, Any]:
  """Generates or reuses the dataset of that size; returns where and how big."""
  data_dir = os.path.join(_BENCH_ROOT, f'data-{num_images}')
  marker, paths = dataset.prepare(data_dir, num_images)
  print(f"  {marker['bytes'] / _MB:.1f} MB", flush=True)
  return {'images': num_images, 'input_bytes': marker['bytes'],
          'images_dir': dataset.images_dir(data_dir), 'paths': paths}


def _attribute_memory(result: Result, samples: List[measure.RssSample]) -> None:
  """Adds the tree peaks per component window, and where the overall one was."""
  for component in result['components']:
    peak = measure.peak_between(samples, component['start'], component['end'])
    component['peak_rss_mb'] = peak.tree_rss_bytes / _MB if peak else None
    component['peak_largest_mb'] = peak.largest_rss_bytes / _MB if peak else None
  overall = max(samples, key=lambda sample: sample.tree_rss_bytes)
  result['peak_at'] = next(
      (c['node_id'] for c in result['components']
       if c['start'] <= overall.time <= c['end']),
      'outside the components')
  at_start = next((s for s in samples if s.time >= result['run_start']), None)
  result['rss_at_run_start_mb'] = (at_start.tree_rss_bytes / _MB
                                   if at_start else None)
  result['samples'] = [[round(s.time - result['run_start'], 3),
                        round(s.tree_rss_bytes / _MB, 1),
                        round(s.largest_rss_bytes / _MB, 1)] for s in samples]


def _summarize(result: Result, data: Dict[str, Any]) -> None:
  """Adds seconds, output size and the example-count check to a finished run."""
  result['run_seconds'] = result['run_end'] - result['run_start']
  for component in result['components']:
    component['seconds'] = component['end'] - component['start']
    component['mlmd_seconds'] = component['mlmd_end'] - component['mlmd_start']
  result['others_cpu_seconds'] = max(
      0.0, result['machine_cpu_seconds'] - result['cpu_seconds'])
  result['output_mb'] = result['examples_bytes'] / _MB
  result['input_mb'] = data['input_bytes'] / _MB
  result['examples_ok'] = (
      sum(result['statistics_examples'].values()) == data['images'])


def _run_child(data: Dict[str, Any], mode: str, compression: str,
               work_dir: str, code_dir: str) -> Result:
  """Runs one configuration in a child process, sampling its tree's RSS."""
  name = f"chain-{data['images']}-{mode}-{compression}"
  log_path = os.path.join(_BENCH_ROOT, 'logs', f'{name}.log')
  result_path = os.path.join(work_dir, 'result.json')
  command = [
      sys.executable, '-m', 'benchmarks.run_chain',
      '--data-root', data['images_dir'], '--work-dir', work_dir,
      '--mode', mode, '--compression', compression, '--result', result_path
  ]
  # The child and Beam's worker processes import the package from code_dir.
  python_path = os.pathsep.join(
      filter(None, [code_dir, os.environ.get('PYTHONPATH')]))
  env = dict(os.environ, PYTHONPATH=python_path, TF_CPP_MIN_LOG_LEVEL='2')
  samples: List[measure.RssSample] = []
  run = measure.run_sampled(command, log_path, code_dir, env, samples=samples)
  result = {'images': data['images'], 'mode': mode, 'compression': compression,
            **measure.child_result(run, log_path, result_path)}
  if 'error' in result:
    return result
  _summarize(result, data)
  _attribute_memory(result, samples)
  return result


def _measure(data: Dict[str, Any], mode: str, compression: str,
             code_dir: str) -> Result:
  """Runs a configuration in a fresh work folder, then removes the folder."""
  print(f"Chain on {data['images']} images, {mode}, {compression} ...",
        flush=True)
  runs_dir = os.path.join(_BENCH_ROOT, 'runs')
  os.makedirs(runs_dir, exist_ok=True)
  os.makedirs(os.path.join(_BENCH_ROOT, 'logs'), exist_ok=True)
  work_dir = tempfile.mkdtemp(prefix=f'chain-{mode}-{compression}-',
                              dir=runs_dir)
  try:
    result = _run_child(data, mode, compression, work_dir, code_dir)
  finally:
    shutil.rmtree(work_dir)
  if 'error' not in result:
    print('  ' + ', '.join(
        [f"run {result['run_seconds']:.1f} s"] +
        [f"{c['node_id']} {c['seconds']:.1f} s" for c in result['components']])
          + f"; tree peak {result['peak_rss_mb']:.0f} MB in "
          f"{result['peak_at']}; examples {result['statistics_examples']}",
          flush=True)
  return result


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = _parse_args(argv)
  code_dir = os.path.abspath(args.code_dir)
  code_version = measure.code_version_of(_REPO_ROOT, code_dir)
  datasets = [_prepare_dataset(num_images) for num_images in args.images]
  results = []
  for data in datasets:
    measure.read_all(data['paths'])  # Into the page cache for every run.
    for mode in args.modes:
      results.extend(_measure(data, mode, compression, code_dir)
                     for compression in args.compressions)

  derived = chain_report.derive(results)
  print(f'\nimage_example_gen at {code_version}; '
        + ', '.join(f"{d['images']} images = {d['input_bytes'] / _MB:.0f} MB"
                    for d in datasets) + '\n')
  print(chain_report.format_report(results, derived), flush=True)

  report = {
      'code_version': code_version,
      'code_dir': code_dir,
      'datasets': [{k: v for k, v in d.items() if k != 'paths'}
                   for d in datasets],
      'runs': results,
      'derived': derived,
  }
  os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
  with open(args.output, 'w', encoding='utf-8') as file:
    json.dump(report, file, indent=1)
  print(f'\nResults written to {args.output}')


if __name__ == '__main__':
  main()
