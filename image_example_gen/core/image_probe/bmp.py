"""BMP: TensorFlow's own decoder, whose checks this mirrors one for one.

`tf.io.decode_bmp` reads the pixel-data offset, width, height and bits per
pixel from fixed header positions, and requires the file to be exactly the
offset plus the padded rows. Its pixels are stored uncompressed, so a BMP that
passes these checks decodes: reading the header is the whole check, and there
is nothing more to decode. Files TensorFlow would read wrongly (compressed,
OS/2, odd bit depths, colour palettes) are skipped by `strict_policies`.
"""

from image_example_gen.core import reasons
from image_example_gen.core.image_probe import strict_policies
from image_example_gen.core.image_probe._common import BadImageError
from image_example_gen.core.image_probe._common import ImageInfo
from image_example_gen.core.image_probe._common import check_pixels

__all__ = ['probe']

_INT32_MAX = 2**31 - 1


def _int(data: bytes, start: int, size: int) -> int:
  return int.from_bytes(data[start:start + size], 'little', signed=True)


def probe(data: bytes, *, decode: bool, max_pixels: int) -> ImageInfo:
  """Returns what decode_image makes of the BMP, or raises BadImageError.

  `decode` changes nothing: the header checks are a full decode's checks.
  """
  del decode  # Uncompressed pixels: any byte values decode.
  if len(data) < 54:
    raise BadImageError(reasons.CORRUPT, f'BMP header cut at {len(data)} bytes')
  pixel_offset = _int(data, 10, 4)
  width = _int(data, 18, 4)
  height = _int(data, 22, 4)
  bits = _int(data, 28, 2)
  channels = int(bits / 8)  # C's truncating division, as TensorFlow's.
  if channels not in (1, 3, 4):
    raise BadImageError(reasons.UNSUPPORTED_FORMAT,
                        f'{bits}-bit BMP; TensorFlow reads 8, 24 and 32 bits')
  if width <= 0 or height == 0 or pixel_offset < 0:
    raise BadImageError(
        reasons.CORRUPT,
        f'BMP header declares {width}x{height}, pixels at {pixel_offset}')
  check_pixels(width, abs(height), max_pixels)
  if width * abs(height) >= _INT32_MAX // 8:
    raise BadImageError(reasons.TOO_LARGE,
                        f'BMP of {width}x{abs(height)} is over 2^28 pixels')
  row_bytes = (channels * width + 3) // 4 * 4
  expected_size = pixel_offset + row_bytes * abs(height)
  if expected_size != len(data):
    raise BadImageError(
        reasons.CORRUPT,
        f'BMP size {len(data)} is not its header offset plus its rows '
        f'({expected_size} bytes), which TensorFlow requires exactly')
  _check_layout(data, bits, pixel_offset)
  return ImageInfo('bmp', abs(height), width, channels)


def _check_layout(data: bytes, bits: int, pixel_offset: int) -> None:
  """Refuses what TensorFlow would decode, but wrongly (strict policies)."""
  dib_size = _int(data, 14, 4)
  compression = _int(data, 30, 4)
  problem = None
  if dib_size < 40:
    problem = f'a {dib_size}-byte OS/2 header'
  elif bits not in (8, 24, 32):
    problem = f'{bits} bits per pixel'
  elif compression not in (0, 3):  # BI_RGB, BI_BITFIELDS
    problem = f'compression type {compression}'
  if problem:
    raise BadImageError(
        reasons.UNSUPPORTED_FORMAT,
        f'BMP with {problem}: TensorFlow would read its bytes as plain pixels',
        strict_policies.BMP_LAYOUT)
  if bits == 8 and not _is_gray_ramp(data[14 + dib_size:pixel_offset]):
    raise BadImageError(
        reasons.UNSUPPORTED_FORMAT,
        '8-bit colour-palette BMP: TensorFlow would read palette indices as '
        'gray levels', strict_policies.BMP_COLOUR_PALETTE)


def _is_gray_ramp(palette: bytes) -> bool:
  entries = len(palette) // 4
  return entries > 0 and all(
      palette[4 * i] == palette[4 * i + 1] == palette[4 * i + 2] == i
      for i in range(entries))
