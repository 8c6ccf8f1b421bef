"""Reads a finished run of the training pipeline back and summarizes it.

What was ingested (the ingest report), the Evaluator's accuracy overall and
per class (TFMA's metrics), whether the model was blessed (and if not, which
threshold failed), and where the Pusher put it, all found through ML Metadata
from the pipeline's latest artifacts.

The metric and slice names are defined here, the reader of the Evaluator's
output, and used by pipelines/train_pipeline.py to configure it.
"""

import dataclasses
import json
import os
from typing import Dict, List, Optional, Tuple

from google.protobuf import json_format
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
import tensorflow_model_analysis as tfma
from tfx.dsl.io import fileio
from tfx.orchestration import metadata

from image_example_gen.core import artifact
from pipelines import run_summary

__all__ = [
    'ACCURACY_METRIC', 'CLASS_SLICE_KEY', 'EvalAccuracy', 'read_accuracy',
    'summarize'
]

# The Evaluator's accuracy metric (a SparseCategoricalAccuracy by this name)
# and the feature it slices the eval split on for per-class accuracy.
ACCURACY_METRIC = 'accuracy'
EXAMPLE_COUNT_METRIC = 'example_count'
CLASS_SLICE_KEY = artifact.CLASS_TEXT


@dataclasses.dataclass(frozen=True)
class EvalAccuracy:
  """Accuracy of one evaluation.

  Attributes:
    overall: Accuracy over the whole eval split (None if not computed).
    examples: Examples evaluated.
    per_class: {class name: (accuracy, examples)} from the class slices.
  """
  overall: Optional[float]
  examples: int
  per_class: Dict[str, Tuple[float, int]]


def _slice_value(single_slice_key) -> str:
  kind = single_slice_key.WhichOneof('kind')
  value = getattr(single_slice_key, kind)
  return value.decode('utf-8') if isinstance(value, bytes) else str(value)


def read_accuracy(evaluation_uri: str) -> EvalAccuracy:
  """The accuracy overall and per class from an Evaluator's output folder."""
  overall, examples, per_class = None, 0, {}
  for metrics in tfma.load_metrics(evaluation_uri):
    values = {item.key.name: item.value.double_value.value
              for item in metrics.metric_keys_and_values
              if item.value.HasField('double_value')}
    accuracy = values.get(ACCURACY_METRIC)
    count = int(values.get(EXAMPLE_COUNT_METRIC, 0))
    keys = metrics.slice_key.single_slice_keys
    if not keys:
      overall, examples = accuracy, count
    elif len(keys) == 1 and keys[0].column == CLASS_SLICE_KEY:
      per_class[_slice_value(keys[0])] = (accuracy, count)
  return EvalAccuracy(overall, examples, per_class)


def _accuracy_threshold(evaluation_uri: str) -> Optional[float]:
  """The lower bound on overall accuracy in the stored eval config, if any."""
  path = os.path.join(evaluation_uri, 'eval_config.json')
  if not fileio.exists(path):
    return None
  with fileio.open(path, 'r') as file:
    config = json_format.ParseDict(
        json.load(file)['evalConfig'], tfma.EvalConfig(),
        ignore_unknown_fields=True)
  thresholds = tfma.metrics.metric_thresholds_from_metrics_specs(
      config.metrics_specs, eval_config=config)
  for key, sliced in thresholds.items():
    if key.name != ACCURACY_METRIC:
      continue
    for slice_spec, threshold in sliced:
      overall = slice_spec is None or not (
          slice_spec.feature_keys or slice_spec.feature_values)
      if overall and threshold.HasField('lower_bound'):
        return threshold.lower_bound.value
  return None


def _slice_name(slice_key) -> str:
  keys = slice_key.single_slice_keys
  if not keys:
    return 'overall'
  return ', '.join(f'{key.column}={_slice_value(key)}' for key in keys)


def _describe_threshold(threshold) -> str:
  """'needs >= 0.8' for a value threshold, else the threshold proto as JSON."""
  value = threshold.value_threshold
  bounds = []
  if value.HasField('lower_bound'):
    bounds.append(f'>= {value.lower_bound.value:g}')
  if value.HasField('upper_bound'):
    bounds.append(f'<= {value.upper_bound.value:g}')
  if bounds and not threshold.HasField('change_threshold'):
    return 'needs ' + ' and '.join(bounds)
  return f'threshold {json_format.MessageToJson(threshold, indent=None)}'


