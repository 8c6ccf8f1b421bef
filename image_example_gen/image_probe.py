"""Identifies an image from its bytes, as TensorFlow's decode_image would.

`probe_image(data)` returns the format, height, width and channel count that
`tf.io.decode_image(data, expand_animations=False)` produces, or raises
`BadImageError` with a reason from `reasons`:

- the format comes from the file's signature, never from its extension;
- sizes come from the header (Pillow, lazily, or our own parse of BMP and GIF
  headers: no pixel is decoded), so an image declaring more than `max_pixels`
  pixels is refused before any allocation;
- the default `validation='structure'` walks the container without decoding
  pixels, which catches truncated downloads: JPEG markers up to the first scan
  and an end-of-image marker after it, PNG chunk sequence with CRCs up to IEND,
  GIF blocks up to the trailer, BMP pixel-array size;
- `validation='decode'` also decodes every frame with Pillow.

No TensorFlow import: this runs in every Beam worker.
"""

import dataclasses
import io
import struct
import warnings
import zlib

from PIL import Image
from PIL import UnidentifiedImageError

from image_example_gen import config as config_lib
from image_example_gen import reasons

__all__ = ['BadImageError', 'ImageInfo', 'probe_image', 'FORMATS']

# The formats tf.io.decode_image reads, as written to `image/format`.
FORMATS = ('jpeg', 'png', 'gif', 'bmp')

_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
_SIGNATURES = (
    (b'\xff\xd8\xff', 'jpeg'),
    (_PNG_SIGNATURE, 'png'),
    (b'GIF87a', 'gif'),
    (b'GIF89a', 'gif'),
    (b'BM', 'bmp'),
)
# Real image formats that TensorFlow cannot decode: (signature, offset, name).
_UNSUPPORTED_SIGNATURES = (
    (b'II*\x00', 0, 'TIFF'),
    (b'MM\x00*', 0, 'TIFF'),
    (b'WEBP', 8, 'WebP'),
    (b'ftypheic', 4, 'HEIC'),
    (b'ftypheix', 4, 'HEIC'),
    (b'ftypmif1', 4, 'HEIF'),
    (b'ftypavif', 4, 'AVIF'),
    (b'\x00\x00\x01\x00', 0, 'ICO'),
    (b'8BPS', 0, 'PSD'),
    (b'\x00\x00\x00\x0cjP  ', 0, 'JPEG 2000'),
    (b'\xff\x4f\xff\x51', 0, 'JPEG 2000 codestream'),
    (b'\xff\x0a', 0, 'JPEG XL'),
    (b'\x00\x00\x00\x0cJXL ', 0, 'JPEG XL'),
    (b'qoif', 0, 'QOI'),
)
_PILLOW_FORMATS = {'jpeg': 'JPEG', 'png': 'PNG', 'gif': 'GIF', 'bmp': 'BMP'}


class BadImageError(ValueError):
  """A file that is not a usable image; `reason` is one of `reasons`."""

  def __init__(self, reason: str, detail: str):
    super().__init__(f'{reason}: {detail}')
    self.reason = reason
    self.detail = detail


@dataclasses.dataclass(frozen=True)
class ImageInfo:
  """What tf.io.decode_image(expand_animations=False) makes of an image."""
  format: str
  height: int
  width: int
  channels: int


def detect_format(data: bytes) -> str:
  """Returns the format named by the file's signature, or raises."""
  if not data:
    raise BadImageError(reasons.CORRUPT, 'empty file (0 bytes)')
  for signature, name in _SIGNATURES:
    if data.startswith(signature):
      return name
  for signature, offset, name in _UNSUPPORTED_SIGNATURES:
    if data[offset:offset + len(signature)] == signature:
      raise BadImageError(reasons.UNSUPPORTED_FORMAT,
                          f'{name} image; TensorFlow decodes only '
                          'JPEG, PNG, GIF and BMP')
  raise BadImageError(reasons.NOT_AN_IMAGE, 'no JPEG, PNG, GIF or BMP signature')


def probe_image(
    data: bytes,
    *,
    validation: str = config_lib.VALIDATION_STRUCTURE,
    max_pixels: int = config_lib.DEFAULT_MAX_PIXELS) -> ImageInfo:
  """Returns what TensorFlow decodes from `data`, or raises BadImageError."""
  image_format = detect_format(data)
  if image_format == 'bmp':
    height, width, channels = _bmp_header(data)
  elif image_format == 'gif':
    height, width = _gif_size(data)  # Walks every block, decodes nothing.
    channels = 3  # TensorFlow decodes every GIF to RGB.
  else:
    height, width, channels = _pillow_header(data, image_format)
  if width <= 0 or height <= 0:
    raise BadImageError(reasons.CORRUPT, f'header declares {width}x{height}')
  if width * height > max_pixels:
    raise BadImageError(
        reasons.TOO_LARGE,
        f'header declares {width}x{height} = {width * height} pixels, over '
        f'max_pixels={max_pixels}')
  if image_format == 'jpeg':
    _check_jpeg_structure(data)
  elif image_format == 'png':
    _check_png_structure(data)
  if validation == config_lib.VALIDATION_DECODE:
    _decode_all_frames(data, image_format)
  return ImageInfo(image_format, height, width, channels)


