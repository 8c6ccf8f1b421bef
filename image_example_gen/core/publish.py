"""What one file becomes in the Examples: the checked, upright, decodable bytes.

`publish_image(data, config)` is the worker's decision for one file:

1. A JPEG, PNG, GIF or BMP that the probe (core.image_probe, the decode
   guarantee) accepts and that needs nothing else keeps its original bytes;
   `transcode.needs_preparation` tells in microseconds, without decoding.
2. A file that needs turning upright (EXIF orientation 2-8), or shrinking
   (`max_side`), or that TensorFlow cannot decode but Pillow can read (WebP,
   AVIF, TIFF, HEIC ...: `transcode=True`) goes through
   `transcode.prepare_image`, and its output through the probe again, so that
   the guarantee holds for what is published.
3. Anything else raises BadImageError with the reason to report.
"""

import dataclasses
from typing import Tuple

from image_example_gen.core import config as config_lib
from image_example_gen.core import image_probe
from image_example_gen.core import reasons
from image_example_gen.core import transcode

__all__ = ['ACTIONS', 'Published', 'publish_image', 'quick_check']

# What can be done to a file, as the report counts them per source format.
TRANSCODED = 'transcoded'
ROTATED = 'rotated'
DOWNSCALED = 'downscaled'
ACTIONS = (TRANSCODED, ROTATED, DOWNSCALED)


@dataclasses.dataclass(frozen=True)
class Published:
  """The bytes to publish for one file, and what was done to get them.

  Attributes:
    data: The bytes for `image/encoded` (the file's own when unchanged).
    info: Their format, height, width and channels, as TensorFlow decodes.
    source_format: The file's format ('jpeg', 'webp', 'heif' ...).
    original_size: (height, width) of the source, upright, before any
      downscaling.
    actions: Which of ACTIONS were done.
  """
  data: bytes = dataclasses.field(repr=False)
  info: image_probe.ImageInfo
  source_format: str
  original_size: Tuple[int, int]
  actions: Tuple[str, ...] = ()


def publish_image(data: bytes,
                  config: config_lib.IngestConfig) -> Published:
  """Returns what to publish for a file's bytes; see the module doc.

  Raises:
    image_probe.BadImageError: The file is not an image, is damaged, too
      large, or in a format neither TensorFlow nor (with transcode=True)
      Pillow reads.
  """
  source = transcode.source_format(data)
  if source in transcode.TF_FORMATS:
    try:
      info = image_probe.probe_image(data, validation=config.validation,
                                     max_pixels=config.max_pixels)
    except image_probe.BadImageError as error:
      if error.reason != reasons.UNSUPPORTED_FORMAT or not config.transcode:
        raise
      return _prepared(data, config, tf_readable=False)
    if not transcode.needs_preparation(data, info, upright=config.upright,
                                       max_side=config.max_side):
      return Published(data, info, info.format, (info.height, info.width))
    return _prepared(data, config)
  if source is None or not config.transcode:
    # The probe names the reason: not_an_image, unsupported_format ...
    info = image_probe.probe_image(data, validation=config.validation,
                                   max_pixels=config.max_pixels)
    return Published(data, info, info.format, (info.height, info.width))
  return _prepared(data, config)


def quick_check(data: bytes, config: config_lib.IngestConfig) -> None:
  """Raises BadImageError for a file publish_image would refuse on its
  structure alone, without decoding any pixel: the cheap check of the
  stratified split's first pass (a header and container walk for JPEG, PNG,
  GIF and BMP; a known signature for formats to transcode).

  A file that passes may still be refused by publish_image (damage inside
  compressed pixel data), which is rare.
  """
  source = transcode.source_format(data)
  if source in transcode.TF_FORMATS or source is None or not config.transcode:
    try:
      image_probe.probe_image(data, validation=config_lib.VALIDATION_STRUCTURE,
                              max_pixels=config.max_pixels)
    except image_probe.BadImageError as error:
      if error.reason != reasons.UNSUPPORTED_FORMAT or not config.transcode:
        raise


def _prepared(data: bytes, config: config_lib.IngestConfig,
              tf_readable=None) -> Published:
  prepared = transcode.prepare_image(
      data, transcode=config.transcode, upright=config.upright,
      max_side=config.max_side, max_pixels=config.max_pixels,
      tf_readable=tf_readable)
  if not prepared.changed:
    info = prepared.info()
  else:  # The guarantee holds for the published bytes too.
    info = image_probe.probe_image(prepared.data,
                                   validation=config.validation,
                                   max_pixels=config.max_pixels)
  actions = tuple(action for action, done in (
      (TRANSCODED, prepared.transcoded), (ROTATED, prepared.rotated),
      (DOWNSCALED, prepared.downscaled)) if done)
  return Published(prepared.data, info, prepared.source_format,
                   (prepared.original_height, prepared.original_width),
                   actions)
