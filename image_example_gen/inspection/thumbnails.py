"""Decodes one image into an RGB thumbnail that fills a square, with Pillow.

JPEGs are decoded at a reduced scale (`Image.draft`, libjpeg's 1/2 to 1/8
DCT scaling) close to the thumbnail size; a GIF gives its first frame.
Transparent pixels are shown over white, 16-bit gray is scaled to 8 bits.

Every image is scaled to fit a `size` x `size` square, its aspect ratio kept
(its longer side becomes `size`; the contact sheet letterboxes it into its
cell):

- larger images are shrunk with a bicubic filter (`Image.thumbnail`);
- smaller ones are enlarged: with nearest-neighbour sampling when the scale
  factor is NEAREST_SCALE (2) or more, else bicubic. From a factor of 2 on,
  every source pixel covers at least 2 x 2 screen pixels: a smoothing filter
  would then invent colours between them and smear a 16-pixel icon into a
  blur that hides how coarse it is, while nearest-neighbour shows each pixel
  as a solid block, the detail the image really has. Below a factor of 2 the
  blocks would be 1 or 2 pixels wide, an uneven jagged pattern on a photo,
  and a gentle bicubic enlargement looks like the image.

The contact sheet prints each image's own size under it, since every
thumbnail now has the same size.
"""

import io

import numpy as np
from PIL import Image

__all__ = ['NEAREST_SCALE', 'thumbnail']

NEAREST_SCALE = 2.0

_WHITE = (255, 255, 255)


def thumbnail(encoded: bytes, size: int) -> Image.Image:
  """The RGB thumbnail of an image; its longer side is `size`.

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
  return _fit(rgb, size)


def _fit(image: Image.Image, size: int) -> Image.Image:
  """The image scaled so its longer side is `size`; may shrink it in place."""
  width, height = image.size
  scale = size / max(width, height)
  if scale <= 1:
    image.thumbnail((size, size), Image.Resampling.BICUBIC)
    return image
  target = (max(1, min(size, round(width * scale))),
            max(1, min(size, round(height * scale))))
  resample = (Image.Resampling.NEAREST if scale >= NEAREST_SCALE else
              Image.Resampling.BICUBIC)
  return image.resize(target, resample)


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
