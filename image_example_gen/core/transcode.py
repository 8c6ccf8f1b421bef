"""Makes any image Pillow reads into bytes TensorFlow decodes, upright.

`prepare_image(data, ...)` returns a `Prepared`: the bytes to publish as
`image/encoded`, their format (one of TensorFlow's four: 'jpeg', 'png', 'gif',
'bmp'), the source format, what was done (transcoded, rotated, downscaled),
the original size and the published size and channels.

- Plain JPEG, PNG, GIF and BMP keep their original bytes: nothing is decoded.
  `needs_preparation(data, info, ...)` says in microseconds whether a file the
  probe accepted needs `prepare_image` at all (a header walk for the JPEG
  orientation; no decode).
- Transcoding (`transcode=True`): WebP, AVIF, TIFF, HEIC/HEIF (pillow-heif),
  JPEG 2000, ICO, PSD, QOI, and TensorFlow-format files the probe refuses
  (e.g. palette or RLE BMP), are decoded by Pillow and re-encoded:
    * with alpha, or from a lossless source: PNG;
    * from a lossy photographic source (lossy WebP, AVIF, HEIC,
      JPEG-compressed TIFF): JPEG, quality 95, 4:4:4 chroma. Measured on the
      sklearn photos (docs/formats.md): PNG is 2.3-10x the source's bytes,
      JPEG q95 4:4:4 0.8-3.5x; PNG takes 30-41x the encode time; the JPEG
      keeps 40-44 dB PSNR (minimum) against the decoded source, an error
      1.3-9.5 dB below the source codec's own (4:2:0 drops to 34 dB on
      JPEG-compressed TIFF).
  Multi-frame files keep their first frame (as TensorFlow does for GIF); HEIF
  its primary image; ICO the entry Pillow opens (the largest). Camera raw
  TIFFs (DNG, NEF, CR2 ...: a preview or sensor data first) stay
  'unsupported_format'.
- Modes map to 8 bits (see `_to_8bit`): 1 -> L; I;16* and I -> L by the high
  byte (I clipped to 0..65535 first); F -> L truncated and clipped to 0..255
  (Pillow's convert); P and PA -> RGBA when transparent, else RGB; La -> LA;
  RGBa -> RGBA; RGBX, CMYK, YCbCr, LAB, HSV -> RGB through Pillow's convert
  (no colour management). L, LA, RGB and RGBA stay as they are.
- Upright (`upright=True`): an EXIF orientation 2-8 (or XMP tiff:Orientation,
  as Pillow reads it) is applied to the pixels, exactly as
  `PIL.ImageOps.exif_transpose` shows the image. A JPEG is re-encoded (JPEG,
  quality 95, its own chroma subsampling when 4:2:0, else 4:4:4): no
  well-kept wheel offers lossless JPEG rotation (see docs/formats.md).
  Some decoders turn the pixels themselves (libheif applies HEIF's irot/imir
  and pillow-heif resets the EXIF tag to 1; Pillow's TIFF plugin applies the
  Orientation tag on load), so, as in exif_transpose, the tag is read after
  decoding: every picture is turned exactly once. `upright=False` keeps the
  stored pixels (a turn the decoder made is undone). Published bytes never
  carry EXIF or XMP, so no tag-aware reader turns them again; an ICC profile
  is kept for RGB and gray sources.
- Downscaling (`max_side=N`): an image whose longer side exceeds N is resized
  so that its longer side is N, the other side rounded, with
  `Image.Resampling.LANCZOS`. JPEGs are first DCT-scaled by libjpeg (`draft`)
  to no less than twice the target (as `Image.thumbnail(reducing_gap=2.0)`).
  JPEG stays JPEG (quality 95, 4:2:0 kept, else 4:4:4), a lossy transcoded
  source becomes JPEG as above, every other format PNG.
- Bad input: anything that does not decode is `BadImageError('corrupt')`
  (`unsupported_format` for a TensorFlow-format file the probe already
  refused), never another exception. Sizes are checked against `max_pixels`
  from the header Pillow reads on open, before any pixel is decoded
  ('too_large'); Pillow's own DecompressionBombError is 'too_large' too.

No TensorFlow import: this runs in every Beam worker.
"""

