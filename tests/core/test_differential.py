"""The differential fuzz: the probe against TensorFlow's decoders.

Mutants of real images of every format and flavour (tests/differential.py)
are judged by `tf.io.decode_image` and by the probe. With the default
validation no mutant the project keeps fails to decode in TensorFlow or
decodes to another shape, and every mutant it skips although TensorFlow
decodes it falls under a documented strict policy. The counts are exact for
the seeded mutants and the library versions pinned in constraints.txt; a
larger campaign: `make fuzz`.
"""

import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that
from apache_beam.testing.util import equal_to
import pytest

from image_example_gen import HashBucketSplit
from image_example_gen import ImageFolderToExamples
from image_example_gen import SKIPPED_KEY
from image_example_gen.core import config as config_lib
from image_example_gen.core.image_probe import strict_policies
import differential

_PER_SOURCE = 40


@pytest.fixture(name='results', scope='module')
def results_fixture():
  return differential.compare(
      _PER_SOURCE, [config_lib.VALIDATION_DECODE,
                    config_lib.VALIDATION_STRUCTURE])


def test_sources_cover_every_flavour_and_decode_in_tensorflow():
  sources = differential.sources()
  for flavour in ('jpeg_progressive', 'jpeg_gray', 'jpeg_cmyk', 'png_palette',
                  'png_16bit', 'png_interlaced', 'gif_animated', 'bmp_8_gray',
                  'bmp_24', 'bmp_32'):
    assert flavour in sources
  for flavour, data in sources.items():
    expected = differential.tf_verdict(data)
    assert expected.decodes, (flavour, expected.reason)
    assert differential.project_verdict(
        data, config_lib.VALIDATION_DECODE) == expected, flavour


def test_default_validation_publishes_no_poison(results):
  result = results[config_lib.VALIDATION_DECODE]
  assert result.mutants == _PER_SOURCE * len(differential.sources())
  assert result.poison == []
  assert result.mismatch == []
  assert result.crashes == []
  assert result.unexplained == []


def test_default_validation_strict_skips_per_policy(results):
  strict_skips = results[config_lib.VALIDATION_DECODE].strict_skips
  assert set(strict_skips) <= set(strict_policies.ALL_POLICIES)
  assert dict(strict_skips) == {
      strict_policies.BMP_COLOUR_PALETTE: 13,
      strict_policies.GIF_DAMAGED: 9,
      strict_policies.PNG_CRC: 2,
  }


def test_structure_validation_lets_poison_through(results):
  """The documented cost of the opt-out: damaged scan or pixel data."""
  result = results[config_lib.VALIDATION_STRUCTURE]
  assert result.crashes == [] and result.mismatch == []
  poisoned = {flavour.split('_')[0] for flavour, _, _ in result.poison}
  assert len(result.poison) == 27
  assert poisoned == {'jpeg', 'gif'}


def _decoded_shape(serialized: bytes):
  """(filename, decode_image's shape == the stored one) of an Example."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  example = tf.train.Example.FromString(serialized)
  feature = example.features.feature
  image = tf.io.decode_image(feature['image/encoded'].bytes_list.value[0],
                             expand_animations=False)
  stored = [feature[key].int64_list.value[0]
            for key in ('image/height', 'image/width', 'image/channels')]
  return (feature['image/filename'].bytes_list.value[0].decode(),
          image.shape.as_list() == stored)


@pytest.mark.slow
def test_transform_turns_every_mutant_into_a_decodable_example_or_a_skip(
    make_tree):
  """Through the Beam transform: no exception, every file accounted for."""
  files = {f'x/{flavour}-{index}.img': data
           for index, (flavour, _, data) in enumerate(
               differential.mutants(per_source=6, seed=7))}
  files.update({f'x/{flavour}-t{index}.img': data
                for index, (flavour, _, data) in enumerate(
                    differential.mutants(
                        per_source=3, seed=7,
                        originals=differential.transcoded_sources()))})
  root = make_tree(files)
  with TestPipeline() as pipeline:
    outputs = pipeline | ImageFolderToExamples(
        root, output_splits=[HashBucketSplit('all', 1)])
    kept = outputs['all'] | beam.Map(_decoded_shape)
    skipped = outputs[SKIPPED_KEY] | beam.Map(
        lambda line: json.loads(line)['relative_path'])
    every_file = ((kept | beam.Map(lambda pair: pair[0]), skipped)
                  | beam.Flatten())
    assert_that(every_file, equal_to(sorted(files)), label='EveryFile')
    assert_that(kept | beam.Filter(lambda pair: not pair[1]), equal_to([]),
                label='NoPoison')


# --- Files the worker transcodes or turns upright --------------------------

# Mean absolute difference allowed between TensorFlow's decode of a published
# image and Pillow's view of its source (0-255 levels): JPEG q95 re-encoding
# plus TensorFlow's faster JPEG IDCT (tests/core/test_transcode.py measures
# each case; PNG outputs match exactly).
_PIXEL_TOLERANCE = 4.0


def _pillow_view(data: bytes):
  """What Pillow shows for a file: first frame, upright, RGB (16-bit gray
  by its high byte, as core.transcode maps it); None if it cannot."""
  import io  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from PIL import Image, ImageOps  # pylint: disable=g-import-not-at-top,g-multiple-import
  try:
    with Image.open(io.BytesIO(data)) as image:
      image.load()
      image = ImageOps.exif_transpose(image)
      if image.mode.startswith('I;16'):
        image = Image.fromarray(
            (np.asarray(image, dtype=np.uint16) >> 8).astype(np.uint8))
      return np.asarray(image.convert('RGB'), dtype=np.int16)
  except Exception:  # pylint: disable=broad-except
    return None


def test_transcoded_mutants_publish_what_pillow_shows_or_a_skip():
  """Mutants of WebP, TIFF, AVIF, HEIC, JPEG 2000 ... and oriented JPEGs:
  each is published as bytes TensorFlow decodes, to the stored shape and to
  the pixels Pillow shows for the mutant, or skipped with a reason; never an
  exception."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from image_example_gen.core import image_probe  # pylint: disable=g-import-not-at-top
  from image_example_gen.core import publish  # pylint: disable=g-import-not-at-top
  config = config_lib.IngestConfig()
  published = skipped = 0
  for flavour, mutation, data in differential.mutants(
      12, seed=3, originals=differential.transcoded_sources()):
    try:
      result = publish.publish_image(data, config)
    except image_probe.BadImageError:
      skipped += 1
      continue
    published += 1
    verdict = differential.tf_verdict(result.data)
    info = result.info
    assert verdict.shape == (info.height, info.width, info.channels), (
        flavour, mutation, verdict)
    shown = _pillow_view(data)
    if result.actions and shown is not None and shown.shape[:2] == (
        info.height, info.width):
      import tensorflow as tf  # pylint: disable=g-import-not-at-top
      decoded = tf.io.decode_image(result.data, channels=3,
                                   expand_animations=False).numpy()
      difference = np.abs(decoded.astype(np.int16) - shown).mean()
      assert difference <= _PIXEL_TOLERANCE, (flavour, mutation, difference)
  # Both outcomes occur: the campaign exercises the decoders, not only the
  # signature checks.
  assert published > 20 and skipped > 20, (published, skipped)
