"""Sample pipeline that trains: ingest, validate, train, evaluate, push.

    ImageExampleGen -> ImageStatisticsGen -> SchemaGen -> ExampleValidator
                    -> Trainer (pipelines/image_trainer.py, a small Keras CNN)
                    -> Evaluator (TFMA: accuracy overall and per class,
                                  blessed when accuracy >= --min-accuracy)
                    -> Pusher (to --serving-model-dir, only if blessed)

Runs locally with LocalDagRunner and SQLite metadata:

    python -m pipelines.train_pipeline                     # on testdata/images
    python -m pipelines.train_pipeline --data-root /data/flowers \
        --pipeline-root /tmp/tfx --metadata-path /tmp/tfx/metadata.db \
        --serving-model-dir /tmp/serving --train-steps 500
    python -m pipelines.train_pipeline --beam-pipeline-args \
        --direct_running_mode=multi_processing --direct_num_workers=2

At the end it prints the examples per split, the accuracy overall and per
class, whether the model was blessed, and where it was pushed
(pipelines/train_summary.py).

The Evaluator loads the exported SavedModel as a generic TensorFlow model
(`model_type='tf_generic'`): TFMA 0.47.1's Keras mode loads models with
`tf.keras.models.load_model`, which is Keras 3 in this stack and refuses
SavedModel folders, and the export is a plain `tf.saved_model.save` with a
serialized-Example signature anyway. Pinning the model type keeps the outcome
independent of which Keras `tf.keras` happens to resolve to.
"""

import argparse
import json
import os
import sys
from typing import Dict, List, Optional, Sequence

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx

from image_example_gen import ImageExampleGen
from image_example_gen.core import artifact
from pipelines import command_line
from pipelines import data_validation
from pipelines import train_summary

_HERE = os.path.dirname(os.path.abspath(__file__))
_DEFAULT_OUTPUT = os.path.join(command_line.REPO_ROOT, 'out', 'train')
# The Trainer's module file (run_fn); TFX packages and imports it on its own.
TRAINER_MODULE_FILE = os.path.join(_HERE, 'image_trainer.py')

# Must match image_trainer.PROBABILITIES_OUTPUT (not imported: importing the
# module file would pull Keras into every user of this pipeline definition).
PREDICTION_KEY = 'probabilities'

DEFAULT_TRAIN_STEPS = 100
DEFAULT_MIN_ACCURACY = 0.5


def eval_config(min_accuracy: float) -> tfma.EvalConfig:
  """Accuracy overall and per class; blessed if overall >= min_accuracy.

  The bound applies to the overall slice only (`per_slice_thresholds` of the
  MetricConfig): its plain `threshold` would apply to every slice, each class
  included, and the MetricsSpec's own `per_slice_thresholds` are for metrics
  computed inside the model, so TFMA would report this one as not found.
  """
  overall = tfma.SlicingSpec()
  per_class = tfma.SlicingSpec(feature_keys=[train_summary.CLASS_SLICE_KEY])
  accuracy_bound = tfma.PerSliceMetricThreshold(
      slicing_specs=[overall],
      threshold=tfma.MetricThreshold(
          value_threshold=tfma.GenericValueThreshold(
              lower_bound={'value': min_accuracy})))
  return tfma.EvalConfig(
      model_specs=[
          tfma.ModelSpec(
              signature_name='serving_default',
              model_type=tfma.TF_GENERIC,
              label_key=artifact.LABEL,
              prediction_key=PREDICTION_KEY)
      ],
      slicing_specs=[overall, per_class],
      metrics_specs=[
          tfma.MetricsSpec(metrics=[
              tfma.MetricConfig(class_name='ExampleCount'),
              tfma.MetricConfig(
                  class_name='SparseCategoricalAccuracy',
                  config=json.dumps({'name': train_summary.ACCURACY_METRIC}),
                  per_slice_thresholds=[accuracy_bound]),
          ])
      ])