def _open(data: bytes, image_format: str) -> Image.Image:
  """Opens lazily: Pillow reads the header and decodes no pixel."""
  try:
    with warnings.catch_warnings():
      warnings.simplefilter('ignore', Image.DecompressionBombWarning)
      return Image.open(io.BytesIO(data),
                        formats=[_PILLOW_FORMATS[image_format]])
  except Image.DecompressionBombError as error:
    raise BadImageError(reasons.TOO_LARGE, str(error)) from None
  except UnidentifiedImageError:
    raise BadImageError(
        reasons.CORRUPT,
        f'{image_format} signature, but the header does not parse') from None
  except (OSError, SyntaxError, ValueError, EOFError, IndexError,
          TypeError) as error:
    raise BadImageError(reasons.CORRUPT,
                        f'unreadable {image_format} header: {error}') from None


def _pillow_header(data: bytes, image_format: str):
  image = _open(data, image_format)
  width, height = image.size
  mode = image.mode
  if image_format == 'jpeg':
    channels = 1 if mode == 'L' else 3  # CMYK and YCbCr decode to RGB.
  elif mode == 'P':  # png
    channels = 4 if 'transparency' in image.info else 3
  else:
    channels = {'LA': 2, 'La': 2, 'RGB': 3, 'RGBA': 4}.get(mode, 1)
  return height, width, channels


def _le(data: bytes, start: int, size: int, signed: bool = False) -> int:
  return int.from_bytes(data[start:start + size], 'little', signed=signed)


def _bmp_header(data: bytes):
  """Parses a BMP header the way TensorFlow's decode_bmp reads it."""
  if len(data) < 54:
    raise BadImageError(reasons.CORRUPT, f'BMP header cut at {len(data)} bytes')
  pixel_offset = _le(data, 10, 4)
  dib_size = _le(data, 14, 4)
  if dib_size < 40:
    raise BadImageError(reasons.UNSUPPORTED_FORMAT,
                        f'BMP with a {dib_size}-byte OS/2 header')
  width = _le(data, 18, 4, signed=True)
  height = abs(_le(data, 22, 4, signed=True))
  bits = _le(data, 28, 2)
  compression = _le(data, 30, 4)
  if bits not in (8, 24, 32):
    raise BadImageError(reasons.UNSUPPORTED_FORMAT,
                        f'{bits}-bit BMP; TensorFlow reads 8, 24 and 32 bits')
  if compression not in (0, 3):  # BI_RGB, BI_BITFIELDS
    raise BadImageError(reasons.UNSUPPORTED_FORMAT,
                        f'compressed BMP (compression type {compression})')
  if bits == 8 and not _is_gray_palette(data, 14 + dib_size, pixel_offset):
    raise BadImageError(
        reasons.UNSUPPORTED_FORMAT,
        '8-bit colour-palette BMP: TensorFlow would read palette indices '
        'as gray levels')
  row_bytes = (bits * width + 31) // 32 * 4
  expected_size = pixel_offset + row_bytes * height
  if expected_size > len(data):
    raise BadImageError(
        reasons.CORRUPT,
        f'BMP truncated: its pixel array needs {expected_size} bytes, the '
        f'file has {len(data)}')
  if expected_size < len(data):
    raise BadImageError(
        reasons.UNSUPPORTED_FORMAT,
        f'BMP with {len(data) - expected_size} bytes after its pixel array; '
        "TensorFlow's BMP decoder requires the exact size")
  return height, width, bits // 8


def _is_gray_palette(data: bytes, start: int, end: int) -> bool:
  palette = data[start:end]
  entries = len(palette) // 4
  return entries > 0 and all(
      palette[4 * i] == palette[4 * i + 1] == palette[4 * i + 2] == i
      for i in range(entries))


