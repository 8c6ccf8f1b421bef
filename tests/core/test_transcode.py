"""prepare_image: every image Pillow reads, upright, in a format TF decodes.

Pixels are checked where it matters, in TensorFlow: every published file is
decoded with `tf.io.decode_image(data, expand_animations=False)` and compared
with what Pillow shows for the source (`ImageOps.exif_transpose` of its first
frame, mapped to 8 bits). Tolerances:
- PNG outputs (lossless): exactly equal;
- JPEG outputs (quality 95, 4:4:4): mean absolute difference at most 3
  levels (measured 2.4-2.7 on these 64x48 photo crops, PSNR 37-38 dB; 1.8 of
  it is TensorFlow's default JPEG IDCT, INTEGER_FAST, against Pillow's
  ISLOW on the same bytes);
- downscaled images: against Pillow's LANCZOS resize of the full decode,
  exact for PNG outputs, at most 3 levels for JPEG outputs and 5 for JPEG
  sources (libjpeg's DCT scaling, `draft`, adds about 2 levels at 640 ->
  128 px: measured 4.2, PSNR 32 dB).
An orientation is right when the expected layout is also the nearest of all 8
(a wrong turn or mirror of these photo crops differs by 20+ levels).
"""

import io
import os
import subprocess
import sys

import numpy as np
from PIL import Image
from PIL import ImageOps
import pytest

import format_factory as ff
import image_factory
from image_example_gen.core import reasons
from image_example_gen.core import transcode
from image_example_gen.core.image_probe import BadImageError
from image_example_gen.core.image_probe import probe_image

JPEG_TOLERANCE = 3.0
DOWNSCALE_JPEG_TOLERANCE = 5.0
WRONG_LAYOUT = 10.0  # Mean difference above which a layout is clearly wrong.


@pytest.fixture(scope='module', name='tf_decode')
def tf_decode_fixture():
  """tf.io.decode_image(data, expand_animations=False) as a numpy array."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  return lambda data: tf.io.decode_image(data, expand_animations=False).numpy()


def squeeze(pixels: np.ndarray) -> np.ndarray:
  pixels = np.asarray(pixels)
  if pixels.ndim == 3 and pixels.shape[-1] == 1:
    return pixels[..., 0]
  return pixels


def check_published(prepared: transcode.Prepared, tf_decode,
                    expected: np.ndarray,
                    tolerance: float = JPEG_TOLERANCE) -> np.ndarray:
  """TF decodes prepared.data to `expected`: exactly for PNG, within
  `tolerance` for JPEG; the Prepared fields describe what TF returns."""
  decoded = tf_decode(prepared.data)
  assert decoded.shape == (prepared.height, prepared.width, prepared.channels)
  assert probe_image(prepared.data).format == prepared.format
  if prepared.format == 'png':
    np.testing.assert_array_equal(squeeze(decoded), squeeze(expected))
  else:
    assert ff.mean_abs_diff(decoded, expected) <= tolerance
  return decoded


def pillow_view(data: bytes) -> np.ndarray:
  """What a viewer shows: Pillow's first frame, exif_transpose'd."""
  return ff.pillow_pixels(data, ImageOps.exif_transpose)


def nearest_layout(decoded: np.ndarray, reference: Image.Image) -> str:
  """The name of the transpose of `reference` nearest to `decoded`."""
  distances = {}
  for name, method in ff.ALL_TRANSPOSES.items():
    candidate = np.asarray(
        reference if method is None else reference.transpose(method))
    if candidate.shape == decoded.shape:
      distances[name] = ff.mean_abs_diff(decoded, candidate)
  best = min(distances, key=distances.get)
  others = [d for name, d in distances.items() if name != best]
  assert min(others) > WRONG_LAYOUT, distances
  return best


# --- Plain files keep their bytes -------------------------------------------


@pytest.mark.parametrize('name', ['jpeg', 'jpeg_orientation_1', 'jpeg_gray',
                                  'png', 'png_rgba', 'gif', 'animated_gif',
                                  'bmp'])
def test_plain_files_keep_their_exact_bytes(name):
  data = {
      'jpeg': image_factory.jpeg(size=(64, 48)),
      'jpeg_orientation_1': ff.oriented_jpeg(1),
      'jpeg_gray': image_factory.jpeg('L'),
      'png': image_factory.png(),
      'png_rgba': image_factory.png('RGBA'),
      'gif': image_factory.gif(),
      'animated_gif': image_factory.animated_gif(),
      'bmp': image_factory.bmp(),
  }[name]
  info = probe_image(data)
  assert not transcode.needs_preparation(data, info)
  assert not transcode.needs_preparation(data, info, max_side=64)
  prepared = transcode.prepare_image(data, max_side=64)
  assert prepared.data is data
  assert not prepared.changed
  assert prepared.info() == info
  assert prepared.source_format == info.format
  assert (prepared.original_height, prepared.original_width) == (info.height,
                                                                 info.width)


def test_upright_false_keeps_an_oriented_jpeg_as_it_is():
  data = ff.oriented_jpeg(6)
  assert not transcode.needs_preparation(data, probe_image(data), upright=False)
  prepared = transcode.prepare_image(data, upright=False)
  assert prepared.data is data and not prepared.rotated


# --- Transcoding: each new format -------------------------------------------


def expected_pixels(name: str, data: bytes) -> np.ndarray:
  """Pillow's first frame of the source, mapped to 8 bits as documented."""
  with Image.open(io.BytesIO(data)) as image:
    image.load()
    if image.mode == 'I;16':
      return np.asarray(image, dtype=np.uint16) >> 8
    if image.mode == 'CMYK':
      return np.asarray(image.convert('RGB'))
    assert image.mode in ('RGB', 'RGBA'), (name, image.mode)
    return np.asarray(image)


