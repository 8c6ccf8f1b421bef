"""Runs the sample pipeline once; chain_benchmark starts it as a child.

    python -m benchmarks.run_chain --data-root DATA/images --work-dir DIR \
        --mode workers2 --compression none --result OUT.json

The pipeline is exactly what `pipelines.image_pipeline.create_pipeline` builds,
run by LocalDagRunner with SQLite metadata (`DIR/metadata.db`) and a fresh
pipeline root (`DIR/pipeline_root`). The mode gives the Beam arguments and
the compression the ingest options (see benchmarks/chain_config.py).

OUT.json receives, all times as time.time() seconds since the epoch:
  run_start, run_end   around LocalDagRunner.run
  components           per node, in run order: `start` and `end` from the
                       records LocalDagRunner logs ("Component %s is running."
                       / "... is finished."), `cpu_seconds` of the process tree
                       in that window, and `mlmd_start` / `mlmd_end` from ML
                       Metadata (the execution's create_time_since_epoch and
                       last_update_time_since_epoch; ms resolution)
  cpu_seconds          user+system CPU of this process and all descendants
                       (the Beam workers) from just before the run to its end,
                       after every descendant has exited and been reaped
  machine_cpu_seconds  busy CPU of the whole machine (all but idle and
                       iowait) during the run; minus cpu_seconds, what other
                       processes took (contention)
  statistics_examples  {split: num_examples} from StatisticsGen's output
  examples_property    ImageExampleGen's `num_examples` MLMD property
  anomalies            {split: number of anomalies} from ExampleValidator
  examples_bytes, pipeline_root_bytes  sizes of the Split-* files of the
                       Examples and of everything under the pipeline root
"""

import argparse
import json
import logging
import os
import time
from typing import Any, Dict, List, Optional, Sequence

from absl import logging as absl_logging
from ml_metadata import metadata_store
import psutil
from tfx import v1 as tfx
from tfx.dsl.compiler import constants
from tfx.types import artifact_utils

from benchmarks import measure
from benchmarks.chain_config import COMPRESSIONS
from benchmarks.chain_config import MODES
from image_example_gen.core import artifact
from pipelines import image_pipeline

__all__ = ['main']

_PIPELINE_NAME = 'chain_benchmark'
_DESCENDANTS_EXIT_TIMEOUT_S = 60
# The messages tfx/orchestration/local/local_dag_runner.py logs per node.
_STARTED = 'Component %s is running.'
_FINISHED = 'Component %s is finished.'


class _ComponentClock(logging.Handler):
  """Records when LocalDagRunner starts and finishes each node."""

  def __init__(self):
    super().__init__(level=logging.INFO)
    self.components: List[Dict[str, Any]] = []

  def emit(self, record: logging.LogRecord) -> None:
    if record.msg == _STARTED:
      self.components.append({'node_id': record.args[0],
                               'start': record.created,
                               'cpu_start': measure.tree_cpu_seconds(include_live=True)})
    elif record.msg == _FINISHED and self.components:
      component = self.components[-1]
      component['end'] = record.created
      component['cpu_seconds'] = measure.tree_cpu_seconds(include_live=True) - component.pop(
          'cpu_start')


def _machine_busy_seconds() -> float:
  times = psutil.cpu_times()
  return sum(times) - times.idle - times.iowait


def _mlmd_times(store, components: List[Dict[str, Any]]) -> None:
  """Adds each node's execution create / last update times (s) from MLMD."""
  for component in components:
    context = store.get_context_by_type_and_name(
        constants.NODE_CONTEXT_TYPE_NAME,
        f"{_PIPELINE_NAME}.{component['node_id']}")
    executions = store.get_executions_by_context(context.id)
    component['mlmd_start'] = min(
        e.create_time_since_epoch for e in executions) / 1000
    component['mlmd_end'] = max(
        e.last_update_time_since_epoch for e in executions) / 1000


def _latest(store, type_name: str):
  artifacts = store.get_artifacts_by_type(type_name)
  return max(artifacts, key=lambda a: a.id) if artifacts else None


