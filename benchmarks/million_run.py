"""One run of the million benchmark; million_benchmark starts it as a child.

    python -m benchmarks.million_run --way component --data-dir DATA \
        --work-dir DIR --mode in_process --labels folder --stratify on \
        --result OUT.json [--profile OUT.prof]

Ways:
  component  ImageExampleGen alone: `image_example_gen.run_ingest`, the engine
             every entry point (the TFX executor, the command) calls, writing
             the artifact to DIR/examples, with its manifest staged in
             DIR/staging (kept, to be weighed)
  chain      the whole sample pipeline, `pipelines.image_pipeline.
             create_pipeline` (ImageExampleGen -> ImageStatisticsGen ->
             SchemaGen -> ExampleValidator) under LocalDagRunner, SQLite
             metadata in DIR/metadata.db, artifacts in DIR/pipeline_root

Options: --labels metadata ingests with labels='metadata' and the dataset's
metadata.csv (one row per image); --stratify off sets stratify=False;
--near-duplicates off sets near_duplicates=False (commits that have it).

OUT.json receives (times are time.time() seconds since the epoch):
  run_start, run_end     around run_ingest / LocalDagRunner.run
  import_seconds         (component) importing Beam and the engine, before
                         run_start
  phases                 when the launcher logged the end of its plan
                         ('Found N files'), the start of the Beam pipeline
                         ('Reading N files'), and the first and last listing
                         progress lines, if any
  components             (chain) per node: start, end, as run_chain records
  launcher_peak_rss_mb   this process's own peak RSS (ru_maxrss): the
                         launcher alone (in-process, the DirectRunner too)
  launcher_rss_at_pipeline_mb  this process's RSS when the pipeline started
  cpu_seconds            user+system CPU of the process tree in the run
  output_bytes           the Split-* files of the Examples
  output_tree_bytes      everything the run wrote (artifact, report, skip
                         list; for the chain the whole pipeline root)
  manifest_bytes         (component) the staged manifest and progress files
  report                 (component) the report's totals
"""

import argparse
import cProfile
import json
import logging
import os
import resource
import time
from typing import Any, Dict, Optional, Sequence

import psutil

from benchmarks import measure
from benchmarks import million_dataset
from benchmarks.chain_config import MODES

__all__ = ['WAYS', 'main']

WAYS = ('component', 'chain')
_PIPELINE_NAME = 'million_benchmark'
_PHASE_MESSAGES = {
    'Found %d files in %s; classes: %s': 'planned',
    'Reading %d files (%.1f MB) from %s': 'pipeline_start',
}


class _PhaseClock(logging.Handler):
  """Records when the launcher logs the end of each phase."""

  def __init__(self):
    super().__init__(level=logging.INFO)
    self.phases: Dict[str, float] = {}
    self.rss_at: Dict[str, float] = {}

  def emit(self, record: logging.LogRecord) -> None:
    phase = _PHASE_MESSAGES.get(record.msg)
    if phase is None and isinstance(record.msg, str) and record.msg.startswith(
        'Listing '):
      phase = 'listing_progress_last'
      self.phases.setdefault('listing_progress_first', record.created)
    if phase:
      self.phases[phase] = record.created
      self.rss_at[phase] = psutil.Process().memory_info().rss / (1 << 20)


def _tree_bytes(root: str) -> int:
  return sum(os.path.getsize(os.path.join(folder, name))
             for folder, _, names in os.walk(root) for name in names)


def _split_bytes(root: str) -> int:
  return sum(os.path.getsize(os.path.join(folder, name))
             for folder, _, names in os.walk(root)
             if os.path.basename(folder).startswith('Split-')
             for name in names)


def _options(args: argparse.Namespace) -> Dict[str, Any]:
  options: Dict[str, Any] = {'stratify': args.stratify == 'on'}
  if args.near_duplicates is not None:
    options['near_duplicates'] = args.near_duplicates == 'on'
  if args.labels == 'metadata':
    options.update(labels='metadata',
                   metadata_file=million_dataset.metadata_path(args.data_dir))
  return options


