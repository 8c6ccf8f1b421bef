"""Identifies an image from its bytes, as TensorFlow's decode_image would.

`probe_image(data)` returns the format, height, width and channel count that
`tf.io.decode_image(data, expand_animations=False)` produces, or raises
`BadImageError` with a reason from `reasons`. One module per format, as
Pillow keeps one plugin per format:

- jpeg.py: the marker walk; libjpeg decodes the scan data at 1/8 scale;
- png.py: the chunk walk with CRCs; the pixel data inflated and its rows'
  filter types checked;
- gif.py: the block walk; the first frame LZW-decoded, its colour indices
  checked;
- bmp.py: TensorFlow's own header and size checks.

The format comes from the file's signature, never from its extension. An
image declaring more than `max_pixels` pixels is refused before anything is
allocated for its pixels. `validation='decode'` (the default) runs each
format's decode check: every image it keeps decodes in TensorFlow, to the
shape it returns. `validation='structure'` walks the container only (see
README.md for what it does not catch). Where the probe is deliberately
stricter than TensorFlow, the error names the policy (`strict_policies`).

No TensorFlow import: this runs in every Beam worker.
"""

from image_example_gen.core import config as config_lib
from image_example_gen.core import reasons
from image_example_gen.core.image_probe import bmp
from image_example_gen.core.image_probe import gif
from image_example_gen.core.image_probe import jpeg
from image_example_gen.core.image_probe import png
from image_example_gen.core.image_probe._common import BadImageError
from image_example_gen.core.image_probe._common import ImageInfo

__all__ = ['BadImageError', 'FORMATS', 'ImageInfo', 'detect_format',
           'probe_image']

# The formats tf.io.decode_image reads, as written to `image/format`.
FORMATS = ('jpeg', 'png', 'gif', 'bmp')

_SIGNATURES = (
    (b'\xff\xd8\xff', jpeg),
    (png.SIGNATURE, png),
    (b'GIF8', gif),  # TensorFlow's signature: any version (87a, 89a ...).
    (b'BM', bmp),
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


def _format_module(data: bytes):
  if not data:
    raise BadImageError(reasons.CORRUPT, 'empty file (0 bytes)')
  for signature, module in _SIGNATURES:
    if data.startswith(signature):
      return module
  for signature, offset, name in _UNSUPPORTED_SIGNATURES:
    if data[offset:offset + len(signature)] == signature:
      raise BadImageError(reasons.UNSUPPORTED_FORMAT,
                          f'{name} image; TensorFlow decodes only '
                          'JPEG, PNG, GIF and BMP')
  raise BadImageError(reasons.NOT_AN_IMAGE, 'no JPEG, PNG, GIF or BMP signature')


def detect_format(data: bytes) -> str:
  """Returns the format named by the file's signature, or raises."""
  return _format_module(data).__name__.rsplit('.', 1)[-1]


def probe_image(
    data: bytes,
    *,
    validation: str = config_lib.VALIDATION_DECODE,
    max_pixels: int = config_lib.DEFAULT_MAX_PIXELS) -> ImageInfo:
  """Returns what TensorFlow decodes from `data`, or raises BadImageError.

  Any failure to parse, however unexpected, is a BadImageError: no input
  makes the probe raise anything else.
  """
  module = _format_module(data)
  try:
    return module.probe(
        data, decode=validation == config_lib.VALIDATION_DECODE,
        max_pixels=max_pixels)
  except BadImageError:
    raise
  except Exception as error:  # pylint: disable=broad-except
    raise BadImageError(
        reasons.CORRUPT,
        f'{detect_format(data)}: damaged beyond parsing ({error!r})') from None
