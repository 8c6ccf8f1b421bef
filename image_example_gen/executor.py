"""The TFX executor of ImageExampleGen.

`Executor.Do` runs one streaming Beam pipeline: list the files of all input
splits (so labels agree across splits), read and encode them on the workers,
and write each output split's shards directly (no `Reshuffle` of the image
bytes as in TFX's `WriteSplit`, so memory stays flat), logging the progress
while it runs. It then writes the ingest report, checks the `max_bad_fraction`
gate, and records totals on the Examples artifact.
"""

import json
import os
from typing import Any, Callable, Dict, List, Optional

from absl import logging
import apache_beam as beam
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.example_gen import utils
from tfx.components.util import examples_utils
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from image_example_gen import config as config_lib
from image_example_gen import discovery
from image_example_gen import ingest_report
from image_example_gen import progress
from image_example_gen import stratify
from image_example_gen import tfrecord_sink
from image_example_gen import transform

__all__ = ['Executor']

# TFX's file name prefix for the shards of a split.
_SHARD_PREFIX = 'data_tfrecord'


@beam.ptransform_fn
def _ImageSplitToRecords(pipeline, exec_properties: Dict[str, Any],
                         split_pattern: str):
  """One input split as serialized Examples, for GenerateExamplesByBeam.

  Labels come from this split's class folders alone; `Executor.Do` instead
  reads all splits at once so that label ids agree across splits.
  """
  config = config_lib.IngestConfig.from_json(
      exec_properties[config_lib.INGEST_CONFIG_KEY])
  outputs = pipeline | transform.ImageFolderToExamples(
      exec_properties[standard_component_specs.INPUT_BASE_KEY],
      input_splits=[discovery.InputSplit('split', split_pattern)],
      config=config)
  return outputs['split']


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
  """Turns image folders into a TFX Examples artifact of tf.train.Examples.

  Attributes:
    progress_callback: Called with each `progress.Snapshot` while the ingest
      runs, besides the progress lines logged every 5 s (the `ingest`
      command sets it to draw a progress bar).
  """

  progress_callback: Optional[Callable[[progress.Snapshot], None]] = None

  def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
    return _ImageSplitToRecords

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    """Ingests the images; see the module docstring.

    Args:
      input_dict: Unused (ExampleGen has no input artifact).
      output_dict: `examples`: the Examples artifact to fill.
      exec_properties: `input_base`, `input_config`, `output_config` (JSON of
        example_gen_pb2 protos), `ingest_config` (IngestConfig JSON) and,
        from the driver, `previous_class_names` (JSON list: the vocabulary
        of the Examples published before, whose label ids stay).

    Raises:
      ValueError: No usable image in a split, or too many bad files.
      transform.BadFileError: A bad file, with on_bad_image='fail'.
    """
    self._log_startup(input_dict, output_dict, exec_properties)
    input_config = example_gen_pb2.Input()
    proto_utils.json_to_proto(
        exec_properties[standard_component_specs.INPUT_CONFIG_KEY],
        input_config)
    output_config = example_gen_pb2.Output()
    proto_utils.json_to_proto(
        exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY],
        output_config)
    config = config_lib.IngestConfig.from_json(
        exec_properties[config_lib.INGEST_CONFIG_KEY])
    input_base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
    examples = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.EXAMPLES_KEY])

    split_names = utils.generate_output_split_names(input_config, output_config)
    examples.split_names = artifact_utils.encode_split_names(split_names)
    output_splits = self._output_splits(output_config, split_names)
    input_splits = [discovery.InputSplit(split.name, split.pattern)
                    for split in input_config.splits]
    staging = os.path.join(self._get_tmp_dir(), 'image_example_gen')
    previous = exec_properties.get(config_lib.PREVIOUS_CLASS_NAMES_KEY)
    found = transform.discover_files(
        input_base, input_splits, config,
        previous_class_names=json.loads(previous) if previous else None)
    assigned_splits = None
    if config.stratify and output_splits.bucket_limits:
      assigned_splits = self._stratified_splits(found, config, output_splits,
                                                os.path.join(staging,
                                                             'stratify'))
    staged = transform.write_manifest(found, staging, assigned_splits)
    class_names = staged.class_names
    gzip_level = (config.gzip_level
                  if config.compression == config_lib.COMPRESSION_GZIP else None)
    pipeline = self._make_beam_pipeline()
    outputs = pipeline | 'EncodeImages' >> transform.EncodeImages(
        staged.batches, config, output_splits)
    for name in split_names:
      split_uri = artifact_utils.get_split_uri([examples], name)
      _ = (outputs[name]
           | f'WriteSplit[{name}]' >> tfrecord_sink.WriteTFRecords(
               os.path.join(split_uri, _SHARD_PREFIX), gzip_level=gzip_level))
    _ = (outputs[transform.SKIPPED_KEY]
         | 'WriteSkipped' >> beam.io.WriteToText(
             os.path.join(staging, 'skipped'), '.jsonl'))
    _ = (outputs[transform.DUPLICATES_KEY]
         | 'WriteDuplicates' >> beam.io.WriteToText(
             os.path.join(staging, 'duplicates'), '.jsonl'))
    _ = (outputs[transform.COUNTS_KEY]
         | 'CountsToJson' >> beam.Map(json.dumps, ensure_ascii=False)
         | 'WriteCounts' >> beam.io.WriteToText(
             os.path.join(staging, 'counts'), '.jsonl'))
    logging.info('Generating examples.')
    try:
      with progress.ProgressMonitor(staged.progress_dir, staged.total_files,
                                    staged.total_bytes,
                                    on_update=self.progress_callback):
        pipeline.run().wait_until_finish()
      report = ingest_report.build_report(
          input_base, class_names, split_names,
          _read_lines(os.path.join(staging, 'skipped*')),
          _read_lines(os.path.join(staging, 'counts*')),
          _read_lines(os.path.join(staging, 'duplicates*')))
      for line in report.summary_lines():
        logging.info('%s', line)
      _check_report(report, config, input_config, output_splits)
    except Exception:
      # A failed ingest leaves no partial split behind.
      for name in split_names:
        split_uri = artifact_utils.get_split_uri([examples], name)
        if fileio.exists(split_uri):
          fileio.rmtree(split_uri)
      raise

    with fileio.open(os.path.join(examples.uri, ingest_report.REPORT_FILE_NAME),
                     'w') as report_file:
      report_file.write(report.to_json())
    if class_names:
      with fileio.open(os.path.join(examples.uri,
                                    ingest_report.LABELS_FILE_NAME),
                       'w') as labels_file:
        labels_file.write(''.join(f'{name}\n' for name in class_names))
    for key, value in report.custom_properties().items():
      examples.set_int_custom_property(key, value)
    examples.set_int_custom_property(ingest_report.MULTI_LABEL_PROPERTY,
                                     int(staged.multi_label))
    examples.set_string_custom_property(ingest_report.CLASS_NAMES_PROPERTY,
                                        json.dumps(list(class_names)))
    examples_utils.set_payload_format(examples,
                                      example_gen_pb2.FORMAT_TF_EXAMPLE)
    # TFX's readers accept only this file format name; they detect the real
    # compression of each file from its name (`*.gz` or not).
    examples_utils.set_file_format(examples, 'tfrecords_gzip')
    logging.info('Examples generated.')

  def _stratified_splits(self, found, config: config_lib.IngestConfig,
                         output_splits: transform.OutputSplits,
                         staging: str) -> Dict[str, str]:
    """{relative path: split} per stratify.py, from a first pass that
    checks every image and takes its content digest (nothing is written)."""
    staged = transform.write_manifest(found, staging)
    pipeline = self._make_beam_pipeline()
    outputs = pipeline | 'EncodeImages' >> transform.EncodeImages(
        staged.batches, config, output_splits)
    _ = (outputs[transform.DIGESTS_KEY]
         | 'DigestsToJson' >> beam.MapTuple(
             lambda digest, image: json.dumps(
                 [image[3], digest, image[0]], ensure_ascii=False))
         | 'WriteDigests' >> beam.io.WriteToText(
             os.path.join(staging, 'digests'), '.jsonl'))
    logging.info('Stratified splits: reading every image once first.')
    with progress.ProgressMonitor(staged.progress_dir, staged.total_files,
                                  staged.total_bytes):
      pipeline.run().wait_until_finish()
    images = [tuple(json.loads(line))
              for line in _read_lines(os.path.join(staging, 'digests*'))]
    return stratify.stratified_assignment(
        images, output_splits.names, output_splits.bucket_limits)

  @staticmethod
  def _output_splits(output_config: example_gen_pb2.Output,
                     split_names: List[str]) -> transform.OutputSplits:
    split_config = output_config.split_config
    if not split_config.splits:
      return transform.OutputSplits(tuple(split_names))
    return transform.OutputSplits.from_hash_buckets(
        [transform.HashBucketSplit(split.name, split.hash_buckets)
         for split in split_config.splits],
        split_config.partition_feature_name)


