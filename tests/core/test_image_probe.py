"""Tests of image_probe: probe_image must say what tf.io.decode_image does.

The reference is TensorFlow itself: for real images in every format and mode
the probe claims to handle, probe_image must return exactly the format and
shape that `tf.io.decode_image(data, expand_animations=False)` gives; for
damaged or hostile files it must raise BadImageError with the documented
reason.
"""

import dataclasses
import io
import json
import pathlib
import struct
import subprocess
import sys
import zlib
from typing import Callable, Optional

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import differential
import image_factory as factory
from image_example_gen.core import config as config_lib
from image_example_gen.core import reasons
from image_example_gen.core.image_probe import BadImageError
from image_example_gen.core.image_probe import ImageInfo
from image_example_gen.core.image_probe import probe_image
from image_example_gen.core.image_probe import jpeg as jpeg_probe
from image_example_gen.core.image_probe import strict_policies
import paths

TESTDATA = paths.TESTDATA
STRUCTURE = config_lib.VALIDATION_STRUCTURE
DECODE = config_lib.VALIDATION_DECODE
VALIDATIONS = (STRUCTURE, DECODE)


def tf_decode(data: bytes):
  """TensorFlow's reading of `data`: (height, width, channels)."""
  image = tf.io.decode_image(data, expand_animations=False)
  height, width, channels = image.shape
  return height, width, channels


def tf_refuses(data: bytes) -> bool:
  try:
    tf.io.decode_image(data, expand_animations=False)
  except (tf.errors.InvalidArgumentError, ValueError):
    return True
  return False


def probe_reason(data: bytes, **kwargs) -> str:
  """The reason probe_image gives for refusing `data` (fails if it accepts)."""
  with pytest.raises(BadImageError) as raised:
    probe_image(data, **kwargs)
  assert raised.value.reason in reasons.ALL_REASONS
  return raised.value.reason


# --- The cross-check against TensorFlow ---------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
  """A real image, the format it is, and what its bytes must really contain.

  The facts (Pillow mode, transparency, frame count, BMP bit depth) make sure
  each case really exercises the variant it is named after.
  """
  build: Callable[[], bytes]
  format: str
  mode: Optional[str] = None
  transparency: bool = False
  frames: int = 1
  progressive: bool = False
  bmp_bits: Optional[int] = None


def bmp_top_down(data: bytes) -> bytes:
  """A BMP with negative height: rows stored top row first."""
  width, height = struct.unpack('<ii', data[18:26])
  row_bytes = (24 * width + 31) // 32 * 4
  offset = struct.unpack('<I', data[10:14])[0]
  rows = [data[offset + i * row_bytes:offset + (i + 1) * row_bytes]
          for i in range(height)]
  return (data[:22] + struct.pack('<i', -height) + data[26:offset] +
          b''.join(reversed(rows)))


def gif_with_larger_screen() -> bytes:
  """A real GIF whose logical screen is larger than its (only) frame."""
  data = factory.gif(size=(40, 30))
  width, height = factory.gif_screen_size(data)
  return factory.gif_with_screen_size(data, width + 24, height + 18)


