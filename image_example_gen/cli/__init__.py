"""The `image-example-gen` command (also `python -m image_example_gen`).

```
image-example-gen ingest DATA_ROOT --out DIR [ingest options]
                  [--beam-pipeline-args ARG ...]
image-example-gen inspect EXAMPLES_DIR_OR_PIPELINE_ROOT [--split S]
                  [--out DIR] [--samples N]
image-example-gen --version
```

`ingest` runs the ingest engine (beam.engine.run_ingest) without a pipeline or ML Metadata
(ingest_command); `inspect` describes what an ImageExampleGen output holds
(inspect_command). An error prints one line, `image-example-gen: error:
<message>`, on stderr, in the command's language: the flags, not the
engine's Python keywords, and the files by name (errors, wording). The
command exits with status 2 for a wrong command line (as argparse does) or
1 for a failure. Flags are never abbreviated (parsing). `--verbose` leaves
the libraries' logging and warnings alone (logs); `--debug` also raises the
error with its traceback. Each subcommand imports TensorFlow and TFX only
when it runs, so `--help` stays fast.
"""

import argparse
import sys
from typing import List, Optional, Sequence

from image_example_gen.cli import errors
from image_example_gen.cli import ingest_command
from image_example_gen.cli import inspect_command
from image_example_gen.cli import logs
from image_example_gen.cli import parsing
from image_example_gen.cli import wording

__all__ = ['PROG', 'build_parser', 'main']

PROG = 'image-example-gen'
# The exit status of a command line argparse refuses, and of an interrupt.
_USAGE_STATUS = 2
_FAILURE_STATUS = 1
_INTERRUPTED_STATUS = 130


def build_parser() -> argparse.ArgumentParser:
  """The parser of the command and its subcommands."""
  parser = parsing.Parser(
      prog=PROG,
      description='Ingest image folders into TFRecords of tf.train.Example, '
      'as the ImageExampleGen TFX component does, and inspect the result.',
      epilog=f"Run '{PROG} COMMAND --help' for a command's options.")
  parsing.add_version_argument(parser)
  common = parsing.Parser(add_help=False)
  common.add_argument(
      '--verbose', action='store_true',
      help="show the libraries' logs and warnings (TensorFlow, Beam, absl)")
  common.add_argument(
      '--debug', action='store_true',
      help='on an error, show its traceback; implies --verbose')
  commands = parser.add_subparsers(
      dest='command', metavar='COMMAND', required=True)
  ingest = commands.add_parser(
      'ingest', parents=[common], allow_abbrev=False,
      help='write the Examples of an image folder (no pipeline needed)',
      description='Runs the ingest engine (what the ImageExampleGen component '
      'runs) on DATA_ROOT without a TFX pipeline or ML Metadata, and writes '
      'what the component writes: TFRecord shards in DIR/Split-<name>/, '
      'DIR/ingest_report.json, skipped.jsonl and labels.txt. Then prints the '
      'report.')
  ingest_command.add_arguments(ingest)
  ingest.set_defaults(run=ingest_command.run)
  inspect = commands.add_parser(
      'inspect', parents=[common], allow_abbrev=False,
      help='summarize an ImageExampleGen output and draw samples',
      description='Summarizes the Examples ImageExampleGen wrote (an ingest '
      '--out folder, an Examples artifact, or a pipeline root) and draws '
      'sample images and charts into --out.')
  inspect_command.add_arguments(inspect)
  inspect.set_defaults(run=inspect_command.run)
  return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
  """Runs the command on argv (default: sys.argv[1:]); returns the status."""
  try:
    args = build_parser().parse_args(argv)
  except errors.UsageError as error:
    return _fail(str(error), _USAGE_STATUS)
  except SystemExit as done:  # --help, --version
    return done.code if isinstance(done.code, int) else _FAILURE_STATUS
  with logs.command_logging(args.verbose or args.debug, PROG):
    try:
      lines: List[str] = args.run(args)
    except KeyboardInterrupt:
      if args.debug:
        raise
      return _fail('interrupted', _INTERRUPTED_STATUS)
    except Exception as error:  # pylint: disable=broad-except
      if args.debug:
        raise
      status = (_USAGE_STATUS if isinstance(error, errors.UsageError)
                else _FAILURE_STATUS)
      context = wording.Context(
          data_root=ingest_command.DATA_ROOT,
          skipped_list=errors.skipped_list(error))
      return _fail(errors.describe(error, context), status)
  for line in lines:
    print(line)
  return 0


def _fail(message: str, status: int) -> int:
  print(f'{PROG}: error: {message}', file=sys.stderr)
  return status
