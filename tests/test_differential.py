"""The differential fuzz: the probe against TensorFlow's decoders.

Mutants of real images of every format and flavour (tests/differential.py)
are judged by `tf.io.decode_image` and by the probe. With the default
validation no mutant the project keeps fails to decode in TensorFlow or
decodes to another shape, and every mutant it skips although TensorFlow
decodes it falls under a documented strict policy. The counts are exact for
the seeded mutants and the library versions pinned in constraints.txt; a
larger campaign: `make fuzz`.
"""

import pytest

from image_example_gen import config as config_lib
from image_example_gen.image_probe import strict_policies
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