CASES = {
    'jpeg_rgb': Case(factory.jpeg, 'jpeg', mode='RGB'),
    'jpeg_grayscale': Case(lambda: factory.jpeg('L'), 'jpeg', mode='L'),
    'jpeg_cmyk': Case(lambda: factory.jpeg('CMYK'), 'jpeg', mode='CMYK'),
    'jpeg_progressive': Case(lambda: factory.jpeg(progressive=True), 'jpeg',
                             mode='RGB', progressive=True),
    'png_rgb': Case(factory.png, 'png', mode='RGB'),
    'png_rgba': Case(lambda: factory.png('RGBA'), 'png', mode='RGBA'),
    'png_grayscale': Case(lambda: factory.png('L'), 'png', mode='L'),
    'png_grayscale_alpha': Case(lambda: factory.png('LA'), 'png', mode='LA'),
    'png_palette': Case(lambda: factory.png('P'), 'png', mode='P'),
    'png_palette_transparency': Case(
        lambda: factory.png_with_transparency('P'), 'png', mode='P',
        transparency=True),
    'png_grayscale_transparency': Case(
        lambda: factory.png_with_transparency('L'), 'png', mode='L',
        transparency=True),
    'png_rgb_transparency': Case(
        lambda: factory.encode(factory.crop(), 'PNG', transparency=(0, 0, 0)),
        'png', mode='RGB', transparency=True),
    'png_16bit_grayscale': Case(lambda: factory.png('I;16'), 'png',
                                mode='I;16'),
    'png_1bit': Case(lambda: factory.png('1'), 'png', mode='1'),
    'gif_single_frame': Case(factory.gif, 'gif', frames=1),
    'gif_animated': Case(factory.animated_gif, 'gif', frames=3),
    'gif_screen_larger_than_frame': Case(gif_with_larger_screen, 'gif'),
    'bmp_24bit': Case(factory.bmp, 'bmp', bmp_bits=24),
    'bmp_32bit_rgba': Case(lambda: factory.bmp('RGBA'), 'bmp', bmp_bits=32),
    'bmp_8bit_grayscale': Case(lambda: factory.bmp('L'), 'bmp', bmp_bits=8),
    'bmp_24bit_top_down': Case(lambda: bmp_top_down(factory.bmp()), 'bmp',
                               bmp_bits=24),
}


def assert_case_facts(data: bytes, case: Case) -> None:
  image = Image.open(io.BytesIO(data))
  assert image.format.lower() == case.format
  if case.mode:
    assert image.mode == case.mode
  assert ('transparency' in image.info) == case.transparency
  assert getattr(image, 'n_frames', 1) == case.frames
  assert bool(image.info.get('progressive')) == case.progressive
  if case.bmp_bits:
    assert struct.unpack('<H', data[28:30])[0] == case.bmp_bits


@pytest.mark.parametrize('validation', VALIDATIONS)
@pytest.mark.parametrize('name', sorted(CASES))
def test_probe_agrees_with_tensorflow_decode_image(name, validation):
  case = CASES[name]
  data = case.build()
  assert_case_facts(data, case)

  height, width, channels = tf_decode(data)

  assert probe_image(data, validation=validation) == ImageInfo(
      format=case.format, height=height, width=width, channels=channels)


def test_matrix_uses_non_square_images_so_height_and_width_cannot_swap():
  height, width, _ = tf_decode(CASES['png_rgb'].build())
  assert height != width


def test_gif_with_larger_screen_really_has_a_smaller_frame():
  data = gif_with_larger_screen()
  screen_width, screen_height = factory.gif_screen_size(data)
  height, width, _ = tf_decode(data)
  assert (width, height) != (screen_width, screen_height)
  assert probe_image(data).width == width


def test_animated_gif_with_a_later_frame_larger_than_the_first():
  # TensorFlow sizes a GIF by its largest frame, even when
  # expand_animations=False returns only the first one.
  data = factory.handmade_gif(screen=(64, 48), frames=[(40, 30), (64, 48)])
  height, width, channels = tf_decode(data)

  info = probe_image(data)

  assert (info.height, info.width, info.channels) == (height, width, channels)


def test_format_comes_from_the_bytes_not_the_file_name(tmp_path):
  lying = tmp_path / 'photo.jpg'
  lying.write_bytes(factory.png())

  assert probe_image(lying.read_bytes()).format == 'png'


def test_manifest_of_testdata_agrees_with_probe():
  manifest = json.loads((TESTDATA / 'MANIFEST.json').read_text('utf-8'))
  assert manifest
  for entry in manifest:
    data = (TESTDATA / entry['path']).read_bytes()
    expected = entry['expected']
    if expected == 'ok':
      assert probe_image(data) == ImageInfo(
          entry['format'], entry['height'], entry['width'],
          entry['channels']), entry['path']
    elif expected == reasons.HIDDEN:
      # Hiding is decided by the name, not by the probe: a hidden file is
      # probed like any other.
      if entry['format']:
        assert probe_image(data).format == entry['format'], entry['path']
      else:
        with pytest.raises(BadImageError):
          probe_image(data)
    elif expected == 'transcoded':  # TensorFlow cannot decode it as it is.
      assert probe_reason(data) == reasons.UNSUPPORTED_FORMAT, entry['path']
    else:
      assert probe_reason(data) == expected, entry['path']


