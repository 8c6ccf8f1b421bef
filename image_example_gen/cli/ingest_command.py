"""`image-example-gen ingest`: the ingest engine, without a pipeline.

Runs `beam.engine.run_ingest`, what the component's executor runs, into the
folder `--out`, with no ML Metadata. It writes what the component writes
(core.artifact):

```
DIR/
  Split-train/data_tfrecord-00000-of-00001     (`.gz` with --compression gzip)
  Split-eval/...
  ingest_report.json, skipped.jsonl, labels.txt
```

and prints the report's summary. The options are the component's: one flag
per IngestConfig field (config_flags), `--input-split` for its input_config
and `--split` for its output_config (split_flags: by default one split of
every class folder, hashed train:eval 2:1, exactly as the component's
defaults), `--beam-pipeline-args` for Beam (beam_args).

The command line, DATA_ROOT and --out are checked before Beam loads, so that
their errors come at once.

The staging folder (the file manifest, the workers' progress files) is a
new folder under `--temp_location` when the Beam options give one (it must
be on storage every worker reads: a shared folder, or gs:// on Dataflow),
else a local temporary folder, removed at the end.
"""

import argparse
import contextlib
import glob
import logging
import os
import sys
from typing import Callable, Dict, Iterator, List, Optional, Sequence

from image_example_gen.core import artifact
from image_example_gen.cli import beam_args
from image_example_gen.cli import config_flags
from image_example_gen.cli import errors
from image_example_gen.cli import logs
from image_example_gen.cli import progress_bar
from image_example_gen.cli import split_flags

__all__ = ['DATA_ROOT', 'add_arguments', 'parse_input_splits', 'run']

# How errors name the data folder: the positional argument.
DATA_ROOT = 'DATA_ROOT'


def add_arguments(parser: argparse.ArgumentParser) -> None:
  """Adds the command's arguments; `--beam-pipeline-args` comes last."""
  parser.add_argument(
      'data_root', metavar=DATA_ROOT,
      help='folder of <class>/<image> (or of <split>/<class>/<image>, with '
      '--input-split)')
  parser.add_argument(
      '--out', required=True, metavar='DIR',
      help='output folder: Split-<name>/ TFRecord shards and '
      f'{artifact.REPORT_FILE_NAME}')
  parser.add_argument(
      '--overwrite', action='store_true',
      help=f'replace the Split-* folders and {artifact.REPORT_FILE_NAME} '
      'DIR holds already (refused otherwise)')
  split_flags.add_split_arguments(parser, DATA_ROOT)
  config_flags.add_config_arguments(parser)
  beam_args.add_argument(parser)


def run(args: argparse.Namespace) -> List[str]:
  """Ingests DATA_ROOT into --out; returns the summary lines to print.

  Raises:
    errors.UsageError: A refused option value, --input-split, --split or
      Beam option.
    errors.CommandError: DATA_ROOT missing or empty, a pattern matching no
      file, or --out holds splits already.
    ValueError: From the engine: no usable image, too many bad files
      (engine.IngestError), or a bad file with --on-bad-image fail
      (transform.BadFileError).
  """
  config = config_flags.config_from_args(args)
  input_splits = parse_input_splits(args.input_split)
  split_flags.check_splits(input_splits, args.split)
  data_root, out_dir = _absolute(args.data_root), _absolute(args.out)
  # Fail before Beam loads when we can.
  split_flags.check_data_root(data_root, input_splits, DATA_ROOT)
  if not _is_uri(out_dir):
    _check_out_dir(out_dir, args.overwrite, glob.glob)
  split_flags.check_split_folders(data_root, input_splits, args.split,
                                  DATA_ROOT)
  if args.beam_pipeline_args:
    beam_args.check(args.beam_pipeline_args)

  # pylint: disable=g-import-not-at-top
  from image_example_gen.beam import engine
  from image_example_gen.beam import transform
  from image_example_gen.core import discovery
  from image_example_gen.core import files
  # pylint: enable=g-import-not-at-top

  if _is_uri(out_dir):
    _check_out_dir(out_dir, args.overwrite, files.glob)
  if args.overwrite:
    artifact.remove_artifact_files(out_dir)
  files.makedirs(out_dir)
  input_splits = tuple(
      discovery.InputSplit(name, pattern)
      for name, pattern in input_splits.items()) or engine.DEFAULT_INPUT_SPLITS
  # () takes the engine's default for the input splits (TFX's).
  output_splits = tuple(transform.HashBucketSplit(name, weight)
                        for name, weight in args.split or ())
  with _progress_display() as progress_callback:
    report = engine.run_ingest(
        data_root, out_dir, input_splits=input_splits,
        output_splits=output_splits, config=config,
        beam_pipeline_args=list(args.beam_pipeline_args),
        progress_callback=progress_callback)
  split_folders = ', '.join(
      f'{artifact.SPLIT_PREFIX}{name}' for name in report.examples)
  return report.summary_lines() + [
      f'Wrote {split_folders} and {artifact.REPORT_FILE_NAME} to {out_dir}']


def parse_input_splits(items: Sequence[str]) -> Dict[str, str]:
  """{name: pattern} of NAME=PATTERN items, in order.

  Raises:
    errors.UsageError: A malformed or repeated item, or a {SPAN}-style
      placeholder, which only the component's driver resolves.
  """
  return split_flags.parse_input_splits(items)


def _is_uri(path: str) -> bool:
  return '://' in path


def _absolute(path: str) -> str:
  return path if _is_uri(path) else os.path.abspath(path)


def _check_out_dir(out_dir: str, overwrite: bool,
                   glob_fn: Callable[[str], List[str]]) -> None:
  if not _is_uri(out_dir) and os.path.exists(out_dir) and not os.path.isdir(
      out_dir):
    raise errors.CommandError(f'--out {out_dir} is a file, not a folder')
  existing = sorted(os.path.basename(path.rstrip('/')) for path in glob_fn(
      os.path.join(out_dir, artifact.SPLIT_PREFIX + '*')))
  if existing and not overwrite:
    raise errors.CommandError(
        f'{out_dir} already holds {", ".join(existing)}; pass --overwrite to '
        'replace them, or choose another --out')


@contextlib.contextmanager
def _progress_display() -> Iterator[Optional[Callable]]:
  """A progress bar on a terminal (yields its callback); else None, and the
  engine's progress lines are logged."""
  if not (sys.stderr.isatty() and progress_bar.available()):
    yield None
    return
  progress_logger = logging.getLogger(logs.PROGRESS_LOGGER)
  level = progress_logger.level
  progress_logger.setLevel(logging.WARNING)  # The bar replaces the lines.
  try:
    with progress_bar.ProgressBar() as bar:
      yield bar
  finally:
    progress_logger.setLevel(level)
