"""Reads a finished run back from ML Metadata and summarizes it for a person."""

import os
from typing import Dict, List, Optional, Tuple

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tensorflow_data_validation.utils import stats_util
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.io import fileio
from tfx.orchestration import metadata
from tfx.types import artifact_utils

from image_example_gen.core import artifact
from image_example_gen.core import ingest_report

__all__ = [
    'latest_artifact', 'read_report', 'statistics_example_counts', 'summarize'
]


def latest_artifact(store: metadata_store.MetadataStore, pipeline_name: str,
                    type_name: str) -> Optional[metadata_store_pb2.Artifact]:
  """The newest LIVE artifact of a type produced by the pipeline, or None."""
  context = store.get_context_by_type_and_name('pipeline', pipeline_name)
  if context is None:
    return None
  artifact_type = store.get_artifact_type(type_name)
  live = [
      artifact for artifact in store.get_artifacts_by_context(context.id)
      if artifact.type_id == artifact_type.id and
      artifact.state == metadata_store_pb2.Artifact.LIVE
  ]
  return max(live, key=lambda artifact: artifact.id) if live else None


def _split_names(artifact: metadata_store_pb2.Artifact) -> List[str]:
  return artifact_utils.decode_split_names(
      artifact.properties['split_names'].string_value)


def statistics_example_counts(
    statistics: metadata_store_pb2.Artifact) -> Dict[str, int]:
  """{split: num_examples} from a StatisticsGen output."""
  counts = {}
  for split in _split_names(statistics):
    path = os.path.join(artifact.split_dir(statistics.uri, split), 'FeatureStats.pb')
    stats = stats_util.load_stats_binary(path)
    counts[split] = sum(dataset.num_examples for dataset in stats.datasets)
  return counts


def _anomaly_counts(anomalies: metadata_store_pb2.Artifact) -> Dict[str, int]:
  counts = {}
  for split in _split_names(anomalies):
    path = os.path.join(artifact.split_dir(anomalies.uri, split), 'SchemaDiff.pb')
    proto = anomalies_pb2.Anomalies()
    with fileio.open(path, 'rb') as file:
      proto.ParseFromString(file.read())
    counts[split] = len(proto.anomaly_info)
  return counts


def read_report(examples: metadata_store_pb2.Artifact
               ) -> Tuple[str, ingest_report.IngestReport]:
  """(path, report) of the ingest report of an Examples artifact."""
  return (os.path.join(examples.uri, artifact.REPORT_FILE_NAME),
          artifact.read_report(examples.uri))


def summarize(metadata_path: str, pipeline_name: str) -> List[str]:
  """Lines describing the pipeline's latest run."""
  store = metadata_store.MetadataStore(
      metadata.sqlite_metadata_connection_config(metadata_path))
  examples = latest_artifact(store, pipeline_name, 'Examples')
  if examples is None:
    return [f'No Examples artifact of the pipeline {pipeline_name} in '
            f'{metadata_path}.']
  report_path, report = read_report(examples)
  lines = ['', '=== ImageExampleGen summary ===']
  lines += report.summary_lines()
  statistics = latest_artifact(store, pipeline_name, 'ExampleStatistics')
  if statistics is not None:
    counts = statistics_example_counts(statistics)
    lines.append('StatisticsGen example counts: ' + ', '.join(
        f'{split}: {count}' for split, count in counts.items()))
  anomalies = latest_artifact(store, pipeline_name, 'ExampleAnomalies')
  if anomalies is not None:
    lines.append('ExampleValidator anomalies: ' + ', '.join(
        f'{split}: {count}' for split, count in _anomaly_counts(anomalies).items()))
  lines.append('Artifacts:')
  for name, artifact in (('examples', examples), ('statistics', statistics),
                         ('anomalies', anomalies)):
    if artifact is not None:
      lines.append(f'  {name}: {artifact.uri}')
  lines.append(f'  ingest report: {report_path}')
  lines.append(f'  metadata: {metadata_path}')
  return lines