def _split_protos(output, file_name: str, read) -> Dict[str, Any]:
  """{split: read(path of file_name in Split-<split>)} of an artifact."""
  splits = artifact_utils.decode_split_names(
      output.properties['split_names'].string_value)
  return {split: read(os.path.join(artifact.split_dir(output.uri, split),
                                   file_name))
          for split in splits}


def _outputs(store) -> Dict[str, Any]:
  """What StatisticsGen, ImageExampleGen and ExampleValidator recorded."""
  # Imported after the run, so that the pipeline loads what it needs itself.
  # pylint: disable=g-import-not-at-top
  import tensorflow_data_validation as tfdv
  from tensorflow_metadata.proto.v0 import anomalies_pb2
  # pylint: enable=g-import-not-at-top

  def num_examples(path: str) -> int:
    return sum(d.num_examples for d in tfdv.load_stats_binary(path).datasets)

  def num_anomalies(path: str) -> int:
    with open(path, 'rb') as file:
      return len(anomalies_pb2.Anomalies.FromString(file.read()).anomaly_info)

  examples = _latest(store, 'Examples')
  statistics = _latest(store, 'ExampleStatistics')
  anomalies = _latest(store, 'ExampleAnomalies')
  return {
      'examples_property': (
          examples.custom_properties['num_examples'].int_value
          if examples and 'num_examples' in examples.custom_properties
          else None),
      'statistics_examples': (_split_protos(statistics, 'FeatureStats.pb',
                                            num_examples)
                              if statistics else {}),
      'anomalies': (_split_protos(anomalies, 'SchemaDiff.pb', num_anomalies)
                    if anomalies else {}),
  }


def _tree_bytes(root: str) -> int:
  return sum(os.path.getsize(os.path.join(folder, name))
             for folder, _, names in os.walk(root) for name in names)


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(prog='python -m benchmarks.run_chain')
  parser.add_argument('--data-root', required=True)
  parser.add_argument('--work-dir', required=True)
  parser.add_argument('--mode', required=True, choices=sorted(MODES))
  parser.add_argument('--compression', required=True,
                      choices=sorted(COMPRESSIONS))
  parser.add_argument('--result', required=True)
  return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = _parse_args(argv)
  pipeline_root = os.path.join(args.work_dir, 'pipeline_root')
  metadata_path = os.path.join(args.work_dir, 'metadata.db')
  pipeline = image_pipeline.create_pipeline(
      _PIPELINE_NAME, pipeline_root, args.data_root, metadata_path,
      MODES[args.mode] or None, **COMPRESSIONS[args.compression])
  clock = _ComponentClock()
  absl_logging.set_verbosity(absl_logging.INFO)
  absl_logging.get_absl_logger().addHandler(clock)

  cpu_before = measure.tree_cpu_seconds(include_live=True)
  machine_before = _machine_busy_seconds()
  run_start = time.time()
  tfx.orchestration.LocalDagRunner().run(pipeline)
  run_end = time.time()
  machine_cpu_seconds = _machine_busy_seconds() - machine_before
  measure.wait_for_descendants(_DESCENDANTS_EXIT_TIMEOUT_S)
  cpu_seconds = measure.tree_cpu_seconds(include_live=True) - cpu_before

  store = metadata_store.MetadataStore(
      tfx.orchestration.metadata.sqlite_metadata_connection_config(
          metadata_path))
  _mlmd_times(store, clock.components)
  examples_bytes = sum(os.path.getsize(path)
                       for paths in measure.split_files(pipeline_root).values()
                       for path in paths)
  result = dict(_outputs(store), run_start=run_start, run_end=run_end,
                cpu_seconds=cpu_seconds,
                machine_cpu_seconds=machine_cpu_seconds, components=clock.components,
                examples_bytes=examples_bytes,
                pipeline_root_bytes=_tree_bytes(pipeline_root))
  with open(args.result, 'w', encoding='utf-8') as file:
    json.dump(result, file)


if __name__ == '__main__':
  main()
