"""The ingest engine: one call runs a whole ingest, whoever asks for it.

`run_ingest` is what every entry point runs: the TFX executor, the
`image-example-gen ingest` command, the tests, the benchmarks and the
pictures script. It

1. plans the work in the launcher (core.plan: list the files, join the
   metadata, fix the vocabulary);
2. writes the file manifest (beam.manifest) and runs one streaming Beam
   pipeline (beam.transform.EncodeImages + beam.sink) that writes each output
   split's shards straight into the artifact, with no shuffle of the image
   bytes, logging the progress while it runs (beam.progress); with
   `stratify=True` (the default) a branch of it deals each class's images
   out to the splits by content first (core.stratify);
3. builds the ingest report, checks the `max_bad_fraction` gate, and writes
   the report and the label map into the artifact (core.artifact), or removes
   the splits it wrote when the ingest must not be published.

It needs neither TFX nor TensorFlow: the executor adds only what is TFX's
(the artifact's MLMD properties and split names).
"""

import dataclasses
import json
import logging
import socket
import tempfile
from typing import Any, Callable, Iterator, List, Optional, Sequence
import uuid

import apache_beam as beam
from apache_beam.options import pipeline_options

from image_example_gen.beam import manifest as manifest_lib
from image_example_gen.beam import progress
from image_example_gen.beam import sink
from image_example_gen.beam import transform
from image_example_gen.core import artifact
from image_example_gen.core import config as config_lib
from image_example_gen.core import discovery
from image_example_gen.core import files
from image_example_gen.core import ingest_report

__all__ = ['DEFAULT_INPUT_SPLITS', 'IngestError', 'default_output_splits',
           'run_ingest']

_LOGGER = logging.getLogger(__name__)
# How long to wait for a portable runner's endpoints to accept a connection.
_CONNECT_TIMEOUT_S = 5.0
# The report's line outputs, all in one text output (_WriteReportLines).
_REPORT_LINES = 'report_lines'

# TFX's default input config: one split of every folder of input_base.
DEFAULT_INPUT_SPLITS = (discovery.InputSplit('single_split', '*'),)


class IngestError(ValueError):
  """An ingest that must not be published: no usable image, too many bad.

  Besides its message, it carries what a caller needs to phrase it in its own
  terms (the command line names its flags and the files):

  Attributes:
    report: The ingest report of the refused run (its counts, and the first
      skipped files of each input split and reason in `report.skipped`); it
      is not written into the artifact.
    option: The IngestConfig field whose limit refused the run
      ('max_bad_fraction'), or None.
    option_value: That option's value.
    input_split: The input split (discovery.InputSplit) that yielded no
      usable image, or None when the whole ingest did.
    output_uri: The artifact folder that was not published.
    skipped_list: Where the engine wrote every skipped file of the refused
      run (`skipped.jsonl` in output_uri), or None: no file was skipped.
  """

  def __init__(self, message: str, *,
               report: Optional[ingest_report.IngestReport] = None,
               option: Optional[str] = None,
               option_value: Any = None,
               input_split: Optional[discovery.InputSplit] = None,
               output_uri: Optional[str] = None,
               skipped_list: Optional[str] = None):
    super().__init__(message)
    self.report = report
    self.option = option
    self.option_value = option_value
    self.input_split = input_split
    self.output_uri = output_uri
    self.skipped_list = skipped_list


def default_output_splits(
    input_splits: Sequence[discovery.InputSplit]
) -> Optional[List[transform.HashBucketSplit]]:
  """TFX's default output config: one input split is hashed into train:eval
  2:1; several input splits are kept (None)."""
  if len(input_splits) == 1:
    return [transform.HashBucketSplit('train', 2),
            transform.HashBucketSplit('eval', 1)]
  return None