# name -> (published format, channels)
TRANSCODED = {
    'webp_lossy': ('jpeg', 3),
    'webp_lossless': ('png', 3),
    'webp_alpha': ('png', 4),
    'webp_animated': ('png', 3),
    'tiff_lzw_rgb': ('png', 3),
    'tiff_16bit_gray': ('png', 1),
    'tiff_multipage': ('png', 3),
    'tiff_cmyk': ('png', 3),
    'tiff_jpeg': ('jpeg', 3),
    'avif': ('jpeg', 3),
    'heic': ('jpeg', 3),
    'jpeg2000': ('png', 3),
    'ico': ('png', 3),
    'qoi': ('png', 3),
}


@pytest.fixture(scope='module', name='new_files')
def new_files_fixture():
  return ff.new_format_files()


@pytest.mark.parametrize('name', sorted(TRANSCODED))
def test_transcoded_file_decodes_in_tf_to_the_pixels_pillow_shows(
    name, new_files, tf_decode):
  data = new_files[name]
  assert transcode.needs_preparation(data)
  prepared = transcode.prepare_image(data)
  published_format, channels = TRANSCODED[name]
  assert (prepared.format, prepared.channels) == (published_format, channels)
  assert prepared.transcoded and not prepared.rotated
  assert not prepared.downscaled
  assert prepared.source_format == {'heic': 'heif'}.get(
      name.split('_')[0], name.split('_')[0])
  assert (prepared.height, prepared.width) == (48, 64)
  assert (prepared.original_height, prepared.original_width) == (48, 64)
  check_published(prepared, tf_decode, expected_pixels(name, data))


def test_multi_frame_files_publish_their_first_frame(new_files, tf_decode):
  first = np.asarray(ff.frames()[0])
  for name in ('webp_animated', 'tiff_multipage'):
    prepared = transcode.prepare_image(new_files[name])
    np.testing.assert_array_equal(tf_decode(prepared.data), first)


def test_sixteen_bit_gray_maps_by_the_high_byte(new_files, tf_decode):
  levels = np.asarray(ff.sixteen_bit_gray(), dtype=np.uint16)
  assert (levels & 0xFF).any()  # The low bytes are not all zero.
  prepared = transcode.prepare_image(new_files['tiff_16bit_gray'])
  decoded = tf_decode(prepared.data)
  np.testing.assert_array_equal(decoded[..., 0], levels >> 8)


@pytest.mark.parametrize('mode,channels', [('1', 1), ('L', 1), ('LA', 2),
                                           ('P', 3), ('I;16', 1), ('I', 1),
                                           ('F', 1), ('RGB', 3), ('RGBA', 4),
                                           ('CMYK', 3), ('YCbCr', 3)])