def create_pipeline(pipeline_name: str,
                    pipeline_root: str,
                    data_root: str,
                    metadata_path: str,
                    serving_model_dir: str,
                    beam_pipeline_args: Optional[List[str]] = None,
                    *,
                    train_steps: int = DEFAULT_TRAIN_STEPS,
                    min_accuracy: float = DEFAULT_MIN_ACCURACY,
                    input_splits: Optional[Dict[str, str]] = None,
                    **ingest_options) -> tfx.dsl.Pipeline:
  """Builds the pipeline.

  Args:
    pipeline_name: Name of the pipeline in the metadata store.
    pipeline_root: Folder for the pipeline's artifacts.
    data_root: Folder of images, `<class>/<image>` (or per `input_splits`).
    metadata_path: SQLite file of the ML Metadata store.
    serving_model_dir: Folder the Pusher copies a blessed model into (as
      `<serving_model_dir>/<version>/`).
    beam_pipeline_args: Beam options for every Beam-based component.
    train_steps: Training steps (batches of image_trainer.BATCH_SIZE), rounded
      up to whole epochs of image_trainer.STEPS_PER_EPOCH.
    min_accuracy: The Evaluator blesses the model, and the Pusher pushes it,
      only if its accuracy on the eval split is at least this.
    input_splits: {split name: pattern under data_root}; None reads every
      class folder of data_root as one split, hashed into train:eval 2:1.
      The Trainer needs a `train` and an `eval` split.
    **ingest_options: ImageExampleGen options (on_bad_image, compression ...).
  """
  example_gen = ImageExampleGen(
      input_base=data_root,
      input_config=command_line.input_config(input_splits), **ingest_options)
  statistics_gen, schema_gen, example_validator = data_validation.components(
      example_gen)
  trainer = tfx.components.Trainer(
      module_file=TRAINER_MODULE_FILE,
      examples=example_gen.outputs['examples'],
      schema=schema_gen.outputs['schema'],
      train_args=tfx.proto.TrainArgs(num_steps=train_steps),
      eval_args=tfx.proto.EvalArgs())  # the whole eval split
  evaluator = tfx.components.Evaluator(
      examples=example_gen.outputs['examples'],
      model=trainer.outputs['model'],
      schema=schema_gen.outputs['schema'],
      eval_config=eval_config(min_accuracy))
  pusher = tfx.components.Pusher(
      model=trainer.outputs['model'],
      model_blessing=evaluator.outputs['blessing'],
      push_destination=tfx.proto.PushDestination(
          filesystem=tfx.proto.PushDestination.Filesystem(
              base_directory=serving_model_dir)))
  return tfx.dsl.Pipeline(
      pipeline_name=pipeline_name,
      pipeline_root=pipeline_root,
      components=[
          example_gen, statistics_gen, schema_gen, example_validator, trainer,
          evaluator, pusher
      ],
      metadata_connection_config=(
          tfx.orchestration.metadata.sqlite_metadata_connection_config(
              metadata_path)),
      beam_pipeline_args=beam_pipeline_args or [])


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      prog='python -m pipelines.train_pipeline',
      description='Ingest an image folder, train a classifier on it, evaluate '
      'it and push it if it is good enough.')
  command_line.add_common_arguments(parser, _DEFAULT_OUTPUT,
                                    'image_train_pipeline')
  parser.add_argument('--serving-model-dir',
                      default=os.path.join(_DEFAULT_OUTPUT, 'serving_model'),
                      help='where a blessed model is pushed (default: '
                      '%(default)s)')
  parser.add_argument('--train-steps', type=int, default=DEFAULT_TRAIN_STEPS,
                      help='training steps (default: %(default)s)')
  parser.add_argument('--min-accuracy', type=float,
                      default=DEFAULT_MIN_ACCURACY,
                      help='eval accuracy needed to bless and push the model '
                      '(default: %(default)s)')
  command_line.add_beam_arguments(parser)
  args = parser.parse_args(argv)
  if args.train_steps < 1:
    parser.error(f'--train-steps {args.train_steps}: must be at least 1')
  if not 0 <= args.min_accuracy <= 1:
    parser.error(f'--min-accuracy {args.min_accuracy}: must be in [0, 1]')
  args.input_splits = command_line.parse_input_splits(parser, args.input_split)
  return args


def main(argv: Sequence[str]) -> int:
  args = _parse_args(argv)
  pipeline = create_pipeline(
      args.pipeline_name, args.pipeline_root, args.data_root,
      args.metadata_path, args.serving_model_dir, args.beam_pipeline_args,
      train_steps=args.train_steps, min_accuracy=args.min_accuracy,
      input_splits=args.input_splits)
  command_line.run_and_summarize(pipeline, args.metadata_path,
                                 train_summary.summarize)
  return 0


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
