"""JPEG: the marker walk, then libjpeg's own verdict on the scan data.

The walk reads the frame header (size, components, precision) up to the
first scan and looks for the end-of-image marker after it; it decodes no
pixel. Damage inside the entropy-coded data can only be found by decoding
it, so `decode=True` has libjpeg-turbo (the library TensorFlow uses) decode
the whole scan data at 1/8 scale in gray: the Huffman decoding is complete,
while the inverse DCT shrinks to one value per 8x8 block and the colour
conversion is skipped. Measured on a 400x300 photo: a full Pillow decode
720 us, 1/8-scale RGB 440 us, 1/8-scale gray 330 us (`python
tests/differential.py` gives the agreement with TensorFlow).

The decode goes first through simplejpeg (libjpeg-turbo's TurboJPEG API) in
its strict mode, which fails on any libjpeg warning as well as on errors;
only what it refuses goes to Pillow's decode, whose verdict (it lets
libjpeg's warnings pass, as TensorFlow does, and fails on errors and
truncation) is the one kept. Both give the same pixels. On the 96x96 px
JPEGs of the million-file benchmark the decode took 121 us through Pillow
(whose header parsing is Python) and 33 us through simplejpeg
(docs/scale.md).
"""

import numpy as np
import simplejpeg

from image_example_gen.core import near_duplicates
from image_example_gen.core import reasons
from image_example_gen.core.image_probe import strict_policies
from image_example_gen.core.image_probe._common import BadImageError
from image_example_gen.core.image_probe._common import ImageInfo
from image_example_gen.core.image_probe._common import check_pixels
from image_example_gen.core.image_probe._common import open_with_pillow

__all__ = ['probe']

# Start-of-frame markers (all but DHT C4, JPG C8 and DAC CC in C0-CF).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Lossless JPEG, which libjpeg-turbo (TensorFlow's decoder) does not read.
_LOSSLESS_SOF_MARKERS = frozenset((0xC3, 0xC7, 0xCB, 0xCF))


def probe(data: bytes, *, decode: bool, max_pixels: int) -> ImageInfo:
  """Returns what decode_image makes of the JPEG, or raises BadImageError."""
  height, width, components, scan_start = _read_header(data)
  # Gray stays gray; YCbCr, CMYK and YCCK decode to RGB.
  channels = 1 if components == 1 else 3
  check_pixels(width, height, max_pixels)
  # 0xFF in entropy-coded data is always stuffed (FF00) or a restart marker,
  # so an FFD9 after the first scan can only be the end-of-image marker.
  if data.rfind(b'\xff\xd9', scan_start) < 0:
    raise BadImageError(reasons.CORRUPT,
                        'JPEG: truncated (no end-of-image marker)')
  if not decode:
    return ImageInfo('jpeg', height, width, channels)
  scale = near_duplicates.jpeg_decode_scale(width, height)
  return ImageInfo('jpeg', height, width, channels,
                   _decode_scaled(data, width, height, components, scale),
                   scale)


def _read_header(data: bytes):
  """Walks the markers to the first scan; returns (height, width, number of
  components, offset of the scan data)."""
  position, size = 2, len(data)
  frame = None
  while position + 4 <= size:
    if data[position] != 0xFF or data[position + 1] == 0x00:
      # libjpeg skips bytes that are not a marker, with a warning.
      position = data.find(b'\xff', position + 1)
      if position < 0:
        break
      continue
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
      frame = _read_frame(marker, data[position + 4:position + 10])
    if marker == 0xDA:
      if frame is None:
        raise BadImageError(reasons.CORRUPT, 'JPEG: scan before any frame')
      scan_start = position + 2 + segment_length
      if scan_start > size:
        break
      return frame + (scan_start,)
    position += 2 + segment_length
  raise BadImageError(reasons.CORRUPT, 'JPEG: truncated before the image data')


def _read_frame(marker: int, frame: bytes):
  """(height, width, number of components) from a start-of-frame segment."""
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
  return height, width, components


def _decode_scaled(data: bytes, width: int, height: int, components: int,
                   scale: int) -> np.ndarray:
  """The gray decode at 1/scale (a 2-D array of 8-bit gray pixels), or raises
  BadImageError.

  At 1/8 scale, or, for an image under 121 px on its shorter side, at the
  scale the near-duplicate fingerprint decodes it (1/4 to 1/1, as
  near_duplicates.open_for_fingerprint does), so that the fingerprint reuses
  this decode instead of opening the image again: on the 96x96 px JPEGs of
  the million-file benchmark that second decode cost about as much as the
  check (docs/scale.md). The check is the same at any scale: libjpeg decodes
  all of the scan data.
  """
  reduced = (-(-width // scale), -(-height // scale))  # libjpeg rounds up.
  pixels = None
  if components in (1, 3):  # Pillow decodes CMYK and YCCK in CMYK, not gray.
    try:
      pixels = simplejpeg.decode_jpeg(
          data, colorspace='GRAY', min_width=reduced[0],
          min_height=reduced[1], min_factor=scale, strict=True)
    except Exception:  # pylint: disable=broad-except
      pass  # A libjpeg warning or error: Pillow's verdict, below.
  if pixels is not None and pixels.shape[1::-1] == reduced:
    return pixels[:, :, 0]
  image = open_with_pillow(data, 'JPEG')
  try:
    image.draft('L', (max(1, width // scale), max(1, height // scale)))
    image.load()
  except Exception as error:  # pylint: disable=broad-except
    # libjpeg's errors reach Pillow as OSError, SyntaxError or ValueError.
    raise BadImageError(
        reasons.CORRUPT, f'JPEG image data does not decode: {error}',
        strict_policies.JPEG_DAMAGED_DATA) from None
  # Pillow decodes CMYK and YCCK JPEGs in CMYK: their gray is converted.
  return np.asarray(image if image.mode == 'L' else image.convert('L'))