def test_modes_map_to_8_bits_predictably(mode, channels, tf_decode):
  photo = ff.upright_photo()
  if mode == 'P':
    image = photo.quantize(colors=64)
  elif mode in ('I;16', 'I', 'F'):
    levels = np.asarray(photo.convert('L'), dtype=np.float64)
    values = {'I;16': levels * 257, 'I': levels * 257 - 1000 + 4000 * (
        levels > 200), 'F': levels * 1.5}[mode]
    array = values.astype({'I;16': np.uint16, 'I': np.int32,
                           'F': np.float32}[mode])
    image = Image.fromarray(array, mode if mode != 'I;16' else None)
  else:
    image = photo.convert(mode)
  data = ff.encode(image, 'TIFF')
  prepared = transcode.prepare_image(data)
  assert prepared.format == 'png' and prepared.channels == channels
  decoded = squeeze(tf_decode(prepared.data))
  with Image.open(io.BytesIO(data)) as source:
    if mode in ('I;16', 'I'):
      raw = np.asarray(source, dtype=np.int64)
      expected = np.clip(raw, 0, 65535) >> 8
    elif mode == 'F':
      expected = np.clip(np.floor(np.asarray(source)), 0, 255)
    elif mode == '1':
      expected = np.asarray(source.convert('L'))
    elif mode in ('CMYK', 'YCbCr', 'P'):
      expected = np.asarray(source.convert('RGB'))
    else:
      expected = np.asarray(source)
  np.testing.assert_array_equal(decoded, squeeze(expected))


def test_palette_bmp_the_probe_refuses_is_transcoded_to_png(tf_decode):
  data = image_factory.bmp(mode='P')
  with pytest.raises(BadImageError) as error:
    probe_image(data)
  assert error.value.reason == reasons.UNSUPPORTED_FORMAT
  prepared = transcode.prepare_image(data, tf_readable=False)
  assert (prepared.format, prepared.source_format) == ('png', 'bmp')
  assert prepared.transcoded
  check_published(prepared, tf_decode,
                  ff.pillow_pixels(data, lambda image: image.convert('RGB')))


@pytest.mark.parametrize('name', ['webp_lossy', 'tiff_lzw_rgb', 'avif', 'heic'])
def test_transcode_off_skips_new_formats_as_unsupported(name, new_files):
  with pytest.raises(BadImageError) as error:
    transcode.prepare_image(new_files[name], transcode=False)
  assert error.value.reason == reasons.UNSUPPORTED_FORMAT


@pytest.mark.parametrize('tags', [{254: 1}, {262: 32803}])
def test_camera_raw_tiffs_are_not_published_as_their_preview(tags):
  """DNG, NEF ...: IFD0 is a reduced-resolution preview (NewSubfileType 1)
  or colour-filter-array sensor data (Photometric 32803)."""
  photo = ff.upright_photo()
  if 262 in tags:  # Pillow writes its own Photometric: patch the value.
    data = bytearray(ff.encode(photo.convert('L'), 'TIFF'))
    entry = data.index(b'\x06\x01\x03\x00\x01\x00\x00\x00')  # tag 262
    data[entry + 8:entry + 10] = (32803).to_bytes(2, 'little')
    data = bytes(data)
  else:
    data = ff.encode(photo, 'TIFF', tiffinfo=tags)
  with pytest.raises(BadImageError) as error:
    transcode.prepare_image(data)
  assert error.value.reason == reasons.UNSUPPORTED_FORMAT
  assert 'camera raw' in error.value.detail


def test_not_an_image_keeps_the_probes_reason():
  for data, reason in ((b'hello, world\n' * 10, reasons.NOT_AN_IMAGE),
                       (b'', reasons.CORRUPT)):
    with pytest.raises(BadImageError) as error:
      transcode.prepare_image(data)
    assert error.value.reason == reason


# --- Upright ------------------------------------------------------------------


