"""`image-example-gen ingest`: ImageExampleGen's executor, without a pipeline.

Runs `Executor.Do` as TFX's launcher does for the component (see
tests/executor_runner.py), into an Examples artifact whose uri is `--out`,
with a temporary staging folder and no ML Metadata. It writes what the
component writes:

```
DIR/
  Split-train/data_tfrecord-00000-of-00001     (`.gz` with --compression gzip)
  Split-eval/...
  ingest_report.json
```

and prints the report's summary. The options are the component's: one flag
per IngestConfig field (config_flags), `--input-split` for its input_config
(by default one split of every class folder, hashed train:eval 2:1, exactly
as the component's defaults), `--beam-pipeline-args` for Beam (beam_args).

The staging folder (the file manifest, the workers' progress files) is a
local temporary folder, removed at the end: fine for the DirectRunner,
in-process or with worker processes; on runners whose workers run on other
machines (Dataflow), use the component.
"""

import argparse
import contextlib
import glob
import logging
import os
import shutil
import sys
import tempfile
from typing import Callable, Dict, Iterator, List, Sequence

from image_example_gen import ingest_report
from image_example_gen.cli import beam_args
from image_example_gen.cli import config_flags
from image_example_gen.cli import errors
from image_example_gen.cli import logs
from image_example_gen.cli import progress_bar

__all__ = ['add_arguments', 'parse_input_splits', 'run']

_SPLIT_GLOB = 'Split-*'


def add_arguments(parser: argparse.ArgumentParser) -> None:
  """Adds the command's arguments; `--beam-pipeline-args` comes last."""
  parser.add_argument(
      'data_root', metavar='DATA_ROOT',
      help='folder of <class>/<image> (or of <split>/<class>/<image>, with '
      '--input-split)')
  parser.add_argument(
      '--out', required=True, metavar='DIR',
      help='output folder: Split-<name>/ TFRecord shards and '
      f'{ingest_report.REPORT_FILE_NAME}')
  parser.add_argument(
      '--overwrite', action='store_true',
      help=f'replace the Split-* folders and {ingest_report.REPORT_FILE_NAME} '
      'DIR holds already (refused otherwise)')
  parser.add_argument(
      '--input-split', action='append', default=[], metavar='NAME=PATTERN',
      help="an input split, its pattern relative to DATA_ROOT, e.g. "
      "'train=train/*' (repeatable; several are kept as output splits). "
      "Default: every class folder ('*'), hashed into train:eval 2:1")
  config_flags.add_config_arguments(parser)
  beam_args.add_argument(parser)


def run(args: argparse.Namespace) -> List[str]:
  """Ingests DATA_ROOT into --out; returns the summary lines to print.

  Raises:
    errors.UsageError: A refused option value, --input-split or Beam option.
    errors.CommandError: DATA_ROOT missing, or --out holds splits already.
    ValueError: From the executor: no usable image, too many bad files, or
      (transform.BadFileError) a bad file with --on-bad-image fail.
  """
  config = config_flags.config_from_args(args)
  input_splits = parse_input_splits(args.input_split)
  beam_args.check(args.beam_pipeline_args)
  data_root, out_dir = _absolute(args.data_root), _absolute(args.out)
  if not _is_uri(data_root):
    _check_data_root(data_root)
  if not _is_uri(out_dir):  # Fail before TFX loads when we can.
    _check_out_dir(out_dir, args.overwrite, glob.glob)

  # pylint: disable=g-import-not-at-top
  from tfx.components.example_gen import utils
  from tfx.dsl.io import fileio
  from tfx.proto import example_gen_pb2
  from tfx.types import artifact_utils
  from tfx.types import standard_artifacts
  from tfx.types import standard_component_specs
  from tfx.utils import proto_utils
  from image_example_gen import config as config_lib
  from image_example_gen import executor as executor_lib
  # pylint: enable=g-import-not-at-top

  if _is_uri(out_dir):
    _check_out_dir(out_dir, args.overwrite, fileio.glob)
  if args.overwrite:
    _remove_previous_output(out_dir, fileio)
  fileio.makedirs(out_dir)
  if input_splits:
    input_config = example_gen_pb2.Input(splits=[
        example_gen_pb2.Input.Split(name=name, pattern=pattern)
        for name, pattern in input_splits.items()])
  else:
    input_config = utils.make_default_input_config()
  output_config = utils.make_default_output_config(input_config)
  examples = standard_artifacts.Examples()
  examples.uri = out_dir
  staging = tempfile.mkdtemp(prefix='image-example-gen-')
  try:
    executor = executor_lib.Executor(executor_lib.Executor.Context(
        beam_pipeline_args=list(args.beam_pipeline_args), tmp_dir=staging,
        unique_id='ingest'))
    with _progress_display(executor):
      executor.Do({}, {standard_component_specs.EXAMPLES_KEY: [examples]}, {
          standard_component_specs.INPUT_BASE_KEY: data_root,
          standard_component_specs.INPUT_CONFIG_KEY:
              proto_utils.proto_to_json(input_config),
          standard_component_specs.OUTPUT_CONFIG_KEY:
              proto_utils.proto_to_json(output_config),
          config_lib.INGEST_CONFIG_KEY: config.to_json(),
      })
  finally:
    shutil.rmtree(staging, ignore_errors=True)

  with fileio.open(os.path.join(out_dir, ingest_report.REPORT_FILE_NAME),
                   'r') as file:
    report = ingest_report.IngestReport.from_json(file.read())
  split_folders = ', '.join(
      f'Split-{name}'
      for name in artifact_utils.decode_split_names(examples.split_names))
  return report.summary_lines() + [
      f'Wrote {split_folders} and {ingest_report.REPORT_FILE_NAME} to '
      f'{out_dir}']


