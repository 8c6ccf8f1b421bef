"""What the sample pipelines' command lines and builders share.

Both commands (`python -m pipelines.image_pipeline`, `python -m
pipelines.train_pipeline`) take the `ingest` command's split and ingest
flags (image_example_gen.cli: `--input-split`, `--split`, one flag per
IngestConfig field), and behave as it does:

- flags are never abbreviated, and a wrong command line is one error line
  (status 2); `--version` prints the installed image_example_gen's version;
- the command line and the data root are checked before TFX and TensorFlow
  load (this module imports neither), so that `--help` and those errors are
  immediate;
- the pipeline runs with the libraries' logs and warnings turned down
  (image_example_gen.cli.logs; `--verbose` keeps them), and a failure is one
  line naming the flags and the files (status 1; `--debug` raises it with its
  traceback).
"""

import argparse
import os
import sys
from typing import (TYPE_CHECKING, Callable, Dict, List, Optional, Sequence,
                    Tuple)

from image_example_gen.cli import beam_args
from image_example_gen.cli import config_flags
from image_example_gen.cli import errors
from image_example_gen.cli import logs
from image_example_gen.cli import parsing
from image_example_gen.cli import split_flags
from image_example_gen.cli import wording

if TYPE_CHECKING:  # Loaded when a pipeline is built, not for --help.
  from tfx import v1 as tfx  # pylint: disable=g-import-not-at-top

__all__ = [
    'DATA_ROOT_FLAG', 'REPO_ROOT', 'add_beam_arguments',
    'add_common_arguments', 'input_config', 'main', 'make_parser',
    'output_config', 'parse_args', 'parse_input_splits', 'run_and_summarize',
    'run_command'
]

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# How errors name the data folder.
DATA_ROOT_FLAG = '--data-root'
_USAGE_STATUS = 2
_FAILURE_STATUS = 1
_INTERRUPTED_STATUS = 130


def make_parser(prog: str, description: str) -> argparse.ArgumentParser:
  """A parser without abbreviations, whose errors are one line (parse_args),
  with --version, --verbose and --debug."""
  parser = parsing.Parser(prog=prog, description=description)
  parsing.add_version_argument(parser)
  parser.add_argument(
      '--verbose', action='store_true',
      help="show the libraries' logs and warnings (TensorFlow, Beam, absl, "
      'TFX)')
  parser.add_argument(
      '--debug', action='store_true',
      help='on an error, show its traceback; implies --verbose')
  return parser


def add_common_arguments(parser: argparse.ArgumentParser, output_dir: str,
                         pipeline_name: str) -> None:
  """Adds --data-root, --pipeline-root, --metadata-path, --pipeline-name,
  the split flags (--input-split, --split) and the ingest options (one flag
  per IngestConfig field), with defaults that run on testdata/images into
  output_dir."""
  parser.add_argument(DATA_ROOT_FLAG,
                      default=os.path.join(REPO_ROOT, 'testdata', 'images'),
                      help='folder of <class>/<image> (or of '
                      '<split>/<class>/<image>, with --input-split; default: '
                      '%(default)s)')
  parser.add_argument('--pipeline-root',
                      default=os.path.join(output_dir, 'pipeline_root'),
                      help='artifact folder (default: %(default)s)')
  parser.add_argument('--metadata-path',
                      default=os.path.join(output_dir, 'metadata.db'),
                      help='SQLite metadata file (default: %(default)s)')
  parser.add_argument('--pipeline-name', default=pipeline_name,
                      help='the pipeline name in ML Metadata (default: '
                      '%(default)s)')
  split_flags.add_split_arguments(parser, DATA_ROOT_FLAG)
  config_flags.add_config_arguments(parser)


def add_beam_arguments(parser: argparse.ArgumentParser) -> None:
  """Adds --beam-pipeline-args: everything after it (so it comes last)."""
  beam_args.add_argument(parser)


def parse_args(parser: argparse.ArgumentParser,
               argv: Optional[Sequence[str]],
               check: Optional[Callable[[argparse.Namespace], None]] = None
               ) -> argparse.Namespace:
  """Parses argv, and adds `input_splits` ({name: pattern}) and `config`
  (the IngestConfig of the flags given) to the namespace.

  Args:
    parser: A parser of make_parser, with add_common_arguments.
    argv: The arguments (default: sys.argv[1:]).
    check: Further checks of the command; raises errors.UsageError.

  Raises:
    SystemExit: After --help or --version (status 0), or, with status 2,
      after printing a wrong command line's error as one line.
  """
  try:
    args = parser.parse_args(argv)
    args.input_splits = parse_input_splits(args.input_split)
    split_flags.check_splits(args.input_splits, args.split)
    args.config = config_flags.config_from_args(args)
    if check is not None:
      check(args)
  except errors.UsageError as error:
    print(f'{parser.prog}: error: {error}', file=sys.stderr)
    raise SystemExit(_USAGE_STATUS) from None
  return args