def _read_lines(pattern: str) -> List[str]:
  lines = []
  for path in sorted(fileio.glob(pattern)):
    with fileio.open(path, 'r') as file:
      lines.extend(line for line in file.read().splitlines() if line)
  return lines


def _check_report(report: ingest_report.IngestReport,
                  config: config_lib.IngestConfig,
                  input_config: example_gen_pb2.Input,
                  output_splits: transform.OutputSplits) -> None:
  """Raises ValueError when the ingest must not be published."""
  per_reason = report.skipped_per_reason
  if report.total_examples == 0:
    raise ValueError(
        f'No usable image under {report.input_base!r} (patterns '
        f'{[split.pattern for split in input_config.splits]}); skipped '
        f'files per reason: {per_reason}. See the log for each file.')
  if output_splits.bucket_limits is None:
    per_split = report.examples_per_split
    for split in input_config.splits:
      if not per_split.get(split.name):
        raise ValueError(
            f'Input pattern {split.pattern!r} of split {split.name!r} matched '
            f'no usable image under {report.input_base!r}.')
  if (config.max_bad_fraction is not None and
      report.bad_fraction > config.max_bad_fraction):
    raise ValueError(
        f'{report.bad_files} of {report.total_examples + report.bad_files} '
        f'files are bad ({report.bad_fraction:.1%}), over max_bad_fraction='
        f'{config.max_bad_fraction}; per reason: {per_reason}. Nothing was '
        'published; fix the files listed in the log or raise the limit.')