def run_ingest(
    input_base: str,
    output_uri: str,
    *,
    input_splits: Sequence[discovery.InputSplit] = DEFAULT_INPUT_SPLITS,
    output_splits: Optional[Sequence[transform.HashBucketSplit]] = (),
    partition_feature_name: Optional[str] = None,
    config: config_lib.IngestConfig = config_lib.IngestConfig(),
    previous_class_names: Optional[Sequence[str]] = None,
    beam_pipeline_args: Sequence[str] = (),
    make_pipeline: Optional[Callable[[], beam.Pipeline]] = None,
    staging_dir: Optional[str] = None,
    progress_callback: Optional[Callable[[progress.Snapshot], None]] = None,
) -> ingest_report.IngestReport:
  """Ingests the images under input_base into an Examples artifact folder.

  Args:
    input_base: The folder (local path or URI) holding the images.
    output_uri: The artifact folder: `Split-<name>/` shards, the report and
      the label map are written there (core.artifact).
    input_splits: Input splits and their patterns, relative to input_base.
    output_splits: Hash-bucket output splits; () (the default) takes
      TFX's default for the input splits (default_output_splits); None keeps
      the input splits.
    partition_feature_name: The feature whose value chooses the bucket.
    config: Every ingest option.
    previous_class_names: The vocabulary of the Examples published before
      (an earlier span); its classes keep their label ids.
    beam_pipeline_args: Beam options, when make_pipeline is not given.
    make_pipeline: Builds a new Beam pipeline (the TFX executor passes its
      own, which applies TFX's Beam options); called once per pass.
    staging_dir: Where the manifest and the workers' progress files go: a
      folder every worker can read. Default: a new folder under the
      pipeline's --temp_location if set (kept, as Beam keeps its temp
      files there), else a local temporary folder, removed at the end.
    progress_callback: Called with each progress.Snapshot while it runs.

  Returns:
    The ingest report, as written into the artifact.

  Raises:
    IngestError: No usable image in a split, or too many bad files.
    transform.BadFileError: A bad file, with on_bad_image='fail'.
    ValueError: Input that cannot be planned (core.plan).
  """
  input_splits = tuple(input_splits)
  if input_splits == DEFAULT_INPUT_SPLITS:
    found_splits = _split_folders_as_splits(input_base)
    if found_splits:
      input_splits, output_splits = found_splits, None
  if output_splits == ():  # pylint: disable=g-explicit-bool-comparison
    output_splits = default_output_splits(input_splits)
  splits = transform.OutputSplits.for_splits(input_splits, output_splits,
                                             partition_feature_name)
  if make_pipeline is None:
    options = pipeline_options.PipelineOptions(list(beam_pipeline_args))
    make_pipeline = lambda: beam.Pipeline(options=options)
    temp_location = options.view_as(
        pipeline_options.GoogleCloudOptions).temp_location
  else:
    temp_location = None
  remove_staging = staging_dir is None and not temp_location
  if staging_dir is None:
    staging_dir = (files.join(temp_location,
                              f'image_example_gen-{uuid.uuid4().hex}')
                   if temp_location else
                   tempfile.mkdtemp(prefix='image_example_gen-'))
  try:
    return _Ingest(input_base, output_uri, input_splits, splits, config,
                   make_pipeline, staging_dir,
                   progress_callback).run(previous_class_names)
  finally:
    if remove_staging:
      files.remove(staging_dir)


def _split_folders_as_splits(
    input_base: str) -> Optional[Sequence[discovery.InputSplit]]:
  """With no split given: a top level of split-named folders (train, eval,
  test ...) as input splits, kept as output splits; else None, with a warning
  when some top-level folders look like splits and others do not."""
  splits, others = discovery.split_folders(input_base)
  if not splits:
    return None
  if others:
    _LOGGER.warning(
        'Folders %s under %s are named like splits, but %s are not: reading '
        'every top-level folder as a class. To read splits, give them '
        '(--input-split train=train/* ...).', ', '.join(splits), input_base,
        ', '.join(others))
    return None
  _LOGGER.info('Found split folders %s under %s: reading them as splits, '
               'kept as output splits.', ', '.join(splits), input_base)
  return tuple(discovery.InputSplit(name, f'{name}/*') for name in splits)