@pytest.mark.parametrize('orientation', range(1, 9))
def test_jpeg_orientations_publish_the_upright_picture(orientation, tf_decode):
  upright = ff.upright_photo()
  data = ff.oriented_jpeg(orientation, upright)
  info = probe_image(data)
  assert transcode.jpeg_orientation(data) == orientation
  assert transcode.needs_preparation(data, info) == (orientation != 1)
  prepared = transcode.prepare_image(data)
  assert prepared.orientation == orientation
  assert prepared.rotated == (orientation != 1)
  assert prepared.source_format == 'jpeg' and prepared.format == 'jpeg'
  assert not prepared.transcoded
  assert (prepared.height, prepared.width) == (48, 64)
  assert (prepared.original_height, prepared.original_width) == (48, 64)
  decoded = check_published(prepared, tf_decode, pillow_view(data))
  with Image.open(io.BytesIO(data)) as source:
    source.load()
    turn = transcode._UPRIGHT.get(orientation)  # pylint: disable=W0212
    assert nearest_layout(decoded, source) == (
        'identity' if turn is None else turn.name)
  # No tag left that would turn the picture a second time.
  with Image.open(io.BytesIO(prepared.data)) as published:
    assert published.getexif().get(0x0112, 1) == 1
  assert transcode.jpeg_orientation(prepared.data) == 1


@pytest.mark.parametrize('orientation', range(1, 9))
def test_heic_orientations_are_applied_exactly_once(orientation, tf_decode):
  upright = ff.upright_photo()
  data = ff.oriented_heic(orientation, upright)
  prepared = transcode.prepare_image(data)
  assert prepared.source_format == 'heif' and prepared.format == 'jpeg'
  assert prepared.orientation == orientation
  assert prepared.rotated == (orientation != 1)
  assert (prepared.height, prepared.width) == (48, 64)
  assert (prepared.original_height, prepared.original_width) == (48, 64)
  decoded = check_published(prepared, tf_decode, pillow_view(data))
  # Upright relative to the truth: no turn left, none added.
  assert nearest_layout(decoded, upright) == 'identity'
  with Image.open(io.BytesIO(prepared.data)) as published:
    assert published.getexif().get(0x0112, 1) == 1


@pytest.mark.parametrize('kind', ['heic', 'tiff', 'webp', 'jpeg_max_side'])
@pytest.mark.parametrize('orientation', [3, 6, 7])
def test_upright_false_keeps_the_stored_pixels(kind, orientation, tf_decode):
  """Also where the decoder turns the pixels itself (libheif, Pillow's TIFF
  plugin): that turn is undone."""
  upright = ff.upright_photo()
  stored = ff.stored(upright, orientation)
  max_side = None
  if kind == 'heic':
    data = ff.oriented_heic(orientation, upright)
  elif kind == 'jpeg_max_side':
    upright = ff.upright_photo((320, 240))
    stored = ff.stored(upright, orientation)
    data = ff.oriented_jpeg(orientation, upright)
    max_side = 64
  else:
    data = ff.encode(stored, kind.upper(), exif=ff.exif_bytes(orientation))
  prepared = transcode.prepare_image(data, upright=False, max_side=max_side)
  assert not prepared.rotated and prepared.orientation == orientation
  assert (prepared.original_width, prepared.original_height) == stored.size
  decoded = tf_decode(prepared.data)
  if max_side:
    stored = stored.resize((prepared.width, prepared.height),
                           transcode.RESAMPLING)
  assert nearest_layout(decoded, stored) == 'identity'


@pytest.mark.parametrize('pillow_format,save_args', [
    ('WEBP', {'lossless': True}), ('TIFF', {'compression': 'tiff_lzw'}),
    ('TIFF', {'compression': 'jpeg'}), ('AVIF', {'quality': 90})])
@pytest.mark.parametrize('orientation', [3, 6, 7])
def test_other_formats_apply_their_orientation_once(pillow_format, save_args,
                                                    orientation, tf_decode):
  """WebP's EXIF chunk, TIFF's Orientation tag, AVIF's irot/imir (which
  Pillow reports as the EXIF orientation): turned as exif_transpose shows."""
  upright = ff.upright_photo()
  data = ff.encode(ff.stored(upright, orientation), pillow_format,
                   exif=ff.exif_bytes(orientation), **save_args)
  prepared = transcode.prepare_image(data)
  assert prepared.rotated and prepared.orientation == orientation
  decoded = check_published(prepared, tf_decode, pillow_view(data))
  assert nearest_layout(decoded, upright) == 'identity'


def test_png_exif_orientation_is_applied(tf_decode):
  upright = ff.upright_photo()
  data = ff.encode(ff.stored(upright, 6), 'PNG', exif=ff.exif_bytes(6))
  assert transcode.needs_preparation(data, probe_image(data))
  prepared = transcode.prepare_image(data)
  assert prepared.rotated and prepared.format == 'png'
  np.testing.assert_array_equal(tf_decode(prepared.data), np.asarray(upright))