import dataclasses
import io
import re
import struct
import warnings
from typing import Optional, Tuple

from PIL import Image
from PIL import JpegImagePlugin
import pillow_heif

from image_example_gen.core import config as config_lib
from image_example_gen.core import reasons
from image_example_gen.core.image_probe import BadImageError
from image_example_gen.core.image_probe import ImageInfo
from image_example_gen.core.image_probe import detect_format
from image_example_gen.core.image_probe import probe_image

__all__ = [
    'JPEG_QUALITY', 'PNG_COMPRESS_LEVEL', 'RESAMPLING', 'TF_FORMATS',
    'TRANSCODED_FORMATS', 'Prepared', 'jpeg_orientation',
    'needs_preparation', 'prepare_image', 'source_format'
]

pillow_heif.register_heif_opener()
# Beam already runs one worker per core: libheif's own decoding threads would
# only compete with them.
pillow_heif.options.DECODE_THREADS = 1

# The formats tf.io.decode_image reads (image_probe.FORMATS).
TF_FORMATS = ('jpeg', 'png', 'gif', 'bmp')
# Source formats converted when transcode=True, as in `image/source_format`.
TRANSCODED_FORMATS = ('webp', 'avif', 'heif', 'tiff', 'jpeg2000', 'ico',
                      'psd', 'qoi')
JPEG_QUALITY = 95
# zlib level of the PNGs written. Measured on photos (docs/formats.md): Pillow's
# default, 6, takes 2.2x level 3's time for 7% fewer bytes; level 1 saves 20%
# of level 3's time for 4% more bytes.
PNG_COMPRESS_LEVEL = 3
RESAMPLING = Image.Resampling.LANCZOS
# JPEG draft: DCT-scale to no less than this many times the target size.
_REDUCING_GAP = 2

_PILLOW_FORMATS = {
    'jpeg': 'JPEG', 'png': 'PNG', 'gif': 'GIF', 'bmp': 'BMP', 'webp': 'WEBP',
    'avif': 'AVIF', 'heif': 'HEIF', 'tiff': 'TIFF', 'jpeg2000': 'JPEG2000',
    'ico': 'ICO', 'psd': 'PSD', 'qoi': 'QOI'
}
_NAMES = {
    'jpeg': 'JPEG', 'png': 'PNG', 'gif': 'GIF', 'bmp': 'BMP', 'webp': 'WebP',
    'avif': 'AVIF', 'heif': 'HEIF', 'tiff': 'TIFF', 'jpeg2000': 'JPEG 2000',
    'ico': 'ICO', 'psd': 'PSD', 'qoi': 'QOI'
}
# (signature, offset, source format); ISO-BMFF (HEIF/AVIF) is read separately.
_SIGNATURES = (
    (b'\xff\xd8\xff', 0, 'jpeg'),
    (b'\x89PNG\r\n\x1a\n', 0, 'png'),
    (b'GIF8', 0, 'gif'),
    (b'BM', 0, 'bmp'),
    (b'II*\x00', 0, 'tiff'),
    (b'MM\x00*', 0, 'tiff'),
    (b'II+\x00', 0, 'tiff'),  # BigTIFF
    (b'MM\x00+', 0, 'tiff'),
    (b'WEBP', 8, 'webp'),
    (b'\x00\x00\x00\x0cjP  \r\n\x87\n', 0, 'jpeg2000'),
    (b'\xff\x4f\xff\x51', 0, 'jpeg2000'),  # Raw codestream.
    (b'\x00\x00\x01\x00', 0, 'ico'),
    (b'8BPS', 0, 'psd'),
    (b'qoif', 0, 'qoi'),
)
_AVIF_BRANDS = frozenset((b'avif', b'avis'))
_HEIF_BRANDS = frozenset((b'heic', b'heix', b'hevc', b'hevx', b'heim',
                          b'heis', b'hevm', b'hevs', b'mif1', b'msf1'))
