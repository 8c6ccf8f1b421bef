"""What the sample pipelines' command lines and builders share."""

import argparse
import logging
import os
from typing import Callable, Dict, Iterable, List, Optional

from tfx import v1 as tfx

__all__ = [
    'REPO_ROOT', 'add_beam_arguments', 'add_common_arguments', 'input_config',
    'parse_input_splits', 'run_and_summarize'
]

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add_common_arguments(parser: argparse.ArgumentParser, output_dir: str,
                         pipeline_name: str) -> None:
  """Adds --data-root, --pipeline-root, --metadata-path, --pipeline-name and
  --input-split, with defaults that run on testdata/images into output_dir."""
  parser.add_argument('--data-root',
                      default=os.path.join(REPO_ROOT, 'testdata', 'images'),
                      help='folder of <class>/<image> (default: %(default)s)')
  parser.add_argument('--pipeline-root',
                      default=os.path.join(output_dir, 'pipeline_root'),
                      help='artifact folder (default: %(default)s)')
  parser.add_argument('--metadata-path',
                      default=os.path.join(output_dir, 'metadata.db'),
                      help='SQLite metadata file (default: %(default)s)')
  parser.add_argument('--pipeline-name', default=pipeline_name)
  parser.add_argument('--input-split', action='append', default=[],
                      metavar='NAME=PATTERN',
                      help="an input split, e.g. 'train=train/*' (repeatable)")


def add_beam_arguments(parser: argparse.ArgumentParser) -> None:
  """Adds --beam-pipeline-args: everything after it (so it comes last)."""
  parser.add_argument('--beam-pipeline-args', nargs=argparse.REMAINDER,
                      default=[],
                      help='Beam options; everything after this flag')


def parse_input_splits(parser: argparse.ArgumentParser,
                       items: Iterable[str]) -> Dict[str, str]:
  """{name: pattern} from NAME=PATTERN items; a malformed one is an error."""
  splits = {}
  for item in items:
    name, separator, pattern = item.partition('=')
    if not separator or not name or not pattern:
      parser.error(f'--input-split {item!r}: expected NAME=PATTERN')
    splits[name] = pattern
  return splits


def input_config(
    input_splits: Optional[Dict[str, str]]) -> Optional[tfx.proto.Input]:
  """ImageExampleGen's input_config for {name: pattern}; None for none."""
  if not input_splits:
    return None
  return tfx.proto.Input(splits=[
      tfx.proto.Input.Split(name=name, pattern=pattern)
      for name, pattern in input_splits.items()
  ])


def run_and_summarize(pipeline: tfx.dsl.Pipeline, metadata_path: str,
                      summarize: Callable[[str, str], List[str]]) -> None:
  """Runs the pipeline with LocalDagRunner, then prints its summary.

  ImageExampleGen's progress lines (INFO) are shown, TFX's INFO logs not.
  """
  logging.getLogger('image_example_gen').setLevel(logging.INFO)
  os.makedirs(os.path.dirname(os.path.abspath(metadata_path)), exist_ok=True)
  tfx.orchestration.LocalDagRunner().run(pipeline)
  print('\n'.join(
      summarize(metadata_path, pipeline.pipeline_info.pipeline_name)))
