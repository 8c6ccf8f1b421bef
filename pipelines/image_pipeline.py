"""Sample pipeline: ImageExampleGen -> ImageStatisticsGen -> SchemaGen -> ExampleValidator.

Runs locally with LocalDagRunner and SQLite metadata:

    python -m pipelines.image_pipeline                       # on testdata/images
    python -m pipelines.image_pipeline --data-root /data/flowers \
        --pipeline-root /tmp/tfx --metadata-path /tmp/tfx/metadata.db
    python -m pipelines.image_pipeline --data-root testdata/presplit \
        --input-split 'train=train/*' --input-split 'eval=eval/*'
    python -m pipelines.image_pipeline --beam-pipeline-args \
        --direct_running_mode=multi_processing --direct_num_workers=2

At the end it prints what was ingested per split and class, the files skipped
and why, the example counts StatisticsGen saw, and where the artifacts are.
"""

import argparse
import os
import sys
from typing import Dict, List, Optional, Sequence

from tfx import v1 as tfx

from image_example_gen import ImageExampleGen
from pipelines import data_validation
from pipelines import run_summary

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_DEFAULT_OUTPUT = os.path.join(_REPO_ROOT, 'out')


def create_pipeline(pipeline_name: str,
                    pipeline_root: str,
                    data_root: str,
                    metadata_path: str,
                    beam_pipeline_args: Optional[List[str]] = None,
                    *,
                    input_splits: Optional[Dict[str, str]] = None,
                    **ingest_options) -> tfx.dsl.Pipeline:
  """Builds the pipeline.

  Args:
    pipeline_name: Name of the pipeline in the metadata store.
    pipeline_root: Folder for the pipeline's artifacts.
    data_root: Folder of images, `<class>/<image>` (or per `input_splits`).
    metadata_path: SQLite file of the ML Metadata store.
    beam_pipeline_args: Beam options for every Beam-based component.
    input_splits: {split name: pattern under data_root}; None reads every
      class folder of data_root as one split, hashed into train:eval 2:1.
    **ingest_options: ImageExampleGen options (on_bad_image, compression ...).
  """
  input_config = None
  if input_splits:
    input_config = tfx.proto.Input(splits=[
        tfx.proto.Input.Split(name=name, pattern=pattern)
        for name, pattern in input_splits.items()
    ])
  example_gen = ImageExampleGen(
      input_base=data_root, input_config=input_config, **ingest_options)
  statistics_gen, schema_gen, example_validator = data_validation.components(
      example_gen)
  return tfx.dsl.Pipeline(
      pipeline_name=pipeline_name,
      pipeline_root=pipeline_root,
      components=[example_gen, statistics_gen, schema_gen, example_validator],
      metadata_connection_config=(
          tfx.orchestration.metadata.sqlite_metadata_connection_config(
              metadata_path)),
      beam_pipeline_args=beam_pipeline_args or [])


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      prog='python -m pipelines.image_pipeline',
      description='Ingest an image folder and compute its statistics.')
  parser.add_argument('--data-root',
                      default=os.path.join(_REPO_ROOT, 'testdata', 'images'),
                      help='folder of <class>/<image> (default: %(default)s)')
  parser.add_argument('--pipeline-root',
                      default=os.path.join(_DEFAULT_OUTPUT, 'pipeline_root'),
                      help='artifact folder (default: %(default)s)')
  parser.add_argument('--metadata-path',
                      default=os.path.join(_DEFAULT_OUTPUT, 'metadata.db'),
                      help='SQLite metadata file (default: %(default)s)')
  parser.add_argument('--pipeline-name', default='image_pipeline')
  parser.add_argument('--input-split', action='append', default=[],
                      metavar='NAME=PATTERN',
                      help="an input split, e.g. 'train=train/*' (repeatable)")
  parser.add_argument('--on-bad-image', choices=('skip', 'fail'),
                      default='skip')
  parser.add_argument('--compression', choices=('none', 'gzip'),
                      default='none')
  parser.add_argument('--beam-pipeline-args', nargs=argparse.REMAINDER,
                      default=[],
                      help='Beam options; everything after this flag')
  args = parser.parse_args(argv)
  splits = {}
  for item in args.input_split:
    name, separator, pattern = item.partition('=')
    if not separator or not name or not pattern:
      parser.error(f'--input-split {item!r}: expected NAME=PATTERN')
    splits[name] = pattern
  args.input_splits = splits
  return args


def main(argv: Sequence[str]) -> int:
  args = _parse_args(argv)
  os.makedirs(os.path.dirname(os.path.abspath(args.metadata_path)),
              exist_ok=True)
  pipeline = create_pipeline(
      args.pipeline_name, args.pipeline_root, args.data_root,
      args.metadata_path, args.beam_pipeline_args,
      input_splits=args.input_splits, on_bad_image=args.on_bad_image,
      compression=args.compression)
  tfx.orchestration.LocalDagRunner().run(pipeline)
  print('\n'.join(run_summary.summarize(args.metadata_path,
                                        args.pipeline_name)))
  return 0


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