def _check_jpeg_structure(data: bytes) -> None:
  """Walks the markers to the first scan, then looks for end-of-image."""
  position, size = 2, len(data)
  scan_start = None
  while position + 4 <= size:
    if data[position] != 0xFF:
      raise BadImageError(reasons.CORRUPT,
                          f'JPEG: no marker at byte {position}')
    marker = data[position + 1]
    if marker == 0xFF:  # Fill byte.
      position += 1
      continue
    if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # Markers without length.
      position += 2
      continue
    if marker == 0xD9:
      raise BadImageError(reasons.CORRUPT, 'JPEG: end-of-image before a scan')
    segment_length = int.from_bytes(data[position + 2:position + 4], 'big')
    if marker == 0xDA:
      scan_start = position + 2 + segment_length
      break
    position += 2 + segment_length
  if scan_start is None or scan_start > size:
    raise BadImageError(reasons.CORRUPT,
                        'JPEG: truncated before the image data')
  # 0xFF in entropy-coded data is always stuffed (FF00) or a restart marker,
  # so an FFD9 after the first scan can only be the end-of-image marker.
  if data.rfind(b'\xff\xd9', scan_start) < 0:
    raise BadImageError(reasons.CORRUPT,
                        'JPEG: truncated (no end-of-image marker)')


def _check_png_structure(data: bytes) -> None:
  """Walks the chunks from IHDR to IEND, checking every CRC."""
  view = memoryview(data)
  position, size = len(_PNG_SIGNATURE), len(data)
  seen_data = False
  first = True
  while True:
    if position + 12 > size:
      raise BadImageError(reasons.CORRUPT,
                          f'PNG: truncated at byte {size} (no IEND chunk)')
    length = int.from_bytes(view[position:position + 4], 'big')
    chunk_type = bytes(view[position + 4:position + 8])
    end = position + 12 + length
    name = chunk_type.decode('latin-1')
    if end > size:
      raise BadImageError(reasons.CORRUPT,
                          f'PNG: truncated inside the {name} chunk')
    if first and chunk_type != b'IHDR':
      raise BadImageError(reasons.CORRUPT, 'PNG: first chunk is not IHDR')
    first = False
    crc = int.from_bytes(view[end - 4:end], 'big')
    if zlib.crc32(view[position + 4:end - 4]) != crc:
      raise BadImageError(reasons.CORRUPT,
                          f'PNG: CRC mismatch in the {name} chunk at byte '
                          f'{position}')
    seen_data = seen_data or chunk_type == b'IDAT'
    if chunk_type == b'IEND':
      break
    position = end
  if not seen_data:
    raise BadImageError(reasons.CORRUPT, 'PNG: no IDAT chunk')


def _skip_sub_blocks(data: bytes, position: int) -> int:
  size = len(data)
  while position < size:
    block_size = data[position]
    position += 1
    if block_size == 0:
      return position
    position += block_size
  raise BadImageError(reasons.CORRUPT, 'GIF: truncated inside a data block')


def _color_table_bytes(flags: int) -> int:
  return 3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0


def _gif_size(data: bytes):
  """Walks the GIF blocks to the trailer; returns (height, width) as TF decodes.

  TensorFlow decodes a GIF to the largest frame width and height over all
  frames, not to the logical screen size that Pillow reports.
  """
  size = len(data)
  if size < 13:
    raise BadImageError(reasons.CORRUPT, f'GIF header cut at {size} bytes')
  position = 13 + _color_table_bytes(data[10])
  height = width = 0
  frames = 0
  while position < size:
    block = data[position]
    if block == 0x3B:  # Trailer.
      break
    if block == 0x21:  # Extension: label, then data sub-blocks.
      position = _skip_sub_blocks(data, position + 2)
    elif block == 0x2C:  # Image descriptor.
      if position + 11 > size:
        raise BadImageError(reasons.CORRUPT,
                            'GIF: truncated inside an image descriptor')
      width = max(width, _le(data, position + 5, 2))
      height = max(height, _le(data, position + 7, 2))
      frames += 1
      position += 10 + _color_table_bytes(data[position + 9]) + 1
      position = _skip_sub_blocks(data, position)
    else:
      raise BadImageError(reasons.CORRUPT,
                          f'GIF: unknown block 0x{block:02x} at byte {position}')
  else:
    raise BadImageError(reasons.CORRUPT, 'GIF: truncated (no trailer)')
  if not frames:
    raise BadImageError(reasons.CORRUPT, 'GIF: no image in the file')
  return height, width


def _decode_all_frames(data: bytes, image_format: str) -> None:
  image = _open(data, image_format)
  try:
    for frame in range(getattr(image, 'n_frames', 1)):
      image.seek(frame)
      image.load()
  except (OSError, SyntaxError, ValueError, EOFError, IndexError,
          struct.error, zlib.error) as error:
    raise BadImageError(reasons.CORRUPT,
                        f'{image_format} does not decode: {error}') from None