# TIFF compressions (Pillow's names) whose pixels were lossy-coded.
_LOSSY_TIFF_COMPRESSIONS = frozenset(('jpeg', 'tiff_jpeg', 'webp', 'jpeg2000'))
_ALWAYS_LOSSY = frozenset(('avif', 'heif'))

_ORIENTATION_TAG = 0x0112
_NEW_SUBFILE_TYPE_TAG = 254
_PHOTOMETRIC_TAG = 262
_RAW_PHOTOMETRICS = frozenset((32803, 34892))  # Colour filter array, LinearRaw.
# EXIF orientation -> the transpose that shows the image upright, as
# PIL.ImageOps.exif_transpose.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# ... and the transpose that undoes it.
_STORED = {**_UPRIGHT, 6: Image.Transpose.ROTATE_90,
           8: Image.Transpose.ROTATE_270}
_SWAPS = frozenset((Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270,
                    Image.Transpose.TRANSPOSE, Image.Transpose.TRANSVERSE))

_EXIF_HEADER = b'Exif\x00\x00'
_XMP_HEADER = b'http://ns.adobe.com/xap/1.0/\x00'
_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(="|>)([0-9])')
# PNG text chunks from which Pillow's getexif takes an orientation.
_PNG_EXIF_KEYWORDS = (b'Raw profile type exif\x00', b'XML:com.adobe.xmp\x00')


@dataclasses.dataclass(frozen=True)
class Prepared:
  """What to publish for one image.

  Attributes:
    data: The bytes for `image/encoded`: the original bytes (the same object)
      when nothing was needed, else a new PNG or JPEG.
    format: Format of `data`: 'jpeg', 'png', 'gif' or 'bmp'.
    source_format: Format of the original file: one of TF_FORMATS or
      TRANSCODED_FORMATS.
    height, width, channels: What tf.io.decode_image(data,
      expand_animations=False) returns.
    original_height, original_width: The source's size in the published
      orientation (after the upright turn), before any downscaling.
    orientation: The source's EXIF orientation as Pillow reads it (1-8; 1 when
      there is none, or when upright=False published the file unread).
    transcoded: The format changed because TensorFlow cannot decode the
      source (not for a JPEG re-encoded to turn or shrink it).
    rotated: The pixels were turned or mirrored to stand upright.
    downscaled: The image was scaled down to max_side.
  """
  data: bytes = dataclasses.field(repr=False)
  format: str
  source_format: str
  height: int
  width: int
  channels: int
  original_height: int
  original_width: int
  orientation: int = 1
  transcoded: bool = False
  rotated: bool = False
  downscaled: bool = False

  @property
  def changed(self) -> bool:
    """Whether `data` differs from the original bytes."""
    return self.transcoded or self.rotated or self.downscaled

  def info(self) -> ImageInfo:
    """The published image as the probe describes it (for build_example)."""
    return ImageInfo(self.format, self.height, self.width, self.channels)


def source_format(data: bytes) -> Optional[str]:
  """The format named by the file's signature (TF_FORMATS or
  TRANSCODED_FORMATS), or None."""
  for signature, offset, name in _SIGNATURES:
    if data[offset:offset + len(signature)] == signature:
      if name == 'webp' and data[:4] != b'RIFF':
        continue
      return name
  if data[4:8] == b'ftyp':
    return _bmff_format(data)
  return None


def _bmff_format(data: bytes) -> Optional[str]:
  """'avif' or 'heif' from an ISO-BMFF ftyp box's major and compatible
  brands, or None."""
  box_size = int.from_bytes(data[0:4], 'big')
  box = data[8:min(max(box_size, 16), len(data), 4096)]
  brands = {box[0:4]}
  brands.update(box[i:i + 4] for i in range(8, len(box) - 3, 4))
  if brands & _AVIF_BRANDS:
    return 'avif'
  if brands & _HEIF_BRANDS:
    return 'heif'
  return None


def jpeg_orientation(data: bytes) -> int:
  """The EXIF orientation of a JPEG from its header segments; no decoding.

  Reads what Pillow's `getexif` reads: tag 0x0112 of IFD0 in the first Exif
  APP1 segment, else `tiff:Orientation` in the XMP APP1 segment (the last
  one). Returns 1 when there is none or it does not parse; the value as
  stored otherwise (2-8 mean a turn; other values none, as for Pillow).
  """
  position, size = 2, len(data)
  exif_seen = False
  xmp = None
  while position + 4 <= size:
    if data[position] != 0xFF:
      break
    marker = data[position + 1]
    if marker == 0xFF:
      position += 1
      continue
    if marker == 0x01 or 0xD0 <= marker <= 0xD8:
      position += 2
      continue
    if marker in (0xD9, 0xDA):  # End of image, start of scan.
      break
    length = (data[position + 2] << 8) | data[position + 3]
    if marker == 0xE1:
      start = position + 4
      if not exif_seen and data.startswith(_EXIF_HEADER, start):
        exif_seen = True
        end = min(position + 2 + length, size)
        orientation = _tiff_orientation(data, start + 6, end)
        if orientation is not None:
          return orientation
      elif data.startswith(_XMP_HEADER, start):
        xmp = data[start + len(_XMP_HEADER):position + 2 + length]
    position += 2 + length
  if xmp is not None:
    match = _XMP_ORIENTATION.search(xmp)
    if match:
      return int(match[2])
  return 1


def _tiff_orientation(data: bytes, start: int, end: int) -> Optional[int]:
  """Tag 0x0112 of IFD0 of the TIFF structure in data[start:end], or None."""
  return _ifd0_value(data, start, end, _ORIENTATION_TAG)


def _ifd0_value(data: bytes, start: int, end: int,
                wanted: int) -> Optional[int]:
  """A BYTE, SHORT or LONG tag of IFD0 of the TIFF structure in
  data[start:end], or None."""
  header = data[start:start + 8]
  if header[:4] == b'II*\x00':
    order = '<'
  elif header[:4] == b'MM\x00*':
    order = '>'
  else:
    return None
  ifd = start + struct.unpack(order + 'I', header[4:8])[0]
  if ifd + 2 > end:
    return None
  (count,) = struct.unpack_from(order + 'H', data, ifd)
  entry = ifd + 2
  for _ in range(count):
    if entry + 12 > end:
      return None
    tag, kind = struct.unpack_from(order + 'HH', data, entry)
    if tag == wanted:
      if kind == 3:  # SHORT
        return struct.unpack_from(order + 'H', data, entry + 8)[0]
      if kind == 4:  # LONG
        return struct.unpack_from(order + 'I', data, entry + 8)[0]
      if kind == 1:  # BYTE
        return data[entry + 8]
      return None
    entry += 12
  return None


def _png_may_be_oriented(data: bytes) -> bool:
  """Whether the chunks before IDAT hold an eXIf orientation of 2-8, or text
  metadata from which Pillow may read one (then Pillow decides)."""
  position, size = 8, len(data)
  while position + 8 <= size:
    length = int.from_bytes(data[position:position + 4], 'big')
    kind = data[position + 4:position + 8]
    if kind in (b'IDAT', b'IEND'):
      return False
    start = position + 8
    if kind == b'eXIf':
      end = min(start + length, size)
      offset = start + 6 if data.startswith(_EXIF_HEADER, start) else start
      return _tiff_orientation(data, offset, end) in _UPRIGHT
    if kind in (b'tEXt', b'zTXt', b'iTXt') and data.startswith(
        _PNG_EXIF_KEYWORDS, start):
      return True
    position = start + length + 4
  return False


def needs_preparation(data: bytes,
                      info: Optional[ImageInfo] = None,
                      *,
                      upright: bool = True,
                      max_side: Optional[int] = None) -> bool:
  """Whether `prepare_image` may publish other bytes than `data`.

  Cheap (no decode; 3-6 us measured): meant for a file `probe_image` accepted,
  with its result as `info`, so that plain files skip `prepare_image`. False
  means: publish `data` as it is. True for any file not in TensorFlow's four
  formats (`prepare_image` transcodes it or raises), and, without `info`, for
  any file when `max_side` is set.
  """
  source = source_format(data)
  if source not in TF_FORMATS:
    return True
  if max_side is not None and (info is None or
                               max(info.height, info.width) > max_side):
    return True
  if upright:
    if source == 'jpeg':
      return jpeg_orientation(data) in _UPRIGHT
    if source == 'png':
      return _png_may_be_oriented(data)
  return False


def prepare_image(data: bytes,
                  *,
                  transcode: bool = True,
                  upright: bool = True,
                  max_side: Optional[int] = None,
                  max_pixels: int = config_lib.DEFAULT_MAX_PIXELS,
                  tf_readable: Optional[bool] = None) -> Prepared:
  """Returns what to publish for `data`, or raises BadImageError.

  Args:
    data: The file's bytes.
    transcode: Convert formats TensorFlow cannot decode; when False they
      raise BadImageError('unsupported_format') as the probe does.
    upright: Apply the EXIF orientation to the pixels.
    max_side: Scale down images whose longer side is larger; None: never.
    max_pixels: Refuse ('too_large') a header declaring more pixels, before
      any decoding.
    tf_readable: The probe's verdict on `data` (False when it raised
      'unsupported_format'); None: TensorFlow's four formats count as
      readable.

  Any failure, however unexpected, is a BadImageError.
  """
  if max_side is not None and max_side < 1:
    raise ValueError(f'max_side must be positive, not {max_side}')
  source = source_format(data)
  if source is None:
    detect_format(data)  # Raises the probe's reason: corrupt, unsupported...
    raise BadImageError(reasons.NOT_AN_IMAGE, 'no image signature')
  readable = source in TF_FORMATS if tf_readable is None else tf_readable
  if not readable and not transcode:
    raise BadImageError(
        reasons.UNSUPPORTED_FORMAT,
        f'{_NAMES[source]} image; TensorFlow decodes only JPEG, PNG, GIF and '
        'BMP (transcoding is off)')
  try:
    with warnings.catch_warnings():
      warnings.simplefilter('ignore')
      if readable:
        return _prepare_readable(data, source, upright, max_side, max_pixels)
      return _transcode(data, source, upright, max_side, max_pixels)
  except BadImageError:
    raise
  except Image.DecompressionBombError as error:
    raise BadImageError(reasons.TOO_LARGE, str(error)) from None
  except Exception as error:  # pylint: disable=broad-except
    # Pillow, libheif and the codecs raise many types on damaged data.
    if readable or source not in TF_FORMATS:
      raise BadImageError(
          reasons.CORRUPT,
          f'{_NAMES[source]}: does not decode ({error!r})') from None
    raise BadImageError(
        reasons.UNSUPPORTED_FORMAT,
        f'{_NAMES[source]} that TensorFlow cannot decode and Pillow cannot '
        f'convert ({error!r})') from None


def _prepare_readable(data: bytes, source: str, upright: bool,
                      max_side: Optional[int], max_pixels: int) -> Prepared:
  """A JPEG, PNG, GIF or BMP TensorFlow decodes: its own bytes unless it must
  be turned or shrunk."""
  info = probe_image(data, validation=config_lib.VALIDATION_STRUCTURE,
                     max_pixels=max_pixels)
  unchanged = Prepared(data, info.format, source, info.height, info.width,
                       info.channels, info.height, info.width)
  if not needs_preparation(data, info, upright=upright, max_side=max_side):
    return unchanged
  image = _open(data, source, max_pixels)
  # These decoders never turn the pixels themselves: the tag is what is left.
  orientation = _exif_orientation(image)
  target = _target_size(image.size, max_side)
  if (not upright or orientation not in _UPRIGHT) and target is None:
    return dataclasses.replace(unchanged, orientation=orientation)
  if source == 'jpeg':
    return _reencode(image, source, upright, target, 'jpeg',
                     subsampling=_jpeg_subsampling(image), transcoded=False)
  # PNG keeps its channels; a GIF decodes to RGB in TensorFlow; BMP as Pillow.
  mode = 'RGB' if source == 'gif' else None
  return _reencode(image, source, upright, target, 'png', mode=mode,
                   transcoded=False)


def _transcode(data: bytes, source: str, upright: bool,
               max_side: Optional[int], max_pixels: int) -> Prepared:
  if source == 'tiff':
    _refuse_camera_raw(data)
  image = _open(data, source, max_pixels)
  lossy = _is_lossy(data, source, image)
  target = _target_size(image.size, max_side)
  return _reencode(image, source, upright, target,
                   'jpeg' if lossy else 'png', subsampling=0, transcoded=True)


def _refuse_camera_raw(data: bytes) -> None:
  """Camera raw files are TIFFs (DNG, NEF, CR2, ARW ...) whose first image is
  a small preview or undemosaiced sensor data: never published as the photo."""
  end = min(len(data), 1 << 20)
  subfile_type = _ifd0_value(data, 0, end, _NEW_SUBFILE_TYPE_TAG) or 0
  photometric = _ifd0_value(data, 0, end, _PHOTOMETRIC_TAG)
  if (data[8:10] == b'CR' or subfile_type & 1 or
      photometric in _RAW_PHOTOMETRICS):
    raise BadImageError(
        reasons.UNSUPPORTED_FORMAT,
        'camera raw TIFF (its first image is a reduced-resolution preview or '
        'sensor data); TensorFlow decodes only JPEG, PNG, GIF and BMP')


def _open(data: bytes, source: str, max_pixels: int) -> Image.Image:
  """Opens lazily (header only) and checks the declared size."""
  image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[source]])
  width, height = image.size
  if width <= 0 or height <= 0:
    raise BadImageError(reasons.CORRUPT,
                        f'{_NAMES[source]}: header declares {width}x{height}')
  if width * height > max_pixels:
    raise BadImageError(
        reasons.TOO_LARGE,
        f'{_NAMES[source]}: header declares {width}x{height} = '
        f'{width * height} pixels, over max_pixels={max_pixels}')
  return image


