"""Builds the tf.train.Example of one image (keys: core/artifact.py).

Plain Python, no Beam and no TensorFlow import: tested on its own, run by the
Beam workers.
"""

import hashlib
from typing import Optional, Sequence, Tuple

from image_example_gen.core import example_proto
from image_example_gen.core.artifact import (CHANNELS, CLASS_TEXT, ENCODED,
                                             FILENAME, FORMAT, HEIGHT, LABEL,
                                             ORIGINAL_HEIGHT, ORIGINAL_WIDTH,
                                             PHASH, SHA256, SOURCE_FORMAT,
                                             WIDTH)
from image_example_gen.core.image_probe import ImageInfo

# Metadata column types (image_example_gen.core.metadata's, not imported: workers).
_INT64 = 'int64'
_FLOAT = 'float'

__all__ = ['build_example']


def build_example(
    data: bytes,
    info: ImageInfo,
    relative_path: str,
    *,
    label: Optional[int] = None,
    class_name: Optional[str] = None,
    label_ids: Sequence[int] = (),
    label_names: Sequence[str] = (),
    features: Sequence[Tuple[str, str, Sequence]] = (),
    source_format: Optional[str] = None,
    original_size: Optional[Tuple[int, int]] = None,
    phash: Optional[str] = None
) -> example_proto.Example:
  """Returns the Example of an image; no class features when label is None.

  Args:
    data: The bytes to publish as `image/encoded` (core.publish: the file's
      own, or transcoded, turned upright or downscaled).
    info: What the probe found in them: format, height, width, channels.
    relative_path: Path relative to input_base, stored as `image/filename`.
    label: Index of the class in the vocabulary, or None for unlabeled data.
    class_name: The class name, stored as `image/class/text` with the label.
    label_ids: Several labels (multi-label), instead of `label`: an int64
      list `image/class/label` (possibly empty) ...
    label_names: ... and the bytes list `image/class/text` of their names.
    features: Metadata columns, (name, 'int64' | 'float' | 'bytes', values),
      each stored under its name as a list of that type.
    source_format: The source file's format, `image/source_format`; default
      info.format (the file is published as it is).
    original_size: The source's (height, width), `image/original/height`
      and `image/original/width`; default info's.
    phash: The perceptual fingerprint in hex (`near_duplicates.to_hex`),
      stored as `image/phash` ('' for an image too small to fingerprint);
      None stores no such feature.
  """
  example = example_proto.Example()
  feature = example.features.feature
  feature[ENCODED].bytes_list.value.append(data)
  feature[FORMAT].bytes_list.value.append(info.format.encode())
  feature[HEIGHT].int64_list.value.append(info.height)
  feature[WIDTH].int64_list.value.append(info.width)
  feature[CHANNELS].int64_list.value.append(info.channels)
  feature[SOURCE_FORMAT].bytes_list.value.append(
      (source_format or info.format).encode())
  original_height, original_width = original_size or (info.height, info.width)
  feature[ORIGINAL_HEIGHT].int64_list.value.append(original_height)
  feature[ORIGINAL_WIDTH].int64_list.value.append(original_width)
  feature[FILENAME].bytes_list.value.append(relative_path.encode('utf-8'))
  feature[SHA256].bytes_list.value.append(
      hashlib.sha256(data).hexdigest().encode())
  if phash is not None:
    feature[PHASH].bytes_list.value.append(phash.encode('ascii'))
  if label is not None:
    feature[LABEL].int64_list.value.append(label)
    feature[CLASS_TEXT].bytes_list.value.append(class_name.encode('utf-8'))
  elif label_names or label_ids:
    feature[LABEL].int64_list.value.extend(label_ids)
    feature[CLASS_TEXT].bytes_list.value.extend(
        name.encode('utf-8') for name in label_names)
  for name, kind, values in features:
    if kind == _INT64:
      feature[name].int64_list.value.extend(values)
    elif kind == _FLOAT:
      feature[name].float_list.value.extend(values)
    else:
      feature[name].bytes_list.value.extend(
          value.encode('utf-8') for value in values)
  return example
