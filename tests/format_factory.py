"""Image files beyond TensorFlow's four formats, and EXIF-oriented ones.

Built by Pillow (and pillow-heif for HEIC) from crops of the sklearn photos
(`image_factory.crop`), so that every test and benchmark runs on photographic
content: WebP (lossy, lossless, alpha, animated), AVIF, HEIC, TIFF (LZW,
16-bit gray, multi-page, CMYK, JPEG-compressed), JPEG 2000, ICO, QOI; JPEGs and
HEICs stored turned, with the EXIF orientation that shows them upright; and
damaged or hostile variants.
"""

import io
import struct
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
from PIL import Image
import pillow_heif

import image_factory

pillow_heif.register_heif_opener()

# EXIF orientation -> the transpose that turns the upright picture into the
# stored one (the inverse of what ImageOps.exif_transpose applies).
TO_STORED = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
# Every way to lay the pixels of an image (the dihedral group), by name.
ALL_TRANSPOSES = {
    'identity': None,
    **{t.name: t for t in Image.Transpose},
}


def encode(image: Image.Image, pillow_format: str, **save_args) -> bytes:
  return image_factory.encode(image, pillow_format, **save_args)


def upright_photo(size: Tuple[int, int] = (64, 48),
                  photo_name: str = 'china') -> Image.Image:
  """A recognisable, asymmetric RGB crop (no two of its 8 turns alike)."""
  return image_factory.crop(size, photo_name, box=(60, 40, 380, 280))


def stored(upright: Image.Image, orientation: int) -> Image.Image:
  """The pixels a camera stores for `upright` with that EXIF orientation."""
  method = TO_STORED[orientation]
  return upright.copy() if method is None else upright.transpose(method)


def exif_bytes(orientation: int) -> bytes:
  exif = Image.Exif()
  exif[0x0112] = orientation
  return exif.tobytes()


def oriented_jpeg(orientation: int,
                  upright: Optional[Image.Image] = None,
                  **save_args) -> bytes:
  """A JPEG whose stored pixels are `upright` turned, tagged to show it
  upright."""
  upright = upright or upright_photo()
  save_args.setdefault('quality', 95)
  return encode(stored(upright, orientation), 'JPEG',
                exif=exif_bytes(orientation), **save_args)


def heic(image: Optional[Image.Image] = None, orientation: Optional[int] = None,
         **save_args) -> bytes:
  """A HEIC (x265); with `orientation`, `image` is stored as it is and
  pillow-heif writes the orientation as irot/imir plus the EXIF tag."""
  image = image or upright_photo()
  save_args.setdefault('quality', 90)
  if orientation is not None:
    save_args['exif'] = exif_bytes(orientation)
  return encode(image, 'HEIF', **save_args)


def oriented_heic(orientation: int,
                  upright: Optional[Image.Image] = None) -> bytes:
  upright = upright or upright_photo()
  return heic(stored(upright, orientation), orientation)


def sixteen_bit_gray(size=(64, 48)) -> Image.Image:
  """An I;16 image using the whole 16-bit range (low bytes not zero)."""
  levels = np.asarray(upright_photo(size).convert('L'), dtype=np.uint16)
  image = Image.fromarray(levels * 257 + 3)
  assert image.mode == 'I;16', image.mode
  return image


def frames(size=(64, 48), count=3) -> List[Image.Image]:
  """Distinct frames: crops of both photos."""
  return [
      image_factory.crop(size, ('flower', 'china')[i % 2]) for i in range(count)
  ]


def with_alpha(image: Image.Image) -> Image.Image:
  """RGBA: a horizontal alpha ramp, so that alpha matters in every row."""
  rgba = image.convert('RGBA')
  width, height = image.size
  ramp = Image.linear_gradient('L').resize((width, height)).rotate(90)
  rgba.putalpha(ramp)
  return rgba


def new_format_files(size=(64, 48)) -> Dict[str, bytes]:
  """One file of each case the transcoder handles, by a descriptive name."""
  photo = upright_photo(size)
  animation = frames(size)
  return {
      'webp_lossy': encode(photo, 'WEBP', quality=80),
      'webp_lossless': encode(photo, 'WEBP', lossless=True),
      'webp_alpha': encode(with_alpha(photo), 'WEBP', quality=80),
      'webp_animated': encode(animation[0], 'WEBP', save_all=True,
                              append_images=animation[1:], duration=100,
                              lossless=True),
      'tiff_lzw_rgb': encode(photo, 'TIFF', compression='tiff_lzw'),
      'tiff_16bit_gray': encode(sixteen_bit_gray(size), 'TIFF',
                                compression='tiff_lzw'),
      'tiff_multipage': encode(animation[0], 'TIFF', save_all=True,
                               append_images=animation[1:]),
      'tiff_cmyk': encode(photo.convert('CMYK'), 'TIFF'),
      'tiff_jpeg': encode(photo, 'TIFF', compression='jpeg', quality=90),
      'avif': encode(photo, 'AVIF', quality=80),
      'heic': heic(photo),
      'jpeg2000': encode(photo, 'JPEG2000'),
      'ico': encode(photo, 'ICO', sizes=[size]),
      'qoi': encode(photo, 'QOI'),
  }


# --- Damaged and hostile files ---------------------------------------------


def truncated(data: bytes, keep: float = 0.5) -> bytes:
  return data[:max(16, int(len(data) * keep))]


def tiff_with_declared_size(data: bytes, width: int, height: int) -> bytes:
  """A TIFF whose IFD0 ImageWidth/ImageLength tags declare another size."""
  order = '<' if data[:2] == b'II' else '>'
  patched = bytearray(data)
  (ifd,) = struct.unpack_from(order + 'I', data, 4)
  (count,) = struct.unpack_from(order + 'H', data, ifd)
  for index in range(count):
    entry = ifd + 2 + 12 * index
    tag, kind = struct.unpack_from(order + 'HH', data, entry)
    if tag in (256, 257):
      value = width if tag == 256 else height
      if kind == 3:
        struct.pack_into(order + 'H', patched, entry + 8, value)
      else:
        struct.pack_into(order + 'I', patched, entry + 8, value)
  return bytes(patched)


def webp_with_declared_size(data: bytes, width: int, height: int) -> bytes:
  """A lossy WebP whose VP8 frame header declares another size (14 bits)."""
  position = data.index(b'VP8 ') + 8 + 6  # chunk header, frame tag, start code
  patched = bytearray(data)
  struct.pack_into('<HH', patched, position, width & 0x3FFF, height & 0x3FFF)
  return bytes(patched)


# --- Reading pixels --------------------------------------------------------


def pillow_pixels(data: bytes, transform: Callable[[Image.Image], Image.Image]
                  = lambda image: image) -> np.ndarray:
  """What Pillow shows for `data` (first frame), after `transform`."""
  with Image.open(io.BytesIO(data)) as image:
    image.load()
    return np.asarray(transform(image))


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
  a = np.asarray(a, dtype=np.float64)
  b = np.asarray(b, dtype=np.float64)
  if a.ndim == 3 and a.shape[-1] == 1:
    a = a[..., 0]
  if b.ndim == 3 and b.shape[-1] == 1:
    b = b[..., 0]
  assert a.shape == b.shape, (a.shape, b.shape)
  return float(np.abs(a - b).mean())

