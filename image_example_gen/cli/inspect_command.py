"""`image-example-gen inspect`: what an ImageExampleGen output holds.

Hands the work to `image_example_gen.inspection.inspect`, which returns the
summary lines to print and draws its pictures into --out; it raises
`inspection.InspectionError` (a ValueError with a one-line message) for a
missing folder, a folder ImageExampleGen did not write, or an unknown split.
"""

import argparse
from typing import List

__all__ = ['DEFAULT_SAMPLES', 'add_arguments', 'run']

# The default of --samples: inspection.inspect's own default samples_per_class
# (that module loads only when the command runs; a test checks they agree).
DEFAULT_SAMPLES = 8


def add_arguments(parser: argparse.ArgumentParser) -> None:
  parser.add_argument(
      'path', metavar='EXAMPLES_DIR_OR_PIPELINE_ROOT',
      help='an Examples folder written by ImageExampleGen (Split-* folders '
      'and ingest_report.json, e.g. the --out of `ingest`) or a pipeline root '
      'holding ImageExampleGen outputs')
  parser.add_argument(
      '--split', metavar='S',
      help="only this split (the report's skipped files are always shown; "
      'default: every split)')
  parser.add_argument(
      '--out', metavar='DIR',
      help='folder (created if missing) for contact sheets of sample images, '
      'class and size charts, the largest near-duplicate groups side by side '
      '(near_duplicates.png) and an index.html; without it, only the summary '
      'is printed')
  parser.add_argument(
      '--samples', type=_positive_int, default=DEFAULT_SAMPLES, metavar='N',
      help=f'sample images per class on the contact sheets (default: '
      f'{DEFAULT_SAMPLES})')


def run(args: argparse.Namespace) -> List[str]:
  """Inspects args.path; returns the summary lines to print.

  Raises:
    inspection.InspectionError: See the module docstring.
  """
  # Loaded here, so that `--help` and `ingest` do without it.
  from image_example_gen import inspection  # pylint: disable=g-import-not-at-top
  return list(inspection.inspect(args.path, split=args.split,
                                 out_dir=args.out,
                                 samples_per_class=args.samples))


def _positive_int(text: str) -> int:
  try:
    value = int(text)
  except ValueError:
    value = 0
  if value < 1:
    raise argparse.ArgumentTypeError(
        f'expected a whole number of 1 or more, got {text!r}')
  return value