def _exif_orientation(image: Image.Image) -> int:
  """The orientation `ImageOps.exif_transpose` applies: 1-8, and 1 when it
  is absent, unreadable or out of range (exif_transpose does nothing then)."""
  try:
    orientation = image.getexif().get(_ORIENTATION_TAG, 1)
  except Exception:  # pylint: disable=broad-except
    return 1
  return orientation if orientation in range(1, 9) else 1


def _target_size(size: Tuple[int, int],
                 max_side: Optional[int]) -> Optional[Tuple[int, int]]:
  """(width, height) with the longer side max_side, or None if it fits."""
  width, height = size
  if max_side is None or max(width, height) <= max_side:
    return None
  if width >= height:
    return max_side, max(1, round(height * max_side / width))
  return max(1, round(width * max_side / height)), max_side


def _jpeg_subsampling(image: Image.Image) -> int:
  """Pillow's subsampling of a JPEG source: 2 (4:2:0) kept, else 0 (4:4:4)."""
  return 2 if JpegImagePlugin.get_sampling(image) == 2 else 0


def _is_lossy(data: bytes, source: str, image: Image.Image) -> bool:
  """Whether the source's pixels come from a lossy (photographic) codec."""
  if source in _ALWAYS_LOSSY:
    return True
  if source == 'webp':
    return _webp_is_lossy(data)
  if source == 'tiff':
    return image.info.get('compression') in _LOSSY_TIFF_COMPRESSIONS
  return False  # JPEG 2000 (may be reversible), ICO, PSD, QOI, BMP ...