def _validation_failures(evaluation_uri: str) -> List[str]:
  """One line per failed threshold or missing slice."""
  result = tfma.load_validation_result(evaluation_uri)
  failures = []
  for per_slice in result.metric_validations_per_slice:
    for failure in per_slice.failures:
      value = (f'{failure.metric_value.double_value.value:.3f}'
               if failure.HasField('metric_value') else 'not computed')
      failures.append(
          f'{_slice_name(per_slice.slice_key)}: {failure.metric_key.name} '
          f'{value}, {_describe_threshold(failure.metric_threshold)}'
          + (f' ({failure.message})' if failure.message else ''))
  for missing in result.missing_slices:
    failures.append(
        f'slice not evaluated: {json_format.MessageToDict(missing)}')
  return failures


def _format_accuracy(value: Optional[float]) -> str:
  return 'n/a' if value is None else f'{value:.3f}'


def _int_property(artifact: metadata_store_pb2.Artifact, name: str) -> int:
  return artifact.custom_properties[name].int_value


def summarize(metadata_path: str, pipeline_name: str) -> List[str]:
  """Lines describing the training pipeline's latest run."""
  store = metadata_store.MetadataStore(
      metadata.sqlite_metadata_connection_config(metadata_path))

  def latest(type_name):
    return run_summary.latest_artifact(store, pipeline_name, type_name)

  examples = latest('Examples')
  if examples is None:
    return [f'No Examples artifact for pipeline {pipeline_name!r} in '
            f'{metadata_path}.']
  report_path, report = run_summary.read_report(examples)
  class_names = list(report.class_names)

  lines = ['', '=== Training pipeline summary ===',
           f'Examples from {report.input_base} '
           f'({len(class_names)} classes: {", ".join(class_names)}):']
  for split, by_class in report.examples.items():
    per_class = ', '.join(f'{name}: {count}' for name, count in by_class.items())
    lines.append(f'  {split}: {sum(by_class.values())} ({per_class})')
  if report.total_skipped:
    lines.append(f'  skipped {report.total_skipped} files (see {report_path})')

  evaluation = latest('ModelEvaluation')
  if evaluation is None:
    lines.append('No evaluation: the run stopped before the Evaluator.')
  else:
    accuracy = read_accuracy(evaluation.uri)
    lines.append(f'Eval accuracy (TFMA, {accuracy.examples} eval examples): '
                 f'{_format_accuracy(accuracy.overall)}')
    ordered = [name for name in class_names if name in accuracy.per_class]
    ordered += sorted(set(accuracy.per_class) - set(ordered))
    for name in ordered:
      value, count = accuracy.per_class[name]
      lines.append(f'  {name}: {_format_accuracy(value)} ({count} examples)')
    missing = [name for name in class_names if name not in accuracy.per_class]
    if missing:
      lines.append(f'  not in the eval split: {", ".join(missing)}')

  blessing = latest('ModelBlessing')
  if blessing is not None and evaluation is not None:
    threshold = _accuracy_threshold(evaluation.uri)
    bound = ('' if threshold is None else
             f' (needs accuracy >= {threshold:g} overall)')
    if _int_property(blessing, 'blessed'):
      lines.append(f'Blessed: yes{bound}')
    else:
      lines.append(f'Blessed: NO{bound}')
      lines += [f'  failed on {failure}'
                for failure in _validation_failures(evaluation.uri)]
      guard_reason = blessing.custom_properties.get('guard_reason')
      if guard_reason is not None:  # pipelines/eval_guard.py refused it.
        lines.append(f'  {guard_reason.string_value}')

  pushed = latest('PushedModel')
  if pushed is not None and _int_property(pushed, 'pushed'):
    destination = pushed.custom_properties['pushed_destination'].string_value
    lines.append(f'Pushed to: {destination}')
  else:
    lines.append('Not pushed (the model was not blessed).')

  lines.append('Artifacts:')
  model = latest('Model')
  for name, artifact in (('examples', examples), ('model', model),
                         ('evaluation', evaluation), ('blessing', blessing)):
    if artifact is not None:
      lines.append(f'  {name}: {artifact.uri}')
  lines.append(f'  ingest report: {report_path}')
  lines.append(f'  metadata: {metadata_path}')
  return lines
