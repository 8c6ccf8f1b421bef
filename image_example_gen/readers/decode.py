"""The one decode-and-resize of an image, for training and serving alike.

`decode_and_resize(encoded, image_size, channels)` is what `image_dataset`
maps over the records for training and evaluation, and what the Trainer's
exported serving signature maps over the Examples it receives: the same
function, so that a model sees the same pixels in training and in serving
(no training/serving skew). tests/readers/test_decode.py checks the two
paths pixel for pixel.

Each image is decoded by `tf.io.decode_image(encoded, channels=channels,
expand_animations=False)` (JPEG, PNG, BMP, and a GIF's first frame), then
resized by `tf.image.resize(image, image_size)` (bilinear, no antialiasing,
aspect ratio not kept), as `image_dataset_from_directory` does (it fails
where decode_image refuses a channel count; this fills those cases in):

- channels=3: gray is repeated to RGB, alpha is dropped (not composited);
- channels=4: alpha is kept, or an opaque one (255) added; JPEG and GIF,
  for which decode_image refuses 4 channels, are decoded to RGB and given
  the opaque alpha;
- channels=1: the decoder's luminance (JPEG's Y, libpng's RGB-to-gray);
  GIF and BMP, for which decode_image refuses 1 channel, are decoded to RGB
  and converted by `tf.image.rgb_to_grayscale`.

The result is float32 `[height, width, channels]` in [0, 255].
"""

from typing import Tuple

import tensorflow as tf

__all__ = ['CHANNELS', 'decode', 'decode_and_resize']

CHANNELS = (1, 3, 4)


def decode_and_resize(encoded: tf.Tensor, image_size: Tuple[int, int],
                      channels: int = 3) -> tf.Tensor:
  """One image's bytes -> float32 [height, width, channels] in [0, 255]."""
  image = tf.image.resize(decode(encoded, channels), image_size)
  image.set_shape(list(image_size) + [channels])
  return image


def decode(encoded: tf.Tensor, channels: int) -> tf.Tensor:
  """uint8 [height, width, channels]: decode_image, filling in where it
  refuses a channel count (see the module doc)."""
  if channels == 3:
    return tf.io.decode_image(encoded, channels=3, expand_animations=False)
  is_gif = tf.strings.substr(encoded, 0, 3) == b'GIF'
  if channels == 4:
    refused = tf.io.is_jpeg(encoded) | is_gif

    def fallback():
      rgb = tf.io.decode_image(encoded, channels=3, expand_animations=False)
      return tf.concat([rgb, tf.fill(tf.shape(rgb[..., :1]),
                                     tf.constant(255, tf.uint8))], axis=-1)
  else:
    refused = is_gif | (tf.strings.substr(encoded, 0, 2) == b'BM')

    def fallback():
      return tf.image.rgb_to_grayscale(
          tf.io.decode_image(encoded, channels=3, expand_animations=False))

  return tf.cond(
      refused, fallback, lambda: tf.io.decode_image(
          encoded, channels=channels, expand_animations=False))
