"""What every format parser of the probe shares: its result and its error."""

import dataclasses
import io
import warnings
from typing import Optional

import numpy as np
from PIL import Image

from image_example_gen.core import reasons

__all__ = ['BadImageError', 'ImageInfo', 'check_pixels', 'open_with_pillow']


class BadImageError(ValueError):
  """A file that is not a usable image.

  Attributes:
    reason: One of `reasons`.
    detail: What is wrong, for a person.
    policy: When the check that failed may refuse files TensorFlow decodes,
      the deliberate policy it applies (one of
      `strict_policies.ALL_POLICIES`); None for a check TensorFlow makes too.
  """

  def __init__(self, reason: str, detail: str, policy: Optional[str] = None):
    super().__init__(f'{reason}: {detail}')
    self.reason = reason
    self.detail = detail
    self.policy = policy


@dataclasses.dataclass(frozen=True)
class ImageInfo:
  """What tf.io.decode_image(expand_animations=False) makes of an image.

  `preview` is the reduced decode the check made, if any (a JPEG's 1/8-scale
  gray decode, 8-bit gray pixels as a 2-D array), for the near-duplicate
  fingerprint to reuse, and `preview_scale` the 1/scale it was decoded at.
  """
  format: str
  height: int
  width: int
  channels: int
  preview: Optional[np.ndarray] = dataclasses.field(
      default=None, compare=False, repr=False)
  preview_scale: int = dataclasses.field(default=1, compare=False, repr=False)


def check_pixels(width: int, height: int, max_pixels: int) -> None:
  """Refuses a non-positive size, or more than max_pixels pixels."""
  if width <= 0 or height <= 0:
    raise BadImageError(reasons.CORRUPT, f'header declares {width}x{height}')
  if width * height > max_pixels:
    raise BadImageError(
        reasons.TOO_LARGE,
        f'header declares {width}x{height} = {width * height} pixels, over '
        f'max_pixels={max_pixels}')


def open_with_pillow(data: bytes, pillow_format: str) -> Image.Image:
  """Opens lazily (header only). Sizes were checked against max_pixels
  already, so Pillow's own bomb warning is silenced."""
  try:
    with warnings.catch_warnings():
      warnings.simplefilter('ignore', Image.DecompressionBombWarning)
      return Image.open(io.BytesIO(data), formats=[pillow_format])
  except Image.DecompressionBombError as error:
    raise BadImageError(reasons.TOO_LARGE, str(error)) from None
  except Image.UnidentifiedImageError:
    # Its message names the BytesIO object by its memory address.
    raise BadImageError(
        reasons.CORRUPT,
        f'{pillow_format} header does not parse: Pillow does not recognise '
        'it') from None
  except Exception as error:  # pylint: disable=broad-except
    # Pillow raises many types on damaged headers; all mean the same here.
    raise BadImageError(
        reasons.CORRUPT,
        f'{pillow_format} header does not parse: {error}') from None
