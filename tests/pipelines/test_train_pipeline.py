"""The training pipeline: its configuration, and end to end under LocalDagRunner.

The end-to-end tests train on a generated folder of three classes that differ
clearly in colour and pattern (red stripes, green checks, a blue disc on
yellow), mixed JPEG and PNG of varied sizes, then score the pushed SavedModel
through its serving signature on held-out images in all four formats.
"""

import io
import json
import os

from ml_metadata import metadata_store
import numpy as np
from PIL import Image
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from tfx import v1 as tfx
from tfx.orchestration import metadata

from pipelines import eval_guard
from pipelines import image_trainer
from pipelines import run_summary
from pipelines import train_pipeline
from pipelines import train_summary

# End-to-end: TFX pipelines and components on real data.
pytestmark = pytest.mark.slow

CLASSES = ('blue_disc', 'green_checks', 'red_stripes')


def _draw(class_name: str, rng: np.random.Generator) -> Image.Image:
  """A random RGB image of the class, 32-64 px a side, with pixel noise."""
  height, width = rng.integers(32, 65, size=2)
  rows, cols = np.mgrid[0:height, 0:width]
  image = np.zeros((height, width, 3), np.float32)
  if class_name == 'red_stripes':
    period = rng.integers(4, 12)
    stripe = ((rows + rng.integers(period)) // (period // 2 + 1)) % 2 == 0
    image[...] = (255, 255, 255)
    image[stripe] = (220, 30, 30)
  elif class_name == 'green_checks':
    cell = rng.integers(3, 9)
    check = ((rows // cell) + (cols // cell)) % 2 == 0
    image[...] = (20, 20, 20)
    image[check] = (40, 200, 60)
  else:
    image[...] = (240, 220, 60)
    center = rng.uniform(0.3, 0.7, size=2) * (height, width)
    radius = rng.uniform(0.25, 0.45) * min(height, width)
    disc = (rows - center[0])**2 + (cols - center[1])**2 <= radius**2
    image[disc] = (30, 60, 220)
  image += rng.normal(0, 12, size=image.shape)
  return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))


def _encode(image: Image.Image, pillow_format: str) -> bytes:
  buffer = io.BytesIO()
  if pillow_format == 'GIF':
    image = image.convert('P', palette=Image.ADAPTIVE)
  image.save(buffer, format=pillow_format)
  return buffer.getvalue()


def _write_dataset(root: str, per_class: int, seed: int) -> str:
  """root/<class>/<i>.jpg|.png, alternating JPEG and PNG."""
  rng = np.random.default_rng(seed)
  for class_name in CLASSES:
    os.makedirs(os.path.join(root, class_name))
    for i in range(per_class):
      pillow_format, extension = (('JPEG', 'jpg') if i % 2 else ('PNG', 'png'))
      path = os.path.join(root, class_name, f'{i:03d}.{extension}')
      with open(path, 'wb') as file:
        file.write(_encode(_draw(class_name, rng), pillow_format))
  return root


def _held_out(per_format: int, seed: int):
  """([serialized Example with image/encoded only], [class name])."""
  rng = np.random.default_rng(seed)
  serialized, truth = [], []
  for class_name in CLASSES:
    for pillow_format in ('JPEG', 'PNG', 'GIF', 'BMP'):
      for _ in range(per_format):
        encoded = _encode(_draw(class_name, rng), pillow_format)
        example = tf.train.Example(features=tf.train.Features(feature={
            'image/encoded': tf.train.Feature(
                bytes_list=tf.train.BytesList(value=[encoded]))
        }))
        serialized.append(example.SerializeToString())
        truth.append(class_name)
  return serialized, truth


def _run(tmp_path, name: str, per_class: int, **options):
  """Runs the pipeline on a generated dataset; returns (store, serving dir)."""
  data_root = _write_dataset(str(tmp_path / f'{name}_images'), per_class,
                             seed=1)
  metadata_path = str(tmp_path / f'{name}_metadata.db')
  serving_model_dir = str(tmp_path / f'{name}_serving')
  pipeline = train_pipeline.create_pipeline(
      name, str(tmp_path / f'{name}_root'), data_root, metadata_path,
      serving_model_dir, **options)
  tfx.orchestration.LocalDagRunner().run(pipeline)
  store = metadata_store.MetadataStore(
      metadata.sqlite_metadata_connection_config(metadata_path))
  return store, metadata_path, serving_model_dir


def _latest(store, pipeline_name, type_name):
  artifact = run_summary.latest_artifact(store, pipeline_name, type_name)
  assert artifact is not None, f'no {type_name} artifact'
  return artifact


def test_create_pipeline_chain_and_eval_config():
  pipeline = train_pipeline.create_pipeline(
      'p', '/tmp/root', '/data', '/tmp/metadata.db', '/tmp/serving',
      train_steps=7, min_accuracy=0.8)
  ids = [component.id for component in pipeline.components]
  assert ids == ['ImageExampleGen', 'ImageStatisticsGen', 'SchemaGen',
                 'ExampleValidator', 'Trainer', 'Evaluator', 'EvalSplitGuard',
                 'Pusher']
  _, schema_gen, _ = pipeline.components[1:4]
  trainer = pipeline.components[4]
  assert trainer.inputs['schema'] is schema_gen.outputs['schema']
  assert json.loads(trainer.exec_properties['train_args']) == {'num_steps': 7}

  # The Evaluator reads the output the trainer's signature names.
  assert train_pipeline.PREDICTION_KEY == image_trainer.PROBABILITIES_OUTPUT

  config = train_pipeline.eval_config(0.8)
  assert config.model_specs[0].label_key == 'image/class/label'
  assert config.model_specs[0].model_type == tfma.TF_GENERIC
  thresholds = tfma.metrics.metric_thresholds_from_metrics_specs(
      config.metrics_specs, eval_config=config)
  [(key, sliced)] = [(key, sliced) for key, sliced in thresholds.items()
                     if key.name == train_summary.ACCURACY_METRIC]
  # One bound, on the overall slice only (not on each class).
  [(slice_spec, threshold)] = sliced
  assert slice_spec == tfma.SlicingSpec()
  assert threshold.lower_bound.value == pytest.approx(0.8)


def test_parse_args_defaults_and_errors():
  args = train_pipeline._parse_args([])  # pylint: disable=protected-access
  assert args.data_root.endswith(os.path.join('testdata', 'images'))
  assert args.serving_model_dir.endswith(
      os.path.join('out', 'train', 'serving_model'))
  assert args.train_steps == train_pipeline.DEFAULT_TRAIN_STEPS
  args = train_pipeline._parse_args(  # pylint: disable=protected-access
      ['--train-steps', '5', '--beam-pipeline-args', '--direct_num_workers=2'])
  assert args.train_steps == 5
  assert args.beam_pipeline_args == ['--direct_num_workers=2']
  with pytest.raises(SystemExit):
    train_pipeline._parse_args(['--train-steps', '0'])  # pylint: disable=protected-access


def test_trains_blesses_and_pushes_a_serving_model(tmp_path):
  name = 'train_e2e'
  store, metadata_path, serving_model_dir = _run(
      tmp_path, name, per_class=36, train_steps=100, min_accuracy=0.8)

  blessing = _latest(store, name, 'ModelBlessing')
  assert blessing.custom_properties['blessed'].int_value == 1
  pushed = _latest(store, name, 'PushedModel')
  assert pushed.custom_properties['pushed'].int_value == 1
  destination = pushed.custom_properties['pushed_destination'].string_value
  assert os.path.dirname(destination) == serving_model_dir

  # TFMA's accuracy, overall and on every class slice.
  accuracy = train_summary.read_accuracy(
      _latest(store, name, 'ModelEvaluation').uri)
  assert accuracy.overall >= 0.8
  assert sorted(accuracy.per_class) == list(CLASSES)
  assert sum(count for _, count in accuracy.per_class.values()) == (
      accuracy.examples)

  # The pushed model, through its serving signature, on unseen images in
  # all four formats; the examples carry image/encoded only.
  serialized, truth = _held_out(per_format=3, seed=2)
  serve = tf.saved_model.load(destination).signatures['serving_default']
  outputs = serve(examples=tf.constant(serialized))
  probabilities = outputs['probabilities'].numpy()
  classes = outputs['classes'].numpy()
  assert probabilities.shape == (len(serialized), len(CLASSES))
  np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
  assert classes.shape == probabilities.shape
  assert [name.decode() for name in classes[0]] == list(CLASSES)
  predicted = [classes[i, j].decode()
               for i, j in enumerate(probabilities.argmax(axis=1))]
  held_out_accuracy = np.mean([p == t for p, t in zip(predicted, truth)])
  assert held_out_accuracy >= 0.9, list(zip(truth, predicted))

  lines = train_summary.summarize(metadata_path, name)
  assert 'Blessed: yes (needs accuracy >= 0.8 overall)' in lines
  assert f'Pushed to: {destination}' in lines
  assert any(line.startswith('Eval accuracy (TFMA') for line in lines)


def test_model_below_the_bound_is_not_pushed(tmp_path):
  # One training step: the model is near chance, far below the bound.
  name = 'train_unblessed'
  store, metadata_path, serving_model_dir = _run(
      tmp_path, name, per_class=8, train_steps=1, min_accuracy=0.99)
  blessing = _latest(store, name, 'ModelBlessing')
  assert blessing.custom_properties['blessed'].int_value == 0
  pushed = _latest(store, name, 'PushedModel')
  assert pushed.custom_properties['pushed'].int_value == 0
  assert not os.path.exists(serving_model_dir) or not os.listdir(
      serving_model_dir)
  lines = train_summary.summarize(metadata_path, name)
  assert 'Blessed: NO (needs accuracy >= 0.99 overall)' in lines
  assert any(line.startswith('  failed on overall: accuracy ') and
             line.endswith(', needs >= 0.99')
             for line in lines)
  assert 'Not pushed (the model was not blessed).' in lines


def test_eval_split_problem_names_missing_and_thin_classes():
  examples = {'train': {'icons': 4, 'logos': 6, 'photos': 12},
              'eval': {'photos': 2, 'logos': 1}}
  problem = eval_guard.eval_split_problem(examples, 2)
  assert problem == (
      'Not blessed: the eval split has no image of icons and has fewer than 2 '
      'images of logos, so its accuracy says little. Add images of those '
      'classes, or use balanced splits (--stratify, the default), then run '
      'again.')
  assert eval_guard.eval_split_problem(
      {'train': {'a': 3}, 'eval': {'a': 2}}, 2) == ''


def test_lopsided_eval_split_is_not_blessed_nor_pushed(tmp_path):
  # The Evaluator blesses (no accuracy bound), but the eval split has fewer
  # than 100 images of each class: the guard refuses the blessing.
  name = 'train_guarded'
  store, metadata_path, serving_model_dir = _run(
      tmp_path, name, per_class=8, train_steps=1, min_accuracy=0.0,
      min_eval_images_per_class=100)
  evaluator_blessing = max(
      (artifact for artifact in store.get_artifacts_by_type('ModelBlessing')
       if 'guard_reason' not in artifact.custom_properties),
      key=lambda artifact: artifact.id)
  assert evaluator_blessing.custom_properties['blessed'].int_value == 1
  blessing = _latest(store, name, 'ModelBlessing')
  assert blessing.custom_properties['blessed'].int_value == 0
  pushed = _latest(store, name, 'PushedModel')
  assert pushed.custom_properties['pushed'].int_value == 0
  lines = train_summary.summarize(metadata_path, name)
  assert any(line.startswith('  Not blessed: the eval split has fewer than '
                             '100 images of') for line in lines), lines
