"""Trainer module file: a small Keras 3 CNN over ImageExampleGen's Examples.

TFX's Trainer calls `run_fn`. It reads the `train` and `eval` splits with
`image_example_gen.readers.dataset.image_dataset` (decode, resize to IMAGE_SIZE, RGB,
float32 in [0, 255]), trains a few convolution layers for
`fn_args.train_steps` steps and exports a SavedModel whose `serving_default`
signature is self-contained:

    input   examples       [batch] serialized tf.train.Example strings with at
                           least `image/encoded` (JPEG, PNG, GIF or BMP bytes)
    output  probabilities  [batch, num_classes] float32, softmax
            classes        [batch, num_classes] string: the class names, in
                           the order of `probabilities` (label i is column i)

so a client needs neither the label map nor the preprocessing, and TFMA's
Evaluator can feed it the Examples of the eval split as they are. Serving
decodes with `readers.decode.decode_and_resize`, the function training uses.

Keras flavour: Keras 3 (`import keras`), what `tf.keras` is in this stack.
The export is a plain TensorFlow SavedModel (`tf.saved_model.save` with an
explicit tf.function signature), which TFMA 0.47.1 loads as a generic model
(`tf_generic`) whichever Keras built it; see pipelines/train_pipeline.py.

This file is imported by TFX as a stand-alone user module, so it imports
nothing from `pipelines`.
"""

import math
import warnings
from typing import List, Sequence, Tuple

from absl import logging
import keras
import tensorflow as tf
from tfx import v1 as tfx

from image_example_gen.core import artifact
from image_example_gen.readers import dataset
from image_example_gen.readers import decode

__all__ = [
    'CLASSES_OUTPUT', 'IMAGE_SIZE', 'PROBABILITIES_OUTPUT', 'SERVING_INPUT',
    'build_model', 'serving_images', 'run_fn'
]

# The serving signature's input and outputs.
SERVING_INPUT = 'examples'
PROBABILITIES_OUTPUT = 'probabilities'
CLASSES_OUTPUT = 'classes'

IMAGE_SIZE: Tuple[int, int] = (64, 64)  # (height, width) the model sees
CHANNELS = 3
BATCH_SIZE = 16
LEARNING_RATE = 3e-3
# Validation on the eval split runs after every epoch of this many steps.
STEPS_PER_EPOCH = 25
SEED = 0


def serving_images(examples: tf.Tensor) -> tf.Tensor:
  """Serialized Examples [batch] -> float32 [batch, H, W, 3], as in training.

  What the serving signature feeds the model: each `image/encoded` through
  `decode.decode_and_resize`, the function `image_dataset` maps in training.
  """
  features = tf.io.parse_example(
      examples, {artifact.ENCODED: tf.io.FixedLenFeature([], tf.string)})
  # Images differ in size and format until resized: decode one at a time.
  return tf.map_fn(
      lambda encoded: decode.decode_and_resize(encoded, IMAGE_SIZE, CHANNELS),
      features[artifact.ENCODED],
      fn_output_signature=tf.TensorSpec(
          [IMAGE_SIZE[0], IMAGE_SIZE[1], CHANNELS], tf.float32))


def build_model(num_classes: int) -> keras.Model:
  """A small CNN: [B, H, W, 3] float32 in [0, 255] -> [B, K] probabilities."""
  inputs = keras.Input(shape=(IMAGE_SIZE[0], IMAGE_SIZE[1], CHANNELS),
                       name='image')
  x = keras.layers.Rescaling(1.0 / 255)(inputs)
  for filters in (16, 32, 64):
    x = keras.layers.Conv2D(filters, 3, padding='same', activation='relu')(x)
    x = keras.layers.MaxPooling2D()(x)
  x = keras.layers.GlobalAveragePooling2D()(x)
  x = keras.layers.Dropout(0.2)(x)
  outputs = keras.layers.Dense(num_classes, activation='softmax',
                               name=PROBABILITIES_OUTPUT)(x)
  model = keras.Model(inputs, outputs)
  model.compile(
      optimizer=keras.optimizers.Adam(LEARNING_RATE),
      loss=keras.losses.SparseCategoricalCrossentropy(),
      metrics=[keras.metrics.SparseCategoricalAccuracy(name='accuracy')])
  return model


def _serving_signature(model: keras.Model, class_names: Sequence[str]):
  """The `serving_default` function: serialized Examples in, see module doc."""
  names = tf.constant(list(class_names), dtype=tf.string)

  @tf.function(input_signature=[
      tf.TensorSpec(shape=[None], dtype=tf.string, name=SERVING_INPUT)
  ])
  def serve(examples):
    probabilities = model(serving_images(examples), training=False)
    classes = tf.tile(names[tf.newaxis, :], [tf.shape(examples)[0], 1])
    return {PROBABILITIES_OUTPUT: probabilities, CLASSES_OUTPUT: classes}

  return serve


def _datasets(fn_args: tfx.components.FnArgs):
  train = dataset.image_dataset(
      fn_args.train_files, 'train', image_size=IMAGE_SIZE, channels=CHANNELS,
      batch_size=BATCH_SIZE, shuffle=True, seed=SEED)
  evaluation = dataset.image_dataset(
      fn_args.eval_files, 'eval', image_size=IMAGE_SIZE, channels=CHANNELS,
      batch_size=BATCH_SIZE)
  return train, evaluation


def run_fn(fn_args: tfx.components.FnArgs) -> None:
  """Trains the CNN and writes the SavedModel to fn_args.serving_model_dir."""
  keras.utils.set_random_seed(SEED)
  class_names: List[str] = list(dataset.read_class_names(fn_args.train_files))
  if len(class_names) < 2:
    raise ValueError(
        f'Need at least 2 classes to train a classifier, the Examples in '
        f'{fn_args.train_files} have {class_names}.')
  logging.info('Training on %d classes: %s', len(class_names), class_names)
  train, evaluation = _datasets(fn_args)

  model = build_model(len(class_names))
  model.summary(print_fn=logging.info)
  # train_steps (TrainArgs.num_steps; 4 epochs if unset) is rounded up to
  # whole epochs of STEPS_PER_EPOCH steps.
  train_steps = max(1, fn_args.train_steps or 4 * STEPS_PER_EPOCH)
  steps_per_epoch = min(STEPS_PER_EPOCH, train_steps)
  epochs = math.ceil(train_steps / steps_per_epoch)
  with warnings.catch_warnings():
    # The eval split's size is unknown until read: Keras 3 warns "Your input
    # ran out of data" when the first validation pass reaches its end.
    warnings.filterwarnings('ignore', message='Your input ran out of data')
    model.fit(
        train.repeat(),
        steps_per_epoch=steps_per_epoch,
        epochs=epochs,
        validation_data=evaluation,
        validation_steps=fn_args.eval_steps or None,
        shuffle=False,  # image_dataset shuffles; Keras cannot shuffle a Dataset
        callbacks=[keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir)],
        verbose=2)

  tf.saved_model.save(
      model, fn_args.serving_model_dir,
      signatures={'serving_default': _serving_signature(model, class_names)})
  logging.info('Exported the model to %s', fn_args.serving_model_dir)