def _run_component(args, work_dir: str) -> Dict[str, Any]:
  # pylint: disable=g-import-not-at-top
  import image_example_gen
  from image_example_gen.core.config import IngestConfig
  # pylint: enable=g-import-not-at-top
  output_uri = os.path.join(work_dir, 'examples')
  staging_dir = os.path.join(work_dir, 'staging')
  os.makedirs(staging_dir)
  import_start = time.time()
  run_ingest = image_example_gen.run_ingest  # Imports Beam and the engine.
  profiler = cProfile.Profile() if args.profile else None
  run_start = time.time()
  if profiler:
    profiler.enable()
  report = run_ingest(
      million_dataset.images_dir(args.data_dir), output_uri,
      config=IngestConfig(**_options(args)),
      beam_pipeline_args=MODES[args.mode], staging_dir=staging_dir)
  if profiler:
    profiler.disable()
  run_end = time.time()
  if profiler:
    profiler.dump_stats(args.profile)
  return {
      'import_seconds': run_start - import_start,
      'run_start': run_start, 'run_end': run_end,
      'output_bytes': _split_bytes(output_uri),
      'output_tree_bytes': _tree_bytes(output_uri),
      'manifest_bytes': _tree_bytes(staging_dir),
      'report_files': {name: os.path.getsize(os.path.join(output_uri, name))
                       for name in os.listdir(output_uri)
                       if not name.startswith('Split-')},
      'report': {'examples': report.total_examples,
                 'bad_files': report.bad_files,
                 'examples_per_split': dict(report.examples_per_split)},
  }


def _run_chain(args, work_dir: str) -> Dict[str, Any]:
  # pylint: disable=g-import-not-at-top
  from absl import logging as absl_logging
  from tfx import v1 as tfx
  from benchmarks import run_chain
  from pipelines import image_pipeline
  # pylint: enable=g-import-not-at-top
  pipeline_root = os.path.join(work_dir, 'pipeline_root')
  pipeline = image_pipeline.create_pipeline(
      _PIPELINE_NAME, pipeline_root,
      million_dataset.images_dir(args.data_dir),
      os.path.join(work_dir, 'metadata.db'), MODES[args.mode] or None,
      **_options(args))
  clock = run_chain._ComponentClock()  # pylint: disable=protected-access
  absl_logging.set_verbosity(absl_logging.INFO)
  absl_logging.get_absl_logger().addHandler(clock)
  run_start = time.time()
  tfx.orchestration.LocalDagRunner().run(pipeline)
  run_end = time.time()
  for component in clock.components:
    component['seconds'] = component['end'] - component['start']
  return {'run_start': run_start, 'run_end': run_end,
          'components': clock.components,
          'output_bytes': _split_bytes(os.path.join(pipeline_root,
                                                    'ImageExampleGen')),
          'output_tree_bytes': _tree_bytes(pipeline_root)}


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(prog='python -m benchmarks.million_run')
  parser.add_argument('--way', required=True, choices=WAYS)
  parser.add_argument('--data-dir', required=True)
  parser.add_argument('--work-dir', required=True)
  parser.add_argument('--mode', required=True, choices=sorted(MODES))
  parser.add_argument('--labels', default='folder',
                      choices=('folder', 'metadata'))
  parser.add_argument('--stratify', default='on', choices=('on', 'off'))
  parser.add_argument('--near-duplicates', default=None, choices=('on', 'off'),
                      help='near_duplicates (default: the option left out, '
                      'as before the option existed).')
  parser.add_argument('--profile', default=None,
                      help='cProfile stats file (component way only).')
  parser.add_argument('--result', required=True)
  return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = _parse_args(argv)
  logging.basicConfig(level=logging.INFO)
  logging.getLogger().setLevel(logging.INFO)
  clock = _PhaseClock()
  logging.getLogger().addHandler(clock)
  user_before, system_before = measure.tree_cpu_times()
  if args.way == 'component':
    result = _run_component(args, args.work_dir)
  else:
    result = _run_chain(args, args.work_dir)
  measure.wait_for_descendants()  # The Beam workers' CPU counts too.
  user, system = measure.tree_cpu_times()
  result.update(
      phases=clock.phases,
      launcher_rss_at_mb=clock.rss_at,
      launcher_peak_rss_mb=resource.getrusage(
          resource.RUSAGE_SELF).ru_maxrss / 1024,
      cpu_seconds=user + system - user_before - system_before,
      system_cpu_seconds=system - system_before)
  with open(args.result, 'w', encoding='utf-8') as file:
    json.dump(result, file)


if __name__ == '__main__':
  main()
