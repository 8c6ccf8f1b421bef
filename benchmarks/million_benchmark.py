"""Benchmark: ImageExampleGen and the sample chain on up to a million files.

Run from the repository root (or `make benchmark-million ARGS='...'`):

    python -m benchmarks.million_benchmark                   # 100,000 and 1M
    python -m benchmarks.million_benchmark --sizes 20000     # a CI-sized check
    python -m benchmarks.million_benchmark --sizes 100000 \
        --ways component --modes in_process --variants default metadata

The datasets are benchmarks/million_dataset.py's (generated once per size
under bench_data/million-<N>, ~2.7 KB real-photo JPEGs, 10 classes, nested
folders, a metadata.csv). Every run (size x way x mode x variant) is a fresh
child process (benchmarks/million_run.py) whose process tree's RSS is sampled
every 50 ms (benchmarks/measure.py):
  way      component: `image_example_gen.run_ingest` (ImageExampleGen alone,
           the engine of every entry point); chain: the sample pipeline
           (ImageExampleGen -> ImageStatisticsGen -> SchemaGen ->
           ExampleValidator) under LocalDagRunner
  mode     in_process: no Beam arguments (the DirectRunner's default);
           workers2: --direct_running_mode=multi_processing
           --direct_num_workers=2
  variant  default: default options (stratify on); metadata:
           labels='metadata' with the 1-row-per-image metadata.csv;
           nostratify: stratify=False; nonear: near_duplicates=False
           (commits that have the option)

Measured per run:
  seconds       the whole run (run_ingest, or LocalDagRunner.run); for the
                chain also each component; plan s is the launcher's listing,
                labels and metadata join (run start to its 'Found N files')
  files/s       files / seconds (of ImageExampleGen for the chain)
  tree peak     the largest sum of the RSS of the child and its descendants
  launcher peak the child's own peak RSS (ru_maxrss): the launcher alone
                (in-process it runs the DirectRunner's work too); plan peak:
                the tree's peak while the launcher planned
  output MB     the Examples' Split-* files; tree MB: all the run wrote
  manifest B/file  (component) the staged manifest and progress files per file

--page-cache says what each run finds in the page cache: warm (the default)
reads every file of the dataset just before, so that 100,000 and 1,000,000
files compare (a cold small-file read waits about 120 us on this machine's
disk, and a million files did not all stay cached between runs); cold drops
the cache first (root); as-is leaves it.

It prints a markdown table and writes everything (RSS samples included) as
JSON to --output (default bench_data/million-results.json). Child logs go to
bench_data/logs/. --code-dir runs the children from another copy of the
repository (e.g. `git archive HEAD | tar -x -C DIR`), so that edits made to
the working tree during a long run do not reach it. --profile writes a cProfile
of every component in_process run next to its log (see million_profile.py).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Any, Dict, List, Optional, Sequence

from benchmarks import measure
from benchmarks import million_dataset
from benchmarks.chain_config import MODES
from benchmarks.million_run import WAYS

__all__ = ['VARIANTS', 'main']

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BENCH_ROOT = os.path.join(_REPO_ROOT, 'bench_data')
_MB = 1 << 20

# million_run arguments of each variant.
VARIANTS: Dict[str, List[str]] = {
    'default': [],
    'metadata': ['--labels', 'metadata'],
    'nostratify': ['--stratify', 'off'],
    # near_duplicates=False (468da89 and later).
    'nonear': ['--near-duplicates', 'off'],
}

Result = Dict[str, Any]


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      prog='python -m benchmarks.million_benchmark',
      description='Time and memory of ImageExampleGen at up to 1M files.')
  parser.add_argument('--sizes', type=int, nargs='+',
                      default=[100_000, 1_000_000],
                      help='Dataset sizes (default %(default)s).')
  parser.add_argument('--ways', nargs='+', choices=WAYS, default=list(WAYS))
  parser.add_argument('--modes', nargs='+', choices=list(MODES),
                      default=list(MODES))
  parser.add_argument('--variants', nargs='+', choices=list(VARIANTS),
                      default=['default', 'metadata', 'nostratify'])
  parser.add_argument('--library', type=int,
                      default=million_dataset.DEFAULT_LIBRARY,
                      help='Distinct crops of the datasets.')
  parser.add_argument('--profile', action='store_true',
                      help='cProfile the component in_process runs.')
  parser.add_argument('--page-cache', choices=('warm', 'cold', 'as-is'),
                      default='warm',
                      help='Before each run: read every file of the dataset '
                      '(warm, the default: sizes compare), drop the page '
                      'cache (cold: needs root), or nothing.')
  parser.add_argument('--code-dir', default=_REPO_ROOT,
                      help='Repository copy the children run from.')
  parser.add_argument('--output',
                      default=os.path.join(_BENCH_ROOT,
                                           'million-results.json'))
  return parser.parse_args(argv)


def _summarize(result: Result, files: int,
               samples: List[measure.RssSample]) -> None:
  result['seconds'] = result['run_end'] - result['run_start']
  phases = result.get('phases', {})
  if 'planned' in phases:
    result['plan_seconds'] = phases['planned'] - result['run_start']
    peak = measure.peak_between(samples, result['run_start'],
                                phases['planned'])
    result['plan_peak_rss_mb'] = peak.tree_rss_bytes / _MB if peak else None
  gen = result['seconds']
  for component in result.get('components', []):
    if component['node_id'] == 'ImageExampleGen':
      gen = component['seconds']
    peak = measure.peak_between(samples, component['start'], component['end'])
    component['peak_rss_mb'] = peak.tree_rss_bytes / _MB if peak else None
  result['example_gen_seconds'] = gen
  result['files_per_second'] = files / gen
  result['output_mb'] = result['output_bytes'] / _MB
  result['output_tree_mb'] = result['output_tree_bytes'] / _MB
  if 'manifest_bytes' in result:
    result['manifest_bytes_per_file'] = result['manifest_bytes'] / files
  result['samples'] = [[round(s.time - result['run_start'], 2),
                        round(s.tree_rss_bytes / _MB, 1),
                        round(s.largest_rss_bytes / _MB, 1)] for s in samples]


def _run(data_dir: str, files: int, way: str, mode: str, variant: str,
         args: argparse.Namespace) -> Result:
  name = f'million-{files}-{way}-{mode}-{variant}'
  print(f'{name} ...', flush=True)
  logs_dir = os.path.join(_BENCH_ROOT, 'logs')
  runs_dir = os.path.join(_BENCH_ROOT, 'runs')
  os.makedirs(logs_dir, exist_ok=True)
  os.makedirs(runs_dir, exist_ok=True)
  work_dir = tempfile.mkdtemp(prefix=name + '-', dir=runs_dir)
  result_path = os.path.join(work_dir, 'result.json')
  log_path = os.path.join(logs_dir, name + '.log')
  command = [sys.executable, '-m', 'benchmarks.million_run', '--way', way,
             '--data-dir', data_dir, '--work-dir', work_dir, '--mode', mode,
             '--result', result_path, *VARIANTS[variant]]
  if args.profile and way == 'component' and mode == 'in_process':
    command += ['--profile', os.path.join(logs_dir, name + '.prof')]
  code_dir = os.path.abspath(args.code_dir)
  python_path = os.pathsep.join(
      filter(None, [code_dir, os.environ.get('PYTHONPATH')]))
  env = dict(os.environ, PYTHONPATH=python_path, TF_CPP_MIN_LOG_LEVEL='2',
             PYTHONWARNINGS='ignore::FutureWarning')
  samples: List[measure.RssSample] = []
  if args.page_cache == 'warm':
    warmed, seconds = measure.warm_page_cache(data_dir)
    print(f'  page cache warmed: {warmed} files read in {seconds:.0f} s',
          flush=True)
  elif args.page_cache == 'cold':
    measure.drop_page_cache()
  try:
    run = measure.run_sampled(command, log_path, code_dir, env,
                              samples=samples)
    result = {'files': files, 'way': way, 'mode': mode, 'variant': variant,
              'page_cache': args.page_cache,
              **measure.child_result(run, log_path, result_path)}
  finally:
    shutil.rmtree(work_dir, ignore_errors=True)
  if 'error' not in result:
    _summarize(result, files, samples)
    print(f"  {result['seconds']:.1f} s, {result['files_per_second']:.0f} "
          f"files/s, tree peak {result['peak_rss_mb']:.0f} MB, launcher "
          f"{result['launcher_peak_rss_mb']:.0f} MB", flush=True)
  return result


def _cell(value, digits: int = 0) -> str:
  return '-' if value is None else f'{value:,.{digits}f}'


def format_table(results: Sequence[Result]) -> str:
  header = ('| files | way | mode | variant | seconds | CPU s | of it system '
            's | ImageExampleGen s | '
            'other components s | plan s | files/s | tree peak MB | '
            'launcher peak MB | plan peak MB | output MB | run wrote MB | '
            'manifest B/file |')
  lines = [header, '|' + '---|' * (header.count('|') - 1)]
  for r in results:
    if 'error' in r:
      lines.append(f"| {r['files']:,} | {r['way']} | {r['mode']} | "
                   f"{r['variant']} | FAILED: {r['error']} |")
      continue
    others = ', '.join(f"{c['node_id']} {c['seconds']:.1f}"
                       for c in r.get('components', [])
                       if c['node_id'] != 'ImageExampleGen') or '-'
    lines.append(
        f"| {r['files']:,} | {r['way']} | {r['mode']} | {r['variant']} | "
        f"{_cell(r['seconds'], 1)} | {_cell(r.get('cpu_seconds'), 1)} | "
        f"{_cell(r.get('system_cpu_seconds'), 1)} | "
        f"{_cell(r['example_gen_seconds'], 1)} | "
        f"{others} | {_cell(r.get('plan_seconds'), 1)} | "
        f"{_cell(r['files_per_second'])} | {_cell(r['peak_rss_mb'])} | "
        f"{_cell(r['launcher_peak_rss_mb'])} | "
        f"{_cell(r.get('plan_peak_rss_mb'))} | {_cell(r['output_mb'])} | "
        f"{_cell(r['output_tree_mb'])} | "
        f"{_cell(r.get('manifest_bytes_per_file'))} |")
  return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = _parse_args(argv)
  code_dir = os.path.abspath(args.code_dir)
  code_version = measure.code_version_of(_REPO_ROOT, code_dir)
  datasets, results = [], []
  for files in args.sizes:
    data_dir = million_dataset.default_data_dir(files)
    print(f'Dataset {data_dir} ...', flush=True)
    marker = million_dataset.ensure_dataset(
        data_dir, files, library_size=args.library,
        log=lambda line: print(line, flush=True))
    print(f"  {marker['bytes'] / _MB:.0f} MB; generated at "
          f"{marker['files_per_second']:.0f} files/s"
          + (' (reused)' if marker['reused'] else ''), flush=True)
    datasets.append(dict(marker, data_dir=data_dir))
    for way in args.ways:
      for mode in args.modes:
        for variant in args.variants:
          results.append(_run(data_dir, files, way, mode, variant, args))
  table = format_table(results)
  print(f'\nimage_example_gen at {code_version}\n\n{table}', flush=True)
  os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
  with open(args.output, 'w', encoding='utf-8') as file:
    json.dump({'code_version': code_version, 'code_dir': code_dir,
               'datasets': datasets, 'runs': results}, file, indent=1)
  print(f'\nResults written to {args.output}')
  if any('error' in r for r in results):
    sys.exit(1)


if __name__ == '__main__':
  main()