@dataclasses.dataclass
class _Ingest:
  """One ingest's fixed inputs; `run` does the steps of the module doc."""
  input_base: str
  output_uri: str
  input_splits: Sequence[discovery.InputSplit]
  splits: transform.OutputSplits
  config: config_lib.IngestConfig
  make_pipeline: Callable[[], beam.Pipeline]
  staging_dir: str
  progress_callback: Optional[Callable[[progress.Snapshot], None]]

  def run(self, previous_class_names) -> ingest_report.IngestReport:
    staged = manifest_lib.plan_and_stage(
        self.input_base, self.input_splits, self.config, previous_class_names,
        self.staging_dir)
    outputs_dir = files.join(self.staging_dir, 'outputs')
    pipeline = self.make_pipeline()
    check_endpoints(pipeline.options)
    # Lists of records, one Beam element per batch of files and split.
    outputs = pipeline | 'EncodeImages' >> transform.EncodeImages(
        staged.batches, self.config, self.splits, self.staging_dir,
        record_lists=True)
    gzip_level = (self.config.gzip_level
                  if self.config.compression == config_lib.COMPRESSION_GZIP
                  else None)
    for name in self.splits.names:
      _ = (outputs[name]
           | f'WriteSplit[{name}]' >> sink.WriteTFRecords(
               artifact.shard_prefix(self.output_uri, name),
               gzip_level=gzip_level, record_lists=True))
    _ = (outputs | 'WriteReportLines' >> _WriteReportLines(
        files.join(outputs_dir, _REPORT_LINES), self.config.near_duplicates))
    _LOGGER.info('Reading %d files (%.1f MB) from %s', staged.total_files,
                 staged.total_bytes / 1e6, self.input_base)
    # The whole group lists, in order, until they are copied into the artifact.
    lists_dir = tempfile.TemporaryDirectory(prefix='image_example_gen-lists-')
    try:
      with progress.ProgressMonitor(staged.progress_dir, staged.total_files,
                                    staged.total_bytes,
                                    on_update=self.progress_callback):
        pipeline.run().wait_until_finish()
      report_lines = files.join(outputs_dir, _REPORT_LINES + '*')
      report = ingest_report.build_report(
          self.input_base, staged.class_names, self.splits.names,
          _read_report_lines(report_lines, 'skipped'),
          _read_report_lines(report_lines, 'counts'),
          _read_report_lines(report_lines, 'duplicates'),
          multi_label=staged.multi_label,
          prepared_lines=_read_report_lines(report_lines, 'prepared'),
          near_duplicate_lines=(
              _read_report_lines(report_lines, 'near_duplicates')
              if self.config.near_duplicates else None),
          near_duplicate_threshold=self.config.near_duplicate_threshold,
          lists_dir=lists_dir.name)
      for line in report.summary_lines():
        _LOGGER.info('%s', line)
      self._check(report)
      artifact.write_artifact_files(self.output_uri, report, lists_dir.name)
    except Exception as error:
      # A failed ingest leaves no partial split behind; a refused one leaves
      # its full skip list, which the report holds only the first of.
      for name in self.splits.names:
        files.remove(artifact.split_dir(self.output_uri, name))
      if (isinstance(error, IngestError) and error.report is not None and
          error.report.total_skipped):
        error.skipped_list = artifact.write_list(
            self.output_uri, artifact.SKIPPED_FILE_NAME, (), lists_dir.name)
      raise
    finally:
      lists_dir.cleanup()
    return report

  def _check(self, report: ingest_report.IngestReport) -> None:
    """Raises IngestError when the ingest must not be published."""
    per_reason = report.skipped_per_reason
    if report.total_examples == 0:
      raise IngestError(
          f'No usable image under {report.input_base!r} (patterns '
          f'{[split.pattern for split in self.input_splits]}); skipped '
          f'files per reason: {per_reason}. See the log for each file.',
          report=report, output_uri=self.output_uri)
    if self.splits.bucket_limits is None:
      per_split = report.examples_per_split
      for split in self.input_splits:
        if not per_split.get(split.name):
          raise IngestError(
              f'Input pattern {split.pattern!r} of split {split.name!r} '
              f'matched no usable image under {report.input_base!r}.',
              report=report, input_split=split, output_uri=self.output_uri)
    limit = self.config.max_bad_fraction
    if limit is not None and report.bad_fraction > limit:
      raise IngestError(
          f'{report.bad_files} of {report.total_examples + report.bad_files} '
          f'files are bad ({report.bad_fraction:.1%}), over max_bad_fraction='
          f'{limit}; per reason: {per_reason}. Nothing was published; fix the '
          'files listed in the log or raise the limit.',
          report=report, option='max_bad_fraction', option_value=limit,
          output_uri=self.output_uri)