def test_jpeg_orientation_reads_what_pillow_reads():
  photo = ff.upright_photo()
  big_endian = (b'MM\x00*\x00\x00\x00\x08\x00\x01' +
                b'\x01\x12\x00\x03\x00\x00\x00\x01\x00\x05\x00\x00' +
                b'\x00\x00\x00\x00')
  xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
         b'tiff:Orientation="7"/></rdf:RDF></x:xmpmeta>')
  cases = {
      'little-endian': ff.encode(photo, 'JPEG', exif=ff.exif_bytes(3)),
      'big-endian': ff.encode(photo, 'JPEG', exif=b'Exif\x00\x00' + big_endian),
      'xmp': ff.encode(photo, 'JPEG', xmp=xmp),
      'none': ff.encode(photo, 'JPEG'),
      'exif without orientation': ff.encode(photo, 'JPEG', exif=Image.Exif()
                                            .tobytes()),
  }
  for name, data in cases.items():
    with Image.open(io.BytesIO(data)) as image:
      expected = image.getexif().get(0x0112, 1)
    assert transcode.jpeg_orientation(data) == expected, name
  assert [transcode.jpeg_orientation(cases[n]) for n in
          ('little-endian', 'big-endian', 'xmp', 'none')] == [3, 5, 7, 1]


# --- Downscaling ------------------------------------------------------------


def downscale_cases():
  china = image_factory.photo('china')  # 640x427
  tall = china.crop((100, 0, 400, 427))  # 300x427
  return {
      'jpeg': (image_factory.encode(china, 'JPEG', quality=90), 'jpeg'),
      'jpeg_gray': (image_factory.encode(china.convert('L'), 'JPEG'), 'jpeg'),
      'jpeg_tall_oriented_6': (ff.oriented_jpeg(6, tall), 'jpeg'),
      'png': (image_factory.encode(tall, 'PNG'), 'png'),
      'png_rgba': (image_factory.encode(ff.with_alpha(china), 'PNG'), 'png'),
      'gif': (image_factory.encode(china, 'GIF'), 'png'),
      'bmp': (image_factory.encode(china, 'BMP'), 'png'),
      'webp_lossy': (image_factory.encode(tall, 'WEBP'), 'jpeg'),
      'tiff': (image_factory.encode(china, 'TIFF'), 'png'),
      'heic_oriented_8': (ff.oriented_heic(8, china), 'jpeg'),
  }


@pytest.mark.parametrize('name', sorted(downscale_cases()))
def test_max_side_fits_the_longer_side_keeping_the_aspect_ratio(
    name, tf_decode):
  data, published_format = downscale_cases()[name]
  reference = Image.fromarray(ff.pillow_pixels(
      data, lambda image: ImageOps.exif_transpose(image).convert(
          'RGB' if name == 'gif' else image.mode)))
  width, height = reference.size
  prepared = transcode.prepare_image(data, max_side=128)
  assert prepared.downscaled and prepared.format == published_format
  assert max(prepared.height, prepared.width) == 128
  # Each side within half a pixel of the exact scale.
  scale = 128 / max(width, height)
  assert abs(prepared.width - width * scale) <= 0.5
  assert abs(prepared.height - height * scale) <= 0.5
  assert (prepared.original_width, prepared.original_height) == (width, height)
  expected = reference.resize((prepared.width, prepared.height),
                              transcode.RESAMPLING)
  tolerance = (DOWNSCALE_JPEG_TOLERANCE if name.startswith('jpeg') else
               JPEG_TOLERANCE)
  decoded = check_published(prepared, tf_decode, np.asarray(expected),
                            tolerance)
  if prepared.format == 'png' and prepared.source_format in ('png', 'tiff'):
    assert prepared.channels == len(reference.getbands())
  assert decoded.shape[:2] == (prepared.height, prepared.width)


def test_max_side_leaves_smaller_images_untouched(new_files):
  for data in (image_factory.jpeg(size=(64, 48)), image_factory.png(),
               image_factory.gif()):
    assert transcode.prepare_image(data, max_side=64).data is data
  prepared = transcode.prepare_image(new_files['webp_lossless'], max_side=64)
  assert not prepared.downscaled and prepared.transcoded


