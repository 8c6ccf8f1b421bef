"""Sample pipeline: ImageExampleGen -> ImageStatisticsGen -> SchemaGen -> ExampleValidator.

Runs locally with LocalDagRunner and SQLite metadata:

    python -m pipelines.image_pipeline                       # on testdata/images
    python -m pipelines.image_pipeline --data-root /data/flowers \
        --pipeline-root /tmp/tfx --metadata-path /tmp/tfx/metadata.db
    python -m pipelines.image_pipeline --data-root testdata/presplit \
        --input-split 'train=train/*' --input-split 'eval=eval/*'
    python -m pipelines.image_pipeline --split train=8,eval=2 --no-stratify
    python -m pipelines.image_pipeline --beam-pipeline-args \
        --direct_running_mode=multi_processing --direct_num_workers=2

It takes the split and ingest flags of `image-example-gen ingest`
(pipelines/command_line.py). At the end it prints what was ingested per split
and class, the files skipped and why, the example counts StatisticsGen saw,
and where the artifacts are. TFX and TensorFlow load only once the command
line and the data root are checked, and their logs are turned down
(`--verbose` keeps them).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence

from pipelines import command_line

if TYPE_CHECKING:
  from tfx import v1 as tfx  # pylint: disable=g-import-not-at-top

PROG = 'python -m pipelines.image_pipeline'
_DEFAULT_OUTPUT = os.path.join(command_line.REPO_ROOT, 'out')


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
    **ingest_options: ImageExampleGen options (on_bad_image, compression
      ..., or config=IngestConfig(...)), and its output_config.
  """
  # pylint: disable=g-import-not-at-top
  from tfx import v1 as tfx  # pylint: disable=redefined-outer-name
  from image_example_gen import ImageExampleGen
  from pipelines import data_validation
  # pylint: enable=g-import-not-at-top
  example_gen = ImageExampleGen(
      input_base=data_root,
      input_config=command_line.input_config(input_splits), **ingest_options)
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


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = command_line.make_parser(
      PROG, 'Ingest an image folder and compute its statistics: '
      'ImageExampleGen -> ImageStatisticsGen -> SchemaGen -> '
      'ExampleValidator, under LocalDagRunner.')
  command_line.add_common_arguments(parser, _DEFAULT_OUTPUT, 'image_pipeline')
  command_line.add_beam_arguments(parser)
  return command_line.parse_args(parser, argv)


def _run(args: argparse.Namespace) -> List[str]:
  """Builds and runs the pipeline; returns the summary lines."""
  from pipelines import run_summary  # pylint: disable=g-import-not-at-top
  pipeline = create_pipeline(
      args.pipeline_name, args.pipeline_root, args.data_root,
      args.metadata_path, args.beam_pipeline_args,
      input_splits=args.input_splits,
      output_config=command_line.output_config(args.split),
      config=args.config)
  return command_line.run_and_summarize(pipeline, args.metadata_path,
                                        run_summary.summarize)


def main(argv: Optional[Sequence[str]] = None) -> int:
  """Runs the command; returns the exit status (module docstring)."""
  return command_line.main(PROG, _parse_args, _run, argv)


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
