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
    python -m pipelines.train_pipeline --split train=8,eval=2
    python -m pipelines.train_pipeline --beam-pipeline-args \
        --direct_running_mode=multi_processing --direct_num_workers=2

It takes the split and ingest flags of `image-example-gen ingest`
(pipelines/command_line.py); the output splits must include `train` and
`eval`. TFX, TFMA and TensorFlow load only once the command line and the data
root are checked, and their logs are turned down (`--verbose` keeps them).
Under LocalDagRunner the Trainer runs in this process and imports its module
file directly, so the command does not have TFX build and pip-install a wheel
of pipelines/ for it (TFX's UNSUPPORTED_DO_NOT_PACKAGE_USER_MODULES), which
took seconds and printed ~50 lines of setuptools and pip output.

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

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import sys
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Sequence

from image_example_gen.core import artifact
from pipelines import command_line

# TFX, TFMA (TensorFlow) and the modules that import them load when a pipeline
# is built (eval_config, create_pipeline), not for `--help`.
if TYPE_CHECKING:
  # pylint: disable=g-import-not-at-top
  import tensorflow_model_analysis as tfma
  from tfx import v1 as tfx
  # pylint: enable=g-import-not-at-top

PROG = 'python -m pipelines.train_pipeline'

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
  # pylint: disable-next=g-import-not-at-top,redefined-outer-name
  import tensorflow_model_analysis as tfma
  from pipelines import train_summary  # pylint: disable=g-import-not-at-top
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
                    min_eval_images_per_class: int = 2,
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
    min_eval_images_per_class: The Pusher gets no blessing unless the eval
      split has at least this many images of every class of the train split
      (pipelines/eval_guard.py).
    **ingest_options: ImageExampleGen options (on_bad_image, compression ...).
  """
  # pylint: disable=g-import-not-at-top
  from tfx import v1 as tfx  # pylint: disable=redefined-outer-name
  from image_example_gen import ImageExampleGen
  from pipelines import data_validation
  from pipelines import eval_guard
  # pylint: enable=g-import-not-at-top
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
  guard = eval_guard.EvalSplitGuard(
      examples=example_gen.outputs['examples'],
      blessing=evaluator.outputs['blessing'],
      min_images_per_class=min_eval_images_per_class)
  pusher = tfx.components.Pusher(
      model=trainer.outputs['model'],
      model_blessing=guard.outputs['guarded_blessing'],
      push_destination=tfx.proto.PushDestination(
          filesystem=tfx.proto.PushDestination.Filesystem(
              base_directory=serving_model_dir)))
  return tfx.dsl.Pipeline(
      pipeline_name=pipeline_name,
      pipeline_root=pipeline_root,
      components=[
          example_gen, statistics_gen, schema_gen, example_validator, trainer,
          evaluator, guard, pusher
      ],
      metadata_connection_config=(
          tfx.orchestration.metadata.sqlite_metadata_connection_config(
              metadata_path)),
      beam_pipeline_args=beam_pipeline_args or [])


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = command_line.make_parser(
      PROG, 'Ingest an image folder, train a classifier on it, evaluate it '
      'and push it if it is good enough.')
  command_line.add_common_arguments(parser, _DEFAULT_OUTPUT,
                                    'image_train_pipeline')
  parser.add_argument('--serving-model-dir',
                      default=os.path.join(_DEFAULT_OUTPUT, 'serving_model'),
                      help='where a blessed model is pushed (default: '
                      '%(default)s)')
  parser.add_argument('--train-steps', type=int, default=DEFAULT_TRAIN_STEPS,
                      metavar='N',
                      help='training steps (default: %(default)s)')
  parser.add_argument('--min-accuracy', type=float,
                      default=DEFAULT_MIN_ACCURACY, metavar='X',
                      help='eval accuracy needed to bless and push the model '
                      '(default: %(default)s)')
  parser.add_argument(
      '--min-eval-images-per-class', type=int, metavar='N',
      default=inspect.signature(create_pipeline).parameters[
          'min_eval_images_per_class'].default,
      help='no model is pushed unless the eval split has this many images of '
      'every class of the train split (default: %(default)s)')
  command_line.add_beam_arguments(parser)
  return command_line.parse_args(parser, argv, _check_args)


def _check_args(args: argparse.Namespace) -> None:
  """Raises UsageError for values the training pipeline cannot use."""
  # pylint: disable-next=g-import-not-at-top
  from image_example_gen.cli import errors
  if args.train_steps < 1:
    raise errors.UsageError(
        f'argument --train-steps: {args.train_steps} is below 1')
  if not 0 <= args.min_accuracy <= 1:
    raise errors.UsageError(
        f'argument --min-accuracy: {args.min_accuracy} is not between 0 and 1')
  if args.min_eval_images_per_class < 1:
    raise errors.UsageError(
        'argument --min-eval-images-per-class: '
        f'{args.min_eval_images_per_class} is below 1')
  names = command_line.output_split_names(args)
  missing = [name for name in ('train', 'eval') if name not in names]
  if missing:
    given = ('--split' if args.split else '--input-split')
    raise errors.UsageError(
        f'the Trainer trains on a train split and the Evaluator evaluates on '
        f'an eval split; {given} gives {", ".join(names)}, without '
        f'{" or ".join(missing)}')


@contextlib.contextmanager
def _trainer_module_not_packaged() -> Iterator[None]:
  """While the pipeline is built: the Trainer imports its module file
  directly instead of a wheel TFX builds and pip-installs (see the module
  docstring). TFX reads the variable when the Trainer is constructed."""
  name = 'UNSUPPORTED_DO_NOT_PACKAGE_USER_MODULES'
  saved = os.environ.get(name)
  os.environ[name] = '1'
  try:
    yield
  finally:
    if saved is None:
      del os.environ[name]
    else:
      os.environ[name] = saved


def _run(args: argparse.Namespace) -> List[str]:
  """Builds and runs the pipeline; returns the summary lines."""
  from pipelines import train_summary  # pylint: disable=g-import-not-at-top
  with _trainer_module_not_packaged():
    pipeline = create_pipeline(
        args.pipeline_name, args.pipeline_root, args.data_root,
        args.metadata_path, args.serving_model_dir, args.beam_pipeline_args,
        train_steps=args.train_steps, min_accuracy=args.min_accuracy,
        min_eval_images_per_class=args.min_eval_images_per_class,
        input_splits=args.input_splits,
        output_config=command_line.output_config(args.split),
        config=args.config)
  return command_line.run_and_summarize(pipeline, args.metadata_path,
                                        train_summary.summarize)


def main(argv: Optional[Sequence[str]] = None) -> int:
  """Runs the command; returns the exit status (module docstring)."""
  return command_line.main(PROG, _parse_args, _run, argv)


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