def test_max_side_must_be_positive():
  with pytest.raises(ValueError):
    transcode.prepare_image(image_factory.png(), max_side=0)


# --- Bad input ----------------------------------------------------------------

NEW_FORMATS = ('webp_lossy', 'webp_lossless', 'webp_animated', 'tiff_lzw_rgb',
               'tiff_cmyk', 'avif', 'heic', 'jpeg2000')


@pytest.mark.parametrize('name', NEW_FORMATS)
def test_truncated_files_are_corrupt(name, new_files):
  data = new_files[name]
  for keep in (0.1, 0.5, 0.9):
    with pytest.raises(BadImageError) as error:
      transcode.prepare_image(ff.truncated(data, keep))
    assert error.value.reason == reasons.CORRUPT, (keep, error.value)


def first_structure_offset(name: str, data: bytes) -> int:
  """Where the first structure after the signature starts: the first WebP
  chunk's size, TIFF's IFD0 offset, the size of the box after ftyp (HEIF,
  AVIF) or after the signature box (JPEG 2000)."""
  if name.startswith('webp'):
    return 16
  if name.startswith('tiff'):
    return 4
  return int.from_bytes(data[0:4], 'big')


@pytest.mark.parametrize('name', NEW_FORMATS)
def test_damaged_headers_are_corrupt(name, new_files):
  data = new_files[name]
  offset = first_structure_offset(name, data)
  damaged = data[:offset] + b'\xff' * 4 + data[offset + 4:]
  with pytest.raises(BadImageError) as error:
    transcode.prepare_image(damaged)
  assert error.value.reason == reasons.CORRUPT


@pytest.mark.parametrize('name', ['webp_lossy', 'webp_animated', 'tiff_lzw_rgb',
                                  'tiff_jpeg', 'avif', 'heic'])
def test_mutants_are_corrupt_or_decode_in_tf(name, new_files, tf_decode):
  """Never another exception, never an Example TensorFlow cannot decode."""
  data = new_files[name]
  rng = np.random.default_rng(sum(name.encode()))
  outcomes = {'corrupt': 0, 'published': 0}
  for _ in range(40):
    mutant = bytearray(data)
    for position in rng.integers(0, len(data), size=rng.integers(1, 9)):
      mutant[position] = int(rng.integers(0, 256))
    try:
      prepared = transcode.prepare_image(bytes(mutant))
    except BadImageError as error:
      assert error.reason in (reasons.CORRUPT, reasons.TOO_LARGE,
                              reasons.NOT_AN_IMAGE,
                              reasons.UNSUPPORTED_FORMAT), error
      outcomes['corrupt'] += 1
      continue
    decoded = tf_decode(prepared.data)
    assert decoded.shape == (prepared.height, prepared.width,
                             prepared.channels)
    outcomes['published'] += 1
  assert sum(outcomes.values()) == 40


def test_declared_size_over_max_pixels_is_too_large_before_decoding():
  photo = ff.upright_photo()
  tiff = ff.encode(photo, 'TIFF', compression='tiff_lzw')
  # 50,000 x 50,000 would need 7.5 GB decoded: refused from the header.
  cases = {
      'tiff': ff.tiff_with_declared_size(tiff, 50_000, 50_000),
      'webp': ff.webp_with_declared_size(ff.encode(photo, 'WEBP'), 16_000,
                                         16_000),
  }
  for name, data in cases.items():
    with pytest.raises(BadImageError) as error:
      transcode.prepare_image(data)
    assert error.value.reason == reasons.TOO_LARGE, (name, error.value)


@pytest.mark.parametrize('name', ['webp_lossy', 'tiff_lzw_rgb', 'avif', 'heic',
                                  'jpeg2000'])
def test_max_pixels_applies_to_new_formats(name, new_files):
  data = new_files[name]
  with pytest.raises(BadImageError) as error:
    transcode.prepare_image(data, max_pixels=64 * 48 - 1)
  assert error.value.reason == reasons.TOO_LARGE
  assert transcode.prepare_image(data, max_pixels=64 * 48).transcoded


def test_the_module_imports_no_tensorflow():
  root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
  code = ('import sys; import image_example_gen.core.transcode; '
          'assert "tensorflow" not in sys.modules, "tensorflow imported"')
  subprocess.run([sys.executable, '-c', code], check=True, cwd=root)
