"""Real image bytes for the tests, cut from the photos that ship with sklearn.

Every image is a small crop of `flower.jpg` (a dahlia) or `china.jpg` (a
pagoda), resized and re-encoded by Pillow, so the tests run on photographic
content in any format and mode without depending on testdata/.

Also byte-level helpers to take PNG, GIF and JPEG files apart and patch them
(the damaged and hostile files of the probe tests).
"""

import functools
import io
import struct
import zlib
from typing import List, Sequence, Tuple

import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_image

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


@functools.lru_cache(maxsize=None)
def photo(name: str = 'flower') -> Image.Image:
  """The whole 640x427 RGB photo: 'flower' or 'china'."""
  return Image.fromarray(load_sample_image(f'{name}.jpg'))


def crop(size: Tuple[int, int] = (40, 30),
         photo_name: str = 'flower',
         box: Tuple[int, int, int, int] = (160, 75, 450, 365)) -> Image.Image:
  """An RGB crop of a photo (default: the dahlia), resized to (width, height)."""
  return photo(photo_name).crop(box).resize(size, Image.LANCZOS)


def encode(image: Image.Image, pillow_format: str, **save_args) -> bytes:
  buffer = io.BytesIO()
  image.save(buffer, format=pillow_format, **save_args)
  return buffer.getvalue()


def image_bytes(pillow_format: str,
                mode: str = 'RGB',
                size: Tuple[int, int] = (40, 30),
                photo_name: str = 'flower',
                **save_args) -> bytes:
  """A crop converted to `mode` and saved as `pillow_format` ('JPEG', ...)."""
  image = crop(size, photo_name)
  if mode == 'P':
    image = image.quantize(colors=64)
  elif mode == 'I;16':
    # 16-bit grayscale: spread the 8-bit levels over the 16-bit range.
    levels = np.asarray(image.convert('L'), dtype=np.uint16) * 257
    image = Image.fromarray(levels)
    assert image.mode == 'I;16', image.mode
  elif mode != 'RGB':
    image = image.convert(mode)
  return encode(image, pillow_format, **save_args)


def jpeg(mode: str = 'RGB', size=(40, 30), **save_args) -> bytes:
  save_args.setdefault('quality', 90)
  return image_bytes('JPEG', mode, size, **save_args)


def png(mode: str = 'RGB', size=(40, 30), **save_args) -> bytes:
  return image_bytes('PNG', mode, size, **save_args)


def bmp(mode: str = 'RGB', size=(40, 30)) -> bytes:
  return image_bytes('BMP', mode, size)


def gif(size=(40, 30), photo_name: str = 'flower') -> bytes:
  return image_bytes('GIF', 'RGB', size, photo_name)


def animated_gif(size=(40, 30), frames: int = 3) -> bytes:
  """Frames cut from both photos, so that consecutive frames differ."""
  images = [crop(size, ('flower', 'china')[i % 2]) for i in range(frames)]
  return encode(images[0], 'GIF', save_all=True, append_images=images[1:],
                duration=100, loop=0)


def png_with_transparency(mode: str, size=(40, 30)) -> bytes:
  """A 'P' or 'L' PNG with a tRNS chunk (one colour/level is transparent)."""
  image = crop(size)
  image = image.quantize(colors=64) if mode == 'P' else image.convert(mode)
  return encode(image, 'PNG', transparency=0)


# --- PNG chunks --------------------------------------------------------------


def png_chunks(data: bytes) -> List[Tuple[bytes, bytes]]:
  """The (type, payload) of every chunk of a PNG, in order."""
  assert data.startswith(PNG_SIGNATURE)
  chunks, position = [], len(PNG_SIGNATURE)
  while position < len(data):
    (length,) = struct.unpack('>I', data[position:position + 4])
    chunk_type = data[position + 4:position + 8]
    chunks.append((chunk_type, data[position + 8:position + 8 + length]))
    position += 12 + length
  return chunks


def png_chunk(chunk_type: bytes, payload: bytes) -> bytes:
  """One chunk with its correct CRC."""
  return (struct.pack('>I', len(payload)) + chunk_type + payload +
          struct.pack('>I', zlib.crc32(chunk_type + payload)))


def png_from_chunks(chunks: List[Tuple[bytes, bytes]]) -> bytes:
  return PNG_SIGNATURE + b''.join(png_chunk(t, p) for t, p in chunks)