def _webp_is_lossy(data: bytes) -> bool:
  """True when the first image chunk is VP8 (lossy), False for VP8L."""
  position, end = 12, len(data)
  while position + 8 <= end:
    kind = data[position:position + 4]
    length = int.from_bytes(data[position + 4:position + 8], 'little')
    if kind == b'VP8 ':
      return True
    if kind == b'VP8L':
      return False
    if kind == b'ANMF':  # An animation frame: 16 bytes, then its chunks.
      position += 8 + 16
      end = min(end, position - 16 + length)
      continue
    position += 8 + length + (length & 1)
  return False


def _to_8bit(image: Image.Image) -> Image.Image:
  """The image in L, LA, RGB or RGBA (see the module docstring)."""
  mode = image.mode
  if mode in ('L', 'LA', 'RGB', 'RGBA'):
    return image
  if mode.startswith('I;16') or mode == 'I':
    # Big-endian 16-bit samples (Pillow clips I to 0..65535); the high bytes.
    high = image.tobytes('raw', 'I;16B')[::2]
    return Image.frombytes('L', image.size, high)
  if mode in ('P', 'PA'):
    return image.convert('RGBA' if image.has_transparency_data else 'RGB')
  if mode in ('1', 'F'):
    return image.convert('L')
  if mode == 'La':
    return image.convert('LA')
  if mode == 'RGBa':
    return image.convert('RGBA')
  if 'A' in mode:
    return image.convert('RGBA')
  return image.convert('RGB')  # RGBX, CMYK, YCbCr, LAB, HSV ...


