"""Runs one ingest way as a TFX pipeline; the benchmark starts it as a child.

    python -m benchmarks.run_way --way image_example_gen \
        --input-base DATA/images --work-dir DIR --workers 2 --result OUT.json

The pipeline root (`DIR/pipeline_root`) and SQLite metadata live in the work
folder. OUT.json receives the timings measured here (`pack_seconds` for
two_step, `run_seconds` of LocalDagRunner.run) and `cpu_seconds`: user+system
CPU of this process and all its descendants (the Beam workers) from just before
the work to its end, after every descendant has exited and been reaped.
"""

import argparse
import json
import os
import time
from typing import Dict, List, Optional, Sequence

import tensorflow as tf
from tfx import v1 as tfx
from tfx.components.example_gen import component as example_gen_component
from tfx.dsl.components.base import executor_spec

from benchmarks import measure
from benchmarks import obvious_executor
from benchmarks import ways
from image_example_gen import ImageExampleGen

_DESCENDANTS_EXIT_TIMEOUT_S = 60


def _run_pipeline(components: List, work_dir: str,
                  beam_args: List[str]) -> float:
  """Runs the components with LocalDagRunner; returns the run's seconds."""
  pipeline = tfx.dsl.Pipeline(
      pipeline_name='ingest_benchmark',
      pipeline_root=os.path.join(work_dir, 'pipeline_root'),
      components=components,
      metadata_connection_config=(
          tfx.orchestration.metadata.sqlite_metadata_connection_config(
              os.path.join(work_dir, 'metadata.db'))),
      beam_pipeline_args=beam_args)
  start = time.perf_counter()
  tfx.orchestration.LocalDagRunner().run(pipeline)
  return time.perf_counter() - start


def _pack_images(input_base: str, output_path: str) -> None:
  """What a typical user script does: one gzip TFRecord file of Examples."""
  paths = sorted(tf.io.gfile.glob(os.path.join(input_base, '*', '*')))
  class_names = sorted({os.path.basename(os.path.dirname(p)) for p in paths})
  labels = {name: index for index, name in enumerate(class_names)}
  options = tf.io.TFRecordOptions(compression_type='GZIP')
  with tf.io.TFRecordWriter(output_path, options=options) as writer:
    for path in paths:
      with tf.io.gfile.GFile(path, 'rb') as file:
        data = file.read()
      class_name = os.path.basename(os.path.dirname(path))
      example = obvious_executor.image_example(
          data, labels[class_name], f'{class_name}/{os.path.basename(path)}')
      writer.write(example.SerializeToString())


def _run_two_step(way: ways.Way, input_base: str, work_dir: str,
                  beam_args: List[str]) -> Dict[str, float]:
  del way
  packed_dir = os.path.join(work_dir, 'packed')
  os.makedirs(packed_dir)
  start = time.perf_counter()
  _pack_images(input_base, os.path.join(packed_dir, 'data.tfrecord.gz'))
  pack_seconds = time.perf_counter() - start
  run_seconds = _run_pipeline(
      [tfx.components.ImportExampleGen(input_base=packed_dir)], work_dir,
      beam_args)
  return {'pack_seconds': pack_seconds, 'run_seconds': run_seconds}


def _run_obvious_executor(way: ways.Way, input_base: str, work_dir: str,
                          beam_args: List[str]) -> Dict[str, float]:
  del way
  example_gen = example_gen_component.FileBasedExampleGen(
      input_base=input_base,
      input_config=tfx.proto.Input(
          splits=[tfx.proto.Input.Split(name='images', pattern='*/*')]),
      custom_executor_spec=executor_spec.BeamExecutorSpec(
          obvious_executor.Executor))
  return {'run_seconds': _run_pipeline([example_gen], work_dir, beam_args)}


def _run_image_example_gen(way: ways.Way, input_base: str, work_dir: str,
                           beam_args: List[str]) -> Dict[str, float]:
  example_gen = ImageExampleGen(input_base=input_base, **way.ingest_options)
  return {'run_seconds': _run_pipeline([example_gen], work_dir, beam_args)}


_RUNNERS = {
    ways.TWO_STEP: _run_two_step,
    ways.OBVIOUS_EXECUTOR: _run_obvious_executor,
    ways.IMAGE_EXAMPLE_GEN: _run_image_example_gen,
}


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(prog='python -m benchmarks.run_way')
  parser.add_argument('--way', required=True, choices=sorted(ways.WAYS))
  parser.add_argument('--input-base', required=True)
  parser.add_argument('--work-dir', required=True)
  parser.add_argument('--workers', type=int, default=2)
  parser.add_argument('--result', required=True)
  return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = _parse_args(argv)
  way = ways.WAYS[args.way]
  beam_args = ['--direct_running_mode=multi_processing',
               f'--direct_num_workers={args.workers}']
  cpu_before = measure.tree_cpu_seconds()
  timings = _RUNNERS[way.kind](way, args.input_base, args.work_dir, beam_args)
  measure.wait_for_descendants(_DESCENDANTS_EXIT_TIMEOUT_S)
  result = dict(timings, cpu_seconds=measure.tree_cpu_seconds() - cpu_before)
  with open(args.result, 'w', encoding='utf-8') as file:
    json.dump(result, file)


if __name__ == '__main__':
  main()