def parse_input_splits(items: Sequence[str]) -> Dict[str, str]:
  """{name: pattern} of NAME=PATTERN items, in order.

  Raises:
    errors.UsageError: A malformed or repeated item, or a {SPAN}-style
      placeholder, which only the component's driver resolves.
  """
  splits: Dict[str, str] = {}
  for item in items:
    name, separator, pattern = item.partition('=')
    if not separator or not name or not pattern:
      raise errors.UsageError(
          f'argument --input-split: {item!r} is not NAME=PATTERN')
    if name in splits:
      raise errors.UsageError(
          f'argument --input-split: split {name!r} is given twice')
    if '{' in pattern:
      raise errors.UsageError(
          f'argument --input-split: {item!r} has a {{SPAN}}, {{VERSION}} or '
          'date placeholder; only the ImageExampleGen component resolves '
          'those')
    splits[name] = pattern
  return splits


def _is_uri(path: str) -> bool:
  return '://' in path


def _absolute(path: str) -> str:
  return path if _is_uri(path) else os.path.abspath(path)


def _check_data_root(data_root: str) -> None:
  if not os.path.exists(data_root):
    raise errors.CommandError(f'data root {data_root} does not exist')
  if not os.path.isdir(data_root):
    raise errors.CommandError(f'data root {data_root} is not a folder')


def _check_out_dir(out_dir: str, overwrite: bool,
                   glob_fn: Callable[[str], List[str]]) -> None:
  if not _is_uri(out_dir) and os.path.exists(out_dir) and not os.path.isdir(
      out_dir):
    raise errors.CommandError(f'--out {out_dir} is a file, not a folder')
  existing = sorted(os.path.basename(path.rstrip('/'))
                    for path in glob_fn(os.path.join(out_dir, _SPLIT_GLOB)))
  if existing and not overwrite:
    raise errors.CommandError(
        f'{out_dir} already holds {", ".join(existing)}; pass --overwrite to '
        'replace them, or choose another --out')


def _remove_previous_output(out_dir: str, fileio) -> None:
  """Removes the Split-* folders and the report of an earlier ingest."""
  for path in fileio.glob(os.path.join(out_dir, _SPLIT_GLOB)):
    fileio.rmtree(path)
  report = os.path.join(out_dir, ingest_report.REPORT_FILE_NAME)
  if fileio.exists(report):
    fileio.remove(report)


@contextlib.contextmanager
def _progress_display(executor) -> Iterator[None]:
  """A progress bar on a terminal; else the progress lines the executor logs."""
  if not (sys.stderr.isatty() and progress_bar.available()):
    yield
    return
  progress_logger = logging.getLogger(logs.PROGRESS_LOGGER)
  level = progress_logger.level
  progress_logger.setLevel(logging.WARNING)  # The bar replaces the lines.
  try:
    with progress_bar.ProgressBar() as bar:
      executor.progress_callback = bar
      yield
  finally:
    progress_logger.setLevel(level)