def _reencode(image: Image.Image,
              source: str,
              upright: bool,
              target: Optional[Tuple[int, int]],
              output: str,
              *,
              transcoded: bool,
              mode: Optional[str] = None,
              subsampling: int = 0) -> Prepared:
  """Decodes, maps to 8 bits, shrinks, turns, and encodes as `output`.

  Some decoders turn the pixels themselves: libheif applies HEIF's irot/imir
  (pillow-heif then resets the EXIF tag to 1 and keeps the value in
  info['original_orientation']), and Pillow's TIFF plugin applies the
  Orientation tag on load and deletes it. So, as `ImageOps.exif_transpose`,
  the tag is read after decoding: what is left is what to apply; what the
  decoder applied is undone when upright=False.
  """
  before = _exif_orientation(image)
  icc_profile = image.info.get('icc_profile') if image.mode in (
      '1', 'L', 'LA', 'P', 'PA', 'RGB', 'RGBA', 'RGBX', 'I', 'I;16', 'I;16B',
      'I;16L', 'I;16N') else None
  # The decoder's full-size output; turned below to the published orientation.
  original_width, original_height = image.size
  if target is not None and source == 'jpeg':
    image.draft(None, (target[0] * _REDUCING_GAP, target[1] * _REDUCING_GAP))
  image.load()
  after = _exif_orientation(image)
  if source == 'heif':
    applied = image.info.get('original_orientation') or 1
  else:
    applied = before if before in _UPRIGHT and after != before else 1
  orientation = applied if applied in _UPRIGHT else after
  turn = _UPRIGHT.get(after) if upright else None
  undo = None if upright else _STORED.get(applied)
  pixels = _to_8bit(image)
  if mode is not None and pixels.mode != mode:
    pixels = pixels.convert(mode)
  if output == 'jpeg' and pixels.mode not in ('L', 'RGB'):
    output = 'png'  # Alpha: JPEG cannot hold it.
  if target is not None:
    pixels = pixels.resize(target, RESAMPLING)
  for method in (undo, turn):
    if method is not None:
      pixels = pixels.transpose(method)
      if method in _SWAPS:
        original_width, original_height = original_height, original_width
  pixels.info = {}  # No EXIF, XMP, transparency or comment carried over.
  buffer = io.BytesIO()
  if output == 'jpeg':
    pixels.save(buffer, 'JPEG', quality=JPEG_QUALITY, subsampling=subsampling,
                icc_profile=icc_profile)
  else:
    pixels.save(buffer, 'PNG', compress_level=PNG_COMPRESS_LEVEL,
                icc_profile=icc_profile)
  width, height = pixels.size
  return Prepared(
      data=buffer.getvalue(),
      format=output,
      source_format=source,
      height=height,
      width=width,
      channels=len(pixels.getbands()),
      original_height=original_height,
      original_width=original_width,
      orientation=orientation,
      transcoded=transcoded,
      rotated=upright and orientation in _UPRIGHT,
      downscaled=target is not None)

