"""EvalSplitGuard: no blessing for a model measured on a lopsided eval split.

TFX's Evaluator blesses a model whose eval metrics pass their thresholds,
however few images the eval split holds. On a small dataset, plain hash
splits can leave whole classes out of eval: a model then gets blessed, and
pushed, on a couple of images. This component sits between the Evaluator and
the Pusher: it passes the Evaluator's blessing on only if the eval split has,
of every class the train split has, at least `min_images_per_class` images
(counted in the ingest report, core.artifact); otherwise it writes a
NOT_BLESSED blessing and logs one line saying why and what to do.
"""

import os
from typing import Mapping

from absl import logging
from tfx import v1 as tfx
from tfx.components.evaluator import constants
from tfx.dsl.io import fileio

from image_example_gen.core import artifact

__all__ = ['DEFAULT_MIN_IMAGES_PER_CLASS', 'EvalSplitGuard',
           'eval_split_problem']

DEFAULT_MIN_IMAGES_PER_CLASS = 2


def eval_split_problem(examples: Mapping[str, Mapping[str, int]],
                       min_images_per_class: int,
                       train_split: str = 'train',
                       eval_split: str = 'eval') -> str:
  """Why the eval split cannot judge a model ('' when it can).

  Args:
    examples: {split: {class name: images}}, as in the ingest report.
    min_images_per_class: The fewest eval images of a class that count.
  """
  train = {name: count for name, count in examples.get(train_split, {}).items()
           if count}
  evaluation = examples.get(eval_split, {})
  missing = sorted(name for name in train if not evaluation.get(name))
  few = sorted(name for name in train
               if 0 < evaluation.get(name, 0) < min_images_per_class)
  parts = []
  if missing:
    parts.append(f'has no image of {", ".join(missing)}')
  if few:
    parts.append(f'has fewer than {min_images_per_class} images of '
                 f'{", ".join(few)}')
  if not parts:
    return ''
  return (f'Not blessed: the {eval_split} split {" and ".join(parts)}, so its '
          'accuracy says little. Add images of those classes, or use balanced '
          'splits (--stratify, the default), then run again.')


@tfx.dsl.components.component
def EvalSplitGuard(  # pylint: disable=invalid-name
    examples: tfx.dsl.components.InputArtifact[
        tfx.types.standard_artifacts.Examples],
    blessing: tfx.dsl.components.InputArtifact[
        tfx.types.standard_artifacts.ModelBlessing],
    guarded_blessing: tfx.dsl.components.OutputArtifact[
        tfx.types.standard_artifacts.ModelBlessing],
    min_images_per_class: tfx.dsl.components.Parameter[
        int] = DEFAULT_MIN_IMAGES_PER_CLASS) -> None:
  """The Evaluator's blessing, or NOT_BLESSED for a lopsided eval split."""
  report = artifact.read_report(examples.uri)
  problem = eval_split_problem(report.examples, min_images_per_class)
  for key in (constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY,):
    if blessing.has_custom_property(key):
      guarded_blessing.set_string_custom_property(
          key, blessing.get_string_custom_property(key))
  for key in (constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY,):
    if blessing.has_custom_property(key):
      guarded_blessing.set_int_custom_property(
          key, blessing.get_int_custom_property(key))
  blessed = (not problem and blessing.has_custom_property(
      constants.ARTIFACT_PROPERTY_BLESSED_KEY) and blessing.get_int_custom_property(
          constants.ARTIFACT_PROPERTY_BLESSED_KEY) == constants.BLESSED_VALUE)
  if problem:
    logging.warning('%s', problem)
    guarded_blessing.set_string_custom_property('guard_reason', problem)
  fileio.makedirs(guarded_blessing.uri)
  with fileio.open(os.path.join(
      guarded_blessing.uri, constants.BLESSED_FILE_NAME
      if blessed else constants.NOT_BLESSED_FILE_NAME), 'w') as file:
    file.write(problem)
  guarded_blessing.set_int_custom_property(
      constants.ARTIFACT_PROPERTY_BLESSED_KEY,
      constants.BLESSED_VALUE if blessed else constants.NOT_BLESSED_VALUE)