def check_endpoints(options: pipeline_options.PipelineOptions) -> None:
  """Fails fast, naming the address, when a portable runner's job server or
  external SDK worker pool does not answer (Beam itself waits a minute and
  then reports a bare timeout).

  Raises:
    IngestError: Nothing listens at --job_endpoint or, for
      --environment_type=EXTERNAL, at --environment_config.
  """
  portable = options.view_as(pipeline_options.PortableOptions)
  addresses = []
  if portable.job_endpoint and portable.job_endpoint != 'embed':
    addresses.append(('Beam job server', '--job_endpoint',
                      portable.job_endpoint))
  if (portable.environment_type or '').upper() == 'EXTERNAL' and (
      portable.environment_config):
    addresses.append(('SDK worker pool', '--environment_config',
                      portable.environment_config))
  for what, flag, address in addresses:
    host, _, port = address.rpartition(':')
    try:
      with socket.create_connection((host or 'localhost', int(port)),
                                    timeout=_CONNECT_TIMEOUT_S):
        pass
    except (OSError, ValueError):
      raise IngestError(
          f'No {what} answers at {address} ({flag}). Start the cluster '
          'first (`make flink-up` or `make spark-up` prints the arguments '
          'to pass), or fix the address.') from None


class _WriteReportLines(beam.PTransform):
  """The report's five line outputs of EncodeImages, written as ONE text
  output, each line its kind, a tab and its JSON (`_read_report_lines`
  sorts them out).

  One write, not five: every Beam write is twelve transforms (initialize,
  write, group, pre-finalize, finalize...), each pickled when the pipeline
  is built and set up by the runner in every worker. Five writes made 168
  leaf transforms of the pipeline, one makes 124; the ingest of
  testdata/images took 2.75 -> 2.00 s in-process, 6.98 -> 6.24 s with 2
  workers (medians of 6 alternating runs: `python -m
  benchmarks.small_ingest --code-dirs OLD NEW --rounds 6 [--workers 2]`).
  """

  def __init__(self, path_prefix: str, near_duplicates: bool):
    super().__init__()
    self._path_prefix = path_prefix
    self._near_duplicates = near_duplicates

  def expand(self, outputs):
    kinds = [(transform.SKIPPED_KEY, 'skipped', False),
             (transform.DUPLICATES_KEY, 'duplicates', False),
             (transform.COUNTS_KEY, 'counts', True),
             (transform.PREPARED_KEY, 'prepared', True)]
    if self._near_duplicates:
      kinds.append((transform.NEAR_DUPLICATES_KEY, 'near_duplicates', False))
    tagged = [
        outputs[key] | f'Tag[{kind}]' >> beam.Map(_tag_line, kind, to_json)
        for key, kind, to_json in kinds
    ]
    return (tagged | 'Flatten' >> beam.Flatten()
            | 'Write' >> beam.io.WriteToText(self._path_prefix, '.txt'))


def _tag_line(value: Any, kind: str, to_json: bool) -> str:
  """The kind, a tab and the value: a JSON line, or made one (to_json)."""
  text = json.dumps(value, ensure_ascii=False) if to_json else value
  return f'{kind}\t{text}'


def _read_report_lines(pattern: str, kind: str) -> Iterator[str]:
  """The JSON lines of one kind in the report-line files matching `pattern`,
  one at a time: the report is built as they are read, so that the text of
  every group line is not held beside the groups parsed from it."""
  prefix = kind + '\t'
  for path in files.glob(pattern):
    yield from (line[len(prefix):] for line in files.read_lines(path)
                if line.startswith(prefix))