def parse_input_splits(items: Sequence[str]) -> Dict[str, str]:
  """{name: pattern} from NAME=PATTERN items ({SPAN} patterns allowed: the
  component's driver resolves them).

  Raises:
    errors.UsageError: A malformed or repeated item.
  """
  return split_flags.parse_input_splits(items, allow_span=True)


def output_split_names(args: argparse.Namespace) -> List[str]:
  """The output splits the command line asks for: --split's, the input
  splits when several are kept, else the default (train, eval)."""
  if args.split:
    return [name for name, _ in args.split]
  if len(args.input_splits) > 1:
    return list(args.input_splits)
  return [name for name, _ in split_flags.DEFAULT_SPLIT]


def input_config(
    input_splits: Optional[Dict[str, str]]) -> Optional['tfx.proto.Input']:
  """ImageExampleGen's input_config for {name: pattern}; None for none."""
  if not input_splits:
    return None
  from tfx import v1 as tfx  # pylint: disable=g-import-not-at-top,redefined-outer-name
  return tfx.proto.Input(splits=[
      tfx.proto.Input.Split(name=name, pattern=pattern)
      for name, pattern in input_splits.items()
  ])


def output_config(
    split: Optional[Sequence[Tuple[str, int]]]) -> Optional['tfx.proto.Output']:
  """ImageExampleGen's output_config for --split's [(name, weight)]: hash
  buckets; None (the component's default, train:eval 2:1) for none."""
  if not split:
    return None
  from tfx import v1 as tfx  # pylint: disable=g-import-not-at-top,redefined-outer-name
  return tfx.proto.Output(split_config=tfx.proto.SplitConfig(splits=[
      tfx.proto.SplitConfig.Split(name=name, hash_buckets=weight)
      for name, weight in split
  ]))


def main(prog: str,
         parse: Callable[[Optional[Sequence[str]]], argparse.Namespace],
         run: Callable[[argparse.Namespace], List[str]],
         argv: Optional[Sequence[str]] = None) -> int:
  """A pipeline command's main: parses argv with `parse`, then run_command;
  returns the exit status (argparse's for --help, --version or a wrong
  command line)."""
  try:
    args = parse(argv)
  except SystemExit as done:  # --help, --version, a wrong command line
    return done.code if isinstance(done.code, int) else 2
  return run_command(prog, args, run)


def run_command(prog: str, args: argparse.Namespace,
                run: Callable[[argparse.Namespace], List[str]]) -> int:
  """Checks the data root and Beam options, then runs `run` (which builds
  and runs the pipeline, loading TFX) quietly, and prints the lines it
  returns; returns the exit status.

  An error prints one line, `<prog>: error: <message>`, in flags and file
  names (image_example_gen.cli.errors), unless --debug.
  """
  verbose = args.verbose or args.debug
  with logs.command_logging(verbose, prog):
    try:
      data_root = os.path.abspath(args.data_root) if '://' not in (
          args.data_root) else args.data_root
      split_flags.check_data_root(data_root, args.input_splits,
                                  DATA_ROOT_FLAG)
      split_flags.check_split_folders(data_root, args.input_splits,
                                      args.split, DATA_ROOT_FLAG)
      args.data_root = data_root
      if args.beam_pipeline_args:
        beam_args.check(args.beam_pipeline_args)
      lines = run(args)
    except KeyboardInterrupt:
      if args.debug:
        raise
      return _fail(prog, 'interrupted', _INTERRUPTED_STATUS)
    except Exception as error:  # pylint: disable=broad-except
      if args.debug:
        raise
      status = (_USAGE_STATUS if isinstance(error, errors.UsageError)
                else _FAILURE_STATUS)
      context = wording.Context(data_root=DATA_ROOT_FLAG,
                                skipped_list=errors.skipped_list(error))
      return _fail(prog, errors.describe(error, context), status)
  print('\n'.join(lines))
  return 0


def run_and_summarize(pipeline: 'tfx.dsl.Pipeline', metadata_path: str,
                      summarize: Callable[[str, str], List[str]]
                      ) -> List[str]:
  """Runs the pipeline with LocalDagRunner; returns its summary lines."""
  from tfx import v1 as tfx  # pylint: disable=g-import-not-at-top,redefined-outer-name
  os.makedirs(os.path.dirname(os.path.abspath(metadata_path)), exist_ok=True)
  tfx.orchestration.LocalDagRunner().run(pipeline)
  return summarize(metadata_path, pipeline.pipeline_info.pipeline_name)


def _fail(prog: str, message: str, status: int) -> int:
  print(f'{prog}: error: {message}', file=sys.stderr)
  return status