# Adam7 passes: (x start, y start, x step, y step).
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
          (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def interlaced_png(size=(40, 30)) -> bytes:
  """An Adam7-interlaced RGB PNG of a crop (Pillow writes no interlaced PNG):
  each pass's rows, filter type 0, in one IDAT chunk."""
  pixels = np.asarray(crop(size))
  height, width, _ = pixels.shape
  raw = bytearray()
  for x0, y0, dx, dy in _ADAM7:
    sub_image = pixels[y0::dy, x0::dx]
    if sub_image.size:
      for row in sub_image:
        raw += b'\x00' + row.tobytes()
  header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 1)
  return png_from_chunks([(b'IHDR', header), (b'IDAT', zlib.compress(raw)),
                          (b'IEND', b'')])


def chunk_offset(data: bytes, wanted: bytes) -> Tuple[int, int]:
  """(start of payload, payload length) of the first chunk of that type."""
  position = len(PNG_SIGNATURE)
  while position < len(data):
    (length,) = struct.unpack('>I', data[position:position + 4])
    if data[position + 4:position + 8] == wanted:
      return position + 8, length
    position += 12 + length
  raise KeyError(wanted)


def png_with_declared_size(data: bytes, width: int, height: int) -> bytes:
  """The same PNG with IHDR claiming width x height (CRC recomputed)."""
  chunks = png_chunks(data)
  chunk_type, ihdr = chunks[0]
  assert chunk_type == b'IHDR'
  chunks[0] = (chunk_type, struct.pack('>II', width, height) + ihdr[8:])
  return png_from_chunks(chunks)


# --- GIF ---------------------------------------------------------------------


def gif_screen_size(data: bytes) -> Tuple[int, int]:
  """(width, height) of the logical screen descriptor."""
  return struct.unpack('<HH', data[6:10])


def gif_with_screen_size(data: bytes, width: int, height: int) -> bytes:
  """The same GIF with a different logical screen size, frames unchanged."""
  return data[:6] + struct.pack('<HH', width, height) + data[10:]


def handmade_gif(screen: Tuple[int, int],
                 frames: Sequence[Tuple[int, int]],
                 pixels: int = -1) -> bytes:
  """A GIF89a written byte by byte: a 2-colour table, frames at (0, 0).

  `frames` are the (width, height) of each frame. Their pixels are all
  index 0, LZW-coded with clear codes so that no code grows past 3 bits.
  `pixels` (default: the whole frame) is how many pixels each frame's data
  holds: give a few, and the file stays tiny whatever size it declares.
  """
  screen_w, screen_h = screen
  header = b'GIF89a' + struct.pack('<HHBBB', screen_w, screen_h, 0x80, 0, 0)
  color_table = b'\x00\x00\x00\xff\xff\xff'
  body = b''
  for frame_w, frame_h in frames:
    descriptor = b'\x2c' + struct.pack('<HHHHB', 0, 0, frame_w, frame_h, 0)
    lzw = _lzw_all_zero(frame_w * frame_h if pixels < 0 else pixels,
                        min_code_size=2)
    blocks = b''.join(
        bytes([len(lzw[i:i + 255])]) + lzw[i:i + 255]
        for i in range(0, len(lzw), 255))
    body += descriptor + b'\x02' + blocks + b'\x00'
  return header + color_table + body + b'\x3b'


def _lzw_all_zero(pixel_count: int, min_code_size: int) -> bytes:
  """LZW codes for `pixel_count` zero pixels: clear, 0 (repeated), end.

  Emits a clear code before the table would grow a code, so every code has
  min_code_size + 1 bits.
  """
  clear, end = 1 << min_code_size, (1 << min_code_size) + 1
  width = min_code_size + 1
  codes = [clear]
  since_clear = 0
  for _ in range(pixel_count):
    if since_clear == (1 << width) - end - 1:
      codes.append(clear)
      since_clear = 0
    codes.append(0)
    since_clear += 1
  codes.append(end)
  bits = 0
  bit_count = 0
  out = bytearray()
  for code in codes:
    bits |= code << bit_count
    bit_count += width
    while bit_count >= 8:
      out.append(bits & 0xFF)
      bits >>= 8
      bit_count -= 8
  if bit_count:
    out.append(bits & 0xFF)
  return bytes(out)


# --- JPEG --------------------------------------------------------------------


def jpeg_scan_data_range(data: bytes) -> Tuple[int, int]:
  """(start, end) of the entropy-coded data after the first SOS marker.

  `end` is the offset of the final FFD9 (end-of-image) marker.
  """
  position = 2
  while True:
    assert data[position] == 0xFF
    marker = data[position + 1]
    (length,) = struct.unpack('>H', data[position + 2:position + 4])
    if marker == 0xDA:
      start = position + 2 + length
      break
    position += 2 + length
  end = data.rindex(b'\xff\xd9')
  assert end == len(data) - 2
  return start, end
