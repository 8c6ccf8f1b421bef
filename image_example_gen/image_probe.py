"""Identifies an image from its bytes, as TensorFlow's decode_image would.

`probe_image(data)` returns the format, height, width and channel count that
`tf.io.decode_image(data, expand_animations=False)` produces, or raises
`BadImageError` with a reason from `reasons`:

- the format comes from the file's signature, never from its extension;
- the header and the container structure are read in one walk that decodes
  no pixel (JPEG markers up to the first scan and an end-of-image marker after
  it; PNG chunks with their CRCs from IHDR to IEND; GIF blocks to the trailer;
  BMP header and pixel-array size), so truncated downloads are caught, and an
  image declaring more than `max_pixels` pixels is refused before anything is
  allocated for its pixels;
- `validation='decode'` also decodes every frame with Pillow, which catches
  damage inside the compressed data.

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
  if image_format == 'jpeg':
    height, width, channels, scan_start = _jpeg_header(data)
  elif image_format == 'png':
    height, width, channels = _png_header(data)
  elif image_format == 'gif':
    height, width = _gif_size(data)
    channels = 3  # TensorFlow decodes every GIF to RGB.
  else:
    height, width, channels = _bmp_header(data)
  if width <= 0 or height <= 0:
    raise BadImageError(reasons.CORRUPT, f'header declares {width}x{height}')
  if width * height > max_pixels:
    raise BadImageError(
        reasons.TOO_LARGE,
        f'header declares {width}x{height} = {width * height} pixels, over '
        f'max_pixels={max_pixels}')
  if image_format == 'jpeg':
    _check_jpeg_end(data, scan_start)
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


# Start-of-frame markers (all but DHT C4, JPG C8 and DAC CC in C0-CF).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Lossless JPEG, which libjpeg-turbo (TensorFlow's decoder) does not read.
_LOSSLESS_SOF_MARKERS = frozenset((0xC3, 0xC7, 0xCB, 0xCF))


def _jpeg_header(data: bytes):
  """Walks the markers to the first scan; returns (height, width, channels,
  offset of the scan data)."""
  position, size = 2, len(data)
  frame = None
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
    if marker in _SOF_MARKERS and position + 10 <= size:
      frame = _jpeg_frame(marker, data[position + 4:position + 10])
    if marker == 0xDA:
      if frame is None:
        raise BadImageError(reasons.CORRUPT, 'JPEG: scan before any frame')
      scan_start = position + 2 + segment_length
      if scan_start > size:
        break
      return frame + (scan_start,)
    position += 2 + segment_length
  raise BadImageError(reasons.CORRUPT, 'JPEG: truncated before the image data')


def _jpeg_frame(marker: int, frame: bytes):
  """(height, width, channels) from a start-of-frame segment."""
  precision, components = frame[0], frame[5]
  if marker in _LOSSLESS_SOF_MARKERS or precision != 8:
    raise BadImageError(
        reasons.UNSUPPORTED_FORMAT,
        f'{"lossless" if marker in _LOSSLESS_SOF_MARKERS else ""} '
        f'{precision}-bit JPEG; TensorFlow decodes 8-bit lossy JPEG'.strip())
  if components not in (1, 3, 4):
    raise BadImageError(reasons.CORRUPT,
                        f'JPEG frame with {components} components')
  height = int.from_bytes(frame[1:3], 'big')
  width = int.from_bytes(frame[3:5], 'big')
  # Gray stays gray; YCbCr, CMYK and YCCK decode to RGB.
  return height, width, 1 if components == 1 else 3


def _check_jpeg_end(data: bytes, scan_start: int) -> None:
  # 0xFF in entropy-coded data is always stuffed (FF00) or a restart marker,
  # so an FFD9 after the first scan can only be the end-of-image marker.
  if data.rfind(b'\xff\xd9', scan_start) < 0:
    raise BadImageError(reasons.CORRUPT,
                        'JPEG: truncated (no end-of-image marker)')


# PNG colour type -> channels as TensorFlow decodes it (palette: 3, or 4 with
# a tRNS chunk; a tRNS chunk on gray or RGB adds no channel).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}


def _png_header(data: bytes):
  """Walks the chunks from IHDR to IEND, checking every CRC; returns
  (height, width, channels)."""
  view = memoryview(data)
  position, size = len(_PNG_SIGNATURE), len(data)
  header = None
  seen_data = seen_transparency = False
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
    if header is None:
      if chunk_type != b'IHDR' or length < 13:
        raise BadImageError(reasons.CORRUPT, 'PNG: first chunk is not IHDR')
      header = bytes(view[position + 8:position + 21])
    crc = int.from_bytes(view[end - 4:end], 'big')
    if zlib.crc32(view[position + 4:end - 4]) != crc:
      raise BadImageError(reasons.CORRUPT,
                          f'PNG: CRC mismatch in the {name} chunk at byte '
                          f'{position}')
    seen_data = seen_data or chunk_type == b'IDAT'
    seen_transparency = seen_transparency or chunk_type == b'tRNS'
    if chunk_type == b'IEND':
      break
    position = end
  if not seen_data:
    raise BadImageError(reasons.CORRUPT, 'PNG: no IDAT chunk')
  color_type = header[9]
  if color_type not in _PNG_CHANNELS:
    raise BadImageError(reasons.CORRUPT, f'PNG: colour type {color_type}')
  channels = 4 if color_type == 3 and seen_transparency else _PNG_CHANNELS[
      color_type]
  return (int.from_bytes(header[4:8], 'big'),
          int.from_bytes(header[0:4], 'big'), channels)


def _skip_sub_blocks(data: bytes, position: int) -> int:
  size = len(data)
  while position < size:
    block_size = data[position]
    position += 1
    if block_size == 0:
      return position
    position += block_size
  raise BadImageError(reasons.CORRUPT,
                      'GIF: truncated or damaged (a data block runs past the end)')


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
    raise BadImageError(reasons.CORRUPT,
                        'GIF: truncated or damaged (no trailer found)')
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
