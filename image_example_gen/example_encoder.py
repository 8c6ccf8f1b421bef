"""Builds the tf.train.Example of one image: the feature keys and their values.

Plain Python, no Beam and no TensorFlow import: tested on its own, run by the
Beam workers.
"""

import hashlib
from typing import Optional

from image_example_gen import example_proto
from image_example_gen.image_probe import ImageInfo

__all__ = [
    'ENCODED', 'FORMAT', 'HEIGHT', 'WIDTH', 'CHANNELS', 'FILENAME', 'LABEL',
    'CLASS_TEXT', 'SHA256', 'build_example'
]

# The feature keys of every Example (see README.md, "Feature keys").
ENCODED = 'image/encoded'
FORMAT = 'image/format'
HEIGHT = 'image/height'
WIDTH = 'image/width'
CHANNELS = 'image/channels'
FILENAME = 'image/filename'
LABEL = 'image/class/label'
CLASS_TEXT = 'image/class/text'
SHA256 = 'image/key/sha256'


def build_example(data: bytes,
                  info: ImageInfo,
                  relative_path: str,
                  *,
                  label: Optional[int] = None,
                  class_name: Optional[str] = None) -> example_proto.Example:
  """Returns the Example of an image; no class features when label is None.

  Args:
    data: The file's bytes, stored unchanged as `image/encoded`.
    info: What the probe found: format, height, width, channels.
    relative_path: Path relative to input_base, stored as `image/filename`.
    label: Index of the class in the vocabulary, or None for unlabeled data.
    class_name: The class name, stored as `image/class/text` with the label.
  """
  example = example_proto.Example()
  feature = example.features.feature
  feature[ENCODED].bytes_list.value.append(data)
  feature[FORMAT].bytes_list.value.append(info.format.encode())
  feature[HEIGHT].int64_list.value.append(info.height)
  feature[WIDTH].int64_list.value.append(info.width)
  feature[CHANNELS].int64_list.value.append(info.channels)
  feature[FILENAME].bytes_list.value.append(relative_path.encode('utf-8'))
  feature[SHA256].bytes_list.value.append(
      hashlib.sha256(data).hexdigest().encode())
  if label is not None:
    feature[LABEL].int64_list.value.append(label)
    feature[CLASS_TEXT].bytes_list.value.append(class_name.encode('utf-8'))
  return example
