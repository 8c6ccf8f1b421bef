"""Decodes one image into a small RGB thumbnail with Pillow.

JPEGs are decoded at a reduced scale (`Image.draft`, libjpeg's 1/2 to 1/8
DCT scaling) close to the thumbnail size; a GIF gives its first frame.
Transparent pixels are shown over white, 16-bit gray is scaled to 8 bits,
and a larger image is shrunk to fit a `size` x `size` square, its aspect
ratio kept (the contact sheet letterboxes it into its cell). A smaller image
keeps its own size: never enlarged, tiny images stand out on the sheet.
"""

import io

import numpy as np
from PIL import Image

__all__ = ['thumbnail']

_WHITE = (255, 255, 255)


def thumbnail(encoded: bytes, size: int) -> Image.Image:
  """The RGB thumbnail of an image, at most `size` x `size`.

  Raises:
    OSError, ValueError, SyntaxError: Pillow cannot decode the bytes (the
      caller draws a placeholder; ImageExampleGen's default validation
      publishes no such image).
  """
  with Image.open(io.BytesIO(encoded)) as image:
    if image.format == 'JPEG':
      image.draft('RGB', (size, size))
    image.load()
    rgb = _to_rgb(image)
  rgb.thumbnail((size, size), Image.Resampling.BICUBIC)
  return rgb


def _to_rgb(image: Image.Image) -> Image.Image:
  if image.mode.startswith('I') or image.mode == 'F':
    # 16-bit (or 32-bit) gray: Pillow's convert('L') clips instead of scaling.
    levels = np.asarray(image, dtype=np.float64) / 257.0
    image = Image.fromarray(np.clip(levels, 0, 255).astype(np.uint8), 'L')
  if 'A' in image.mode or 'transparency' in image.info:
    rgba = image.convert('RGBA')
    background = Image.new('RGB', rgba.size, _WHITE)
    background.paste(rgba, mask=rgba.getchannel('A'))
    return background
  return image.convert('RGB')