# --- Bad inputs ---------------------------------------------------------------


def truncated_jpeg() -> bytes:
  data = factory.jpeg(size=(64, 48))
  return data[:int(len(data) * 0.6)]


def png_cut_inside_idat() -> bytes:
  data = factory.png(size=(64, 48))
  start, length = factory.chunk_offset(data, b'IDAT')
  return data[:start + length // 2]


def png_with_flipped_idat_byte() -> bytes:
  data = bytearray(factory.png(size=(64, 48)))
  start, length = factory.chunk_offset(bytes(data), b'IDAT')
  data[start + length // 2] ^= 0xFF
  return bytes(data)


def gif_with_garbage_after_signature() -> bytes:
  return b'GIF89a' + bytes(range(7, 250, 3)) * 3


def truncated_gif() -> bytes:
  data = factory.gif()
  return data[:len(data) // 2]


def bmp_cut_short() -> bytes:
  data = factory.bmp()
  return data[:-100]


BAD_INPUTS = {
    'empty': (lambda: b'', reasons.CORRUPT),
    'text': (lambda: b'class,file\ncat,cat.jpg\n', reasons.NOT_AN_IMAGE),
    'tiff': (lambda: factory.image_bytes('TIFF'), reasons.UNSUPPORTED_FORMAT),
    'webp': (lambda: factory.image_bytes('WEBP'), reasons.UNSUPPORTED_FORMAT),
    'jpeg_truncated': (truncated_jpeg, reasons.CORRUPT),
    'png_truncated_inside_idat': (png_cut_inside_idat, reasons.CORRUPT),
    'png_flipped_byte_in_idat': (png_with_flipped_idat_byte, reasons.CORRUPT),
    'gif_garbage_after_signature': (gif_with_garbage_after_signature,
                                    reasons.CORRUPT),
    'gif_truncated': (truncated_gif, reasons.CORRUPT),
    'bmp_8bit_colour_palette': (lambda: factory.bmp('P'),
                                reasons.UNSUPPORTED_FORMAT),
    'bmp_1bit': (lambda: factory.bmp('1'), reasons.UNSUPPORTED_FORMAT),
    'bmp_cut_short': (bmp_cut_short, reasons.CORRUPT),
}


@pytest.mark.parametrize('validation', VALIDATIONS)
@pytest.mark.parametrize('name', sorted(BAD_INPUTS))
def test_bad_input_is_refused_with_its_reason(name, validation):
  build, reason = BAD_INPUTS[name]
  assert probe_reason(build(), validation=validation) == reason


# TensorFlow decodes these, but wrongly: it reads the palette indices of an
# 8-bit colour BMP as gray levels. The probe refuses them on purpose.
TF_DECODES_WRONGLY = {'bmp_8bit_colour_palette'}


@pytest.mark.parametrize(
    'name', sorted(set(BAD_INPUTS) - TF_DECODES_WRONGLY))
def test_tensorflow_also_refuses_each_bad_input(name):
  build, _ = BAD_INPUTS[name]
  assert tf_refuses(build())


def test_tensorflow_reads_colour_palette_bmp_as_one_gray_channel():
  # Why the probe refuses it: TF returns palette indices, not colours.
  _, _, channels = tf_decode(factory.bmp('P'))
  assert channels == 1


def test_webp_written_by_pillow_is_really_webp():
  data = factory.image_bytes('WEBP')
  assert data[:4] == b'RIFF' and data[8:12] == b'WEBP'


def test_bmp_with_trailing_bytes_is_refused_like_tensorflow_does():
  # Many writers pad BMP files; TF 2.16 refuses any size other than
  # header + pixel rows exactly, so such a file must not reach the ingest.
  data = factory.bmp() + b'\x00\x00'
  assert tf_refuses(data)

  assert probe_reason(data) in (reasons.CORRUPT, reasons.UNSUPPORTED_FORMAT)


def test_png_with_flipped_idat_byte_is_a_crc_mismatch():
  with pytest.raises(BadImageError, match='CRC'):
    probe_image(png_with_flipped_idat_byte())


# --- Truncated animated GIFs ---------------------------------------------------


def gif_block_offsets(data: bytes):
  """Offsets of the image descriptors (0x2C) of a GIF, walking its blocks."""
  def skip_sub_blocks(position):
    while data[position]:
      position += data[position] + 1
    return position + 1

  def table_bytes(flags):
    return 3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0

  position = 13 + table_bytes(data[10])
  descriptors = []
  while data[position] != 0x3B:
    if data[position] == 0x21:
      position = skip_sub_blocks(position + 2)
    else:
      descriptors.append(position)
      position += 10 + table_bytes(data[position + 9]) + 1
      position = skip_sub_blocks(position)
  return descriptors


# Where to cut, relative to the second frame's image descriptor.
SECOND_FRAME_CUTS = {
    'before_descriptor': 0,
    'after_descriptor_byte': 1,
    'inside_descriptor': 5,
    'inside_frame_data': 30,
}


@pytest.mark.parametrize('validation', VALIDATIONS)
@pytest.mark.parametrize('cut', sorted(SECOND_FRAME_CUTS))
def test_animated_gif_cut_in_its_second_frame_is_corrupt(cut, validation):
  data = factory.animated_gif()
  second_frame = gif_block_offsets(data)[1]
  truncated = data[:second_frame + SECOND_FRAME_CUTS[cut]]

  assert probe_reason(truncated, validation=validation) == reasons.CORRUPT


def test_tensorflow_tolerates_a_gif_cut_after_its_first_frame():
  # Documents a difference: TF decodes the first frame of a GIF cut short
  # after it, the probe refuses the truncated file (see the test above).
  data = factory.animated_gif()
  second_frame = gif_block_offsets(data)[1]
  assert not tf_refuses(data[:second_frame])


# --- Decompression bombs and max_pixels ----------------------------------------


def png_bomb() -> bytes:
  return factory.png_with_declared_size(factory.png(), 40000, 40000)


def gif_bomb() -> bytes:
  return factory.handmade_gif(screen=(40000, 40000), frames=[(40000, 40000)],
                              pixels=64)


_PROBE_IN_FRESH_PROCESS = """
import resource, sys
from image_example_gen.core import image_probe
data = sys.stdin.buffer.read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
  image_probe.probe_image(data, validation=sys.argv[1])
except image_probe.BadImageError as error:
  print(error.reason)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


@pytest.mark.parametrize('validation', VALIDATIONS)
@pytest.mark.parametrize('build', [png_bomb, gif_bomb], ids=['png', 'gif'])
def test_decompression_bomb_is_refused_without_allocating_its_pixels(
    build, validation):
  """A 40000x40000 image would need 4.8 GB decoded; the probe reads its
  header and refuses it, in a fresh process whose peak RSS barely moves."""
  data = build()
  assert len(data) < 10_000
  result = subprocess.run(
      [sys.executable, '-c', _PROBE_IN_FRESH_PROCESS, validation],
      input=data, capture_output=True, check=True)
  reason, rss_growth_mb = result.stdout.decode().split()
  assert reason == reasons.TOO_LARGE
  assert int(rss_growth_mb) < 100


def test_png_bomb_header_really_declares_40000_by_40000():
  ihdr = factory.png_chunks(png_bomb())[0]
  assert ihdr[0] == b'IHDR'
  assert struct.unpack('>II', ihdr[1][:8]) == (40000, 40000)


def test_gif_bomb_declares_40000_by_40000():
  assert factory.gif_screen_size(gif_bomb()) == (40000, 40000)


def test_gif_frame_larger_than_its_small_screen_counts_against_max_pixels():
  data = factory.handmade_gif(screen=(40, 30), frames=[(4000, 3000)], pixels=64)
  assert probe_reason(data, max_pixels=1_000_000) == reasons.TOO_LARGE


@pytest.mark.parametrize('name', ['jpeg_rgb', 'png_rgb', 'gif_single_frame',
                                  'bmp_24bit'])
def test_max_pixels_below_the_pixel_count_is_too_large(name):
  data = CASES[name].build()
  height, width, _ = tf_decode(data)

  assert probe_image(data, max_pixels=height * width).height == height
  assert probe_reason(data, max_pixels=height * width - 1) == reasons.TOO_LARGE


# --- What validation='decode' adds --------------------------------------------


def png_with_damaged_deflate_and_good_crc() -> bytes:
  chunks = factory.png_chunks(factory.png(size=(64, 48)))
  index = next(i for i, (kind, _) in enumerate(chunks) if kind == b'IDAT')
  payload = bytearray(chunks[index][1])
  payload[len(payload) // 2] ^= 0xFF
  chunks[index] = (b'IDAT', bytes(payload))
  return factory.png_from_chunks(chunks)  # CRCs recomputed


def gif_with_short_pixel_data() -> bytes:
  # Well-formed blocks, but the frame's LZW data stops after 100 pixels.
  return factory.handmade_gif(screen=(40, 30), frames=[(40, 30)], pixels=100)


def jpeg_with_markers_in_entropy_data() -> bytes:
  """The second half of the scan overwritten by an unknown marker, FF99."""
  data = bytearray(factory.jpeg(size=(64, 48)))
  start, end = factory.jpeg_scan_data_range(bytes(data))
  middle = (start + end) // 2
  data[middle:end] = b'\xff\x99' * ((end - middle) // 2) + b'\x00' * (
      (end - middle) % 2)
  assert data.endswith(b'\xff\xd9')
  return bytes(data)


DAMAGE_ONLY_DECODE_SEES = {
    'png_damaged_deflate_good_crc': (png_with_damaged_deflate_and_good_crc,
                                     'png'),
    'gif_short_pixel_data': (gif_with_short_pixel_data, 'gif'),
    'jpeg_markers_in_entropy_data': (jpeg_with_markers_in_entropy_data,
                                     'jpeg'),
}


@pytest.mark.parametrize('name', sorted(DAMAGE_ONLY_DECODE_SEES))
def test_decode_catches_damage_that_structure_does_not(name):
  build, image_format = DAMAGE_ONLY_DECODE_SEES[name]
  data = build()
  assert tf_refuses(data)

  assert probe_image(data, validation=STRUCTURE).format == image_format
  assert probe_reason(data, validation=DECODE) == reasons.CORRUPT


def test_jpeg_entropy_data_zeroed_passes_both_validations_as_tensorflow_does():
  # Honest limit: zeroed scan data contains no marker, libjpeg only warns,
  # and TF decodes it (to wrong pixels) too, so neither validation refuses it.
  data = bytearray(factory.jpeg(size=(64, 48)))
  start, end = factory.jpeg_scan_data_range(bytes(data))
  middle = (start + end) // 2
  data[middle:end] = bytes(end - middle)
  data = bytes(data)
  height, width, channels = tf_decode(data)

  for validation in VALIDATIONS:
    assert probe_image(data, validation=validation) == ImageInfo(
        'jpeg', height, width, channels)


def test_bad_image_error_carries_reason_and_detail():
  with pytest.raises(BadImageError) as raised:
    probe_image(b'')
  error = raised.value
  assert isinstance(error, ValueError)
  assert error.reason == reasons.CORRUPT
  assert error.detail
  assert str(error) == f'{error.reason}: {error.detail}'


def png_with_bad_filter_type_and_good_crc() -> bytes:
  """Row 0's filter type set to 9 (types are 0-4); stream and CRCs valid."""
  chunks = factory.png_chunks(factory.png(size=(64, 48)))
  index = next(i for i, (kind, _) in enumerate(chunks) if kind == b'IDAT')
  raw = bytearray(zlib.decompress(chunks[index][1]))
  raw[0] = 9
  chunks[index] = (b'IDAT', zlib.compress(bytes(raw)))
  return factory.png_from_chunks(chunks)


def test_png_row_filter_types_are_checked_by_decode():
  data = png_with_bad_filter_type_and_good_crc()
  assert tf_refuses(data)
  assert probe_image(data, validation=STRUCTURE).format == 'png'
  assert probe_reason(data, validation=DECODE) == reasons.CORRUPT


def test_png_rows_short_of_data_are_caught_by_decode():
  chunks = factory.png_chunks(factory.png(size=(64, 48)))
  index = next(i for i, (kind, _) in enumerate(chunks) if kind == b'IDAT')
  raw = zlib.decompress(chunks[index][1])
  chunks[index] = (b'IDAT', zlib.compress(raw[:len(raw) // 2]))
  data = factory.png_from_chunks(chunks)
  assert tf_refuses(data)
  assert probe_reason(data, validation=DECODE) == reasons.CORRUPT


def test_interlaced_png_agrees_with_tensorflow():
  data = factory.interlaced_png(size=(37, 23))
  assert probe_image(data) == ImageInfo('png', *tf_decode(data))


def test_any_gif8_version_is_a_gif_as_for_tensorflow():
  data = b'GIF88a' + factory.gif(size=(21, 17))[6:]
  assert probe_image(data) == ImageInfo('gif', *tf_decode(data))


def test_default_validation_is_decode():
  assert config_lib.IngestConfig().validation == DECODE
  with pytest.raises(BadImageError):
    probe_image(gif_with_short_pixel_data())


def test_strict_skips_name_their_policy():
  with pytest.raises(BadImageError) as raised:
    probe_image(factory.bmp('P'))
  assert raised.value.policy == strict_policies.BMP_COLOUR_PALETTE
  with pytest.raises(BadImageError) as raised:
    probe_image(b'')
  assert raised.value.policy is None


# The JPEG check decodes through simplejpeg first and falls back to Pillow
# for what it refuses (image_probe/jpeg.py). Forcing the fallback gives the
# verdicts and pixels of Pillow alone, to compare with.


def _pillow_only(monkeypatch):
  def refuse(*unused_args, **unused_kwargs):
    raise ValueError('simplejpeg turned off by the test')
  monkeypatch.setattr(jpeg_probe.simplejpeg, 'decode_jpeg', refuse)


def test_jpeg_fast_decode_gives_the_verdicts_and_pixels_of_pillow_alone():
  count, differ = differential.jpeg_decode_paths_differ(60)
  assert count == 6 * 60
  assert differ == []


def test_jpeg_mutants_exercise_both_decode_paths(monkeypatch):
  jpeg_mutants = [data for flavour, _, data in differential.mutants(60)
                  if flavour.startswith('jpeg')]
  decoded = []
  real_decode = jpeg_probe.simplejpeg.decode_jpeg
  def counting_decode(*args, **kwargs):
    decoded.append(real_decode(*args, **kwargs))
    return decoded[-1]
  monkeypatch.setattr(jpeg_probe.simplejpeg, 'decode_jpeg', counting_decode)
  kept = 0
  for data in jpeg_mutants:
    try:
      probe_image(data, validation=DECODE)
      kept += 1
    except BadImageError:
      pass
  # Some kept mutants went through Pillow: libjpeg warned on them.
  assert 0 < len(decoded) < kept < len(jpeg_mutants)


@pytest.mark.parametrize('mode,size,progressive', [
    ('RGB', (96, 96), False),    # under 121 px: decoded at 1/1 or 1/2
    ('RGB', (500, 260), False),  # 1/4
    ('RGB', (1203, 977), True),  # 1/8, sides not multiples of 8
    ('L', (333, 301), False),
])
def test_jpeg_fast_decode_gives_pillows_pixels_and_scale(monkeypatch, mode,
                                                         size, progressive):
  data = factory.jpeg(mode, size=size, progressive=progressive)
  fast = probe_image(data, validation=DECODE)
  _pillow_only(monkeypatch)
  pillow = probe_image(data, validation=DECODE)
  image = Image.open(io.BytesIO(data))
  image.draft('L', (size[0] // fast.preview_scale,
                    size[1] // fast.preview_scale))

  assert fast.preview_scale == pillow.preview_scale == image.decoderconfig[0]
  assert fast.preview.dtype == np.uint8
  assert fast.preview.shape == pillow.preview.shape == image.size[::-1]
  assert np.array_equal(fast.preview, pillow.preview)
  assert np.array_equal(fast.preview, np.asarray(image))
