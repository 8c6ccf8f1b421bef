"""Reads ImageExampleGen's Examples back as batches of decoded images.

`image_dataset(examples, split)` returns a `tf.data.Dataset` of
`(images, labels)` batches, ready for `model.fit`, from any of:

- a TFX Examples artifact (anything with a `.uri`), or its URI: the folder
  holding `Split-<split>/`;
- a list of file patterns, as a TFX Trainer's `fn_args.train_files` and
  `fn_args.eval_files` hold (`['<uri>/Split-train/*']`); `split` is then
  unused.

Images are float32 `[batch, height, width, channels]` with values in
[0, 255], as `tf.keras.utils.image_dataset_from_directory` gives them, so one
model (with its own `Rescaling` layer) trains on both. They are decoded and
resized by `readers.decode.decode_and_resize`, the function the Trainer's
serving signature uses too. `read_class_names` returns the label vocabulary
of the artifact (core.artifact).

The datasets are plain tf.data (no Python in the map functions), so they work
in a TFX Trainer's `run_fn`; the functions themselves run eagerly (they list
files and read the first record), as `run_fn` does.
"""

import os
from typing import List, Optional, Sequence, Tuple

import tensorflow as tf

from image_example_gen.core import artifact
from image_example_gen.readers import decode

__all__ = ['LABEL_MODES', 'image_dataset', 'read_class_names']

# label_mode values: int64 index, one-hot, multi-hot, or no labels.
LABEL_MODES = ('int', 'categorical', 'multi_hot', None)


def image_dataset(examples,
                  split: str = 'train',
                  *,
                  image_size: Tuple[int, int] = (224, 224),
                  channels: int = 3,
                  batch_size: int = 32,
                  label_mode: Optional[str] = 'int',
                  num_classes: Optional[int] = None,
                  shuffle: bool = False,
                  shuffle_buffer: int = 1000,
                  seed: Optional[int] = None,
                  drop_remainder: bool = False,
                  deterministic: Optional[bool] = None) -> tf.data.Dataset:
  """Returns batches of `(images, labels)`, or of images only, of one split.

  Shards ending in `.gz` are read as gzip, all others as uncompressed
  TFRecords, file by file (so a folder may mix both; TFX's tfx_bsl readers
  choose by the same rule but need all files alike). Files are read
  interleaved and images decoded in parallel.

  Each image goes through `readers.decode.decode_and_resize(encoded,
  image_size, channels)`: `tf.io.decode_image` (JPEG, PNG, BMP, a GIF's first
  frame) to `channels` (gray repeated to RGB, alpha dropped or added; see
  readers/decode.py), then a bilinear `tf.image.resize` to image_size,
  aspect ratio not kept, as `image_dataset_from_directory` does.

  Args:
    examples: An Examples artifact, its URI, or a list of file patterns.
    split: The split to read from an artifact or URI (`Split-<split>`).
    image_size: (height, width) of the output images.
    channels: 1, 3 or 4.
    batch_size: Images per batch.
    label_mode: 'int': int64 labels `[batch]`; 'categorical': float32 one-hot
      `[batch, num_classes]`; 'multi_hot': float32 `[batch, num_classes]`
      with a 1 for each of an image's labels (any number); None: images
      only. Examples without `image/class/label` (ingested with
      `labels='none'`; the first record decides, an empty split counts as
      labeled) give images only too.
    num_classes: Length of the one-hot and multi-hot labels. Default: the
      length of `read_class_names(examples)`. Reading a label outside
      [0, num_classes) raises InvalidArgumentError.
    shuffle: Shuffle the files and, in a buffer of `shuffle_buffer`, the
      records (before decoding, so the buffer holds encoded images), anew
      each epoch.
    shuffle_buffer: Records in the shuffle buffer.
    seed: Seed of the shuffles.
    drop_remainder: Drop the last batch if smaller than batch_size.
    deterministic: Passed to the parallel interleave and map: False lets
      tf.data return elements out of order when faster. None: tf.data's
      default (in order).

  Raises:
    ValueError: An invalid option, a URI without `Split-<split>` (naming the
      splits it has), patterns that match no file, a one-hot or multi-hot
      label_mode without num_classes and without an ingest report, or
      label_mode 'int' or 'categorical' when the first Example has several
      labels.
  """
  _check_options(image_size, channels, batch_size, label_mode)
  files = _list_files(examples, split)
  first = _first_example(files)
  labeled = label_mode is not None and (
      first is None or artifact.LABEL in first.features.feature)
  if labeled and first is not None:
    label_count = len(
        first.features.feature[artifact.LABEL].int64_list.value)
    if label_mode != 'multi_hot' and label_count != 1:
      raise ValueError(
          f"label_mode={label_mode!r} needs one label per image; the first "
          f"Example has {label_count}: use label_mode='multi_hot'")
  if labeled and label_mode != 'int' and num_classes is None:
    num_classes = _default_num_classes(examples, label_mode)

  paths, compressions = zip(*files)
  dataset = tf.data.Dataset.from_tensor_slices(
      (list(paths), list(compressions)))
  if shuffle:
    dataset = dataset.shuffle(len(paths), seed=seed)
  dataset = dataset.interleave(
      lambda path, compression: tf.data.TFRecordDataset(
          path, compression_type=compression),
      num_parallel_calls=tf.data.AUTOTUNE,
      deterministic=deterministic)
  if shuffle:
    dataset = dataset.shuffle(shuffle_buffer, seed=seed)
  parse = _parser(image_size, channels, label_mode if labeled else None,
                  num_classes)
  dataset = dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE,
                        deterministic=deterministic)
  return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(
      tf.data.AUTOTUNE)


def read_class_names(examples) -> List[str]:
  """The label vocabulary: label i is read_class_names(examples)[i].

  Read from the artifact root's label map (`labels.txt`, one class name per
  line), else from its ingest report (core.artifact); for file patterns, the
  root is the folder holding their `Split-*` folder. Empty for an unlabeled
  ingest.

  Raises:
    ValueError: No artifact root, or neither file in it.
  """
  uri = _uri(examples)
  return artifact.read_class_names(
      uri if uri is not None else artifact.artifact_root(list(examples)))


def _check_options(image_size, channels, batch_size, label_mode) -> None:
  if (len(image_size) != 2 or
      not all(isinstance(n, int) and n > 0 for n in image_size)):
    raise ValueError(
        f'image_size must be (height, width) > 0, got {image_size!r}')
  if channels not in decode.CHANNELS:
    raise ValueError(f'channels must be 1, 3 or 4, got {channels!r}')
  if not isinstance(batch_size, int) or batch_size < 1:
    raise ValueError(f'batch_size must be a positive int, got {batch_size!r}')
  if label_mode not in LABEL_MODES:
    raise ValueError(
        f'label_mode must be one of {LABEL_MODES}, got {label_mode!r}')


def _uri(examples) -> Optional[str]:
  """The artifact URI, or None when `examples` is a list of patterns."""
  if isinstance(examples, (list, tuple)):
    return None
  uri = examples.uri if hasattr(examples, 'uri') else examples
  if not isinstance(uri, (str, os.PathLike)):
    raise TypeError('examples must be an Examples artifact, its URI or a '
                    f'list of file patterns, got {type(examples).__name__}')
  return os.fspath(uri)


def _list_files(examples, split: str) -> List[Tuple[str, str]]:
  """Sorted (path, compression type) of every shard to read."""
  uri = _uri(examples)
  if uri is None:
    patterns = list(examples)
  else:
    split_dir = artifact.split_dir(uri, split)
    if not tf.io.gfile.isdir(split_dir):
      raise ValueError(f'{uri!r} has no {artifact.SPLIT_PREFIX}{split} '
                       f'folder; {_describe_splits(uri)}')
    patterns = [os.path.join(split_dir, '*')]
  paths, unmatched = [], []
  for pattern in patterns:
    matched = sorted(tf.io.gfile.glob(pattern))
    paths.extend(matched)
    if not matched:
      unmatched.append(pattern)
  if unmatched or not paths:
    raise ValueError(f'No file matches {unmatched or patterns}')
  return [(path, 'GZIP' if path.endswith('.gz') else '') for path in paths]


def _describe_splits(uri: str) -> str:
  if not tf.io.gfile.isdir(uri):
    return 'it is not a folder'
  splits = artifact.split_names_on_disk(uri)
  return f'its splits: {", ".join(splits)}' if splits else 'it has no splits'


def _first_example(files: Sequence[Tuple[str, str]]):
  """The first Example of the first non-empty shard, or None (read eagerly)."""
  for path, compression in files:
    for record in tf.data.TFRecordDataset(path, compression).take(1):
      return tf.train.Example.FromString(record.numpy())
  return None


def _default_num_classes(examples, label_mode: str) -> int:
  try:
    return len(read_class_names(examples))
  except ValueError as error:
    raise ValueError(f'label_mode={label_mode!r} needs num_classes: pass '
                     f'num_classes=... ({error})') from None


def _parser(image_size, channels: int, label_mode: Optional[str],
            num_classes: Optional[int]):
  """The map function: serialized Example -> image, or (image, label)."""
  features = {artifact.ENCODED: tf.io.FixedLenFeature([], tf.string)}
  if label_mode == 'multi_hot':
    features[artifact.LABEL] = tf.io.VarLenFeature(tf.int64)
  elif label_mode is not None:
    features[artifact.LABEL] = tf.io.FixedLenFeature([], tf.int64)

  def parse(serialized):
    parsed = tf.io.parse_single_example(serialized, features)
    image = decode.decode_and_resize(parsed[artifact.ENCODED], image_size,
                                     channels)
    if label_mode is None:
      return image
    label = parsed[artifact.LABEL]
    if label_mode == 'int':
      return image, label
    if label_mode == 'multi_hot':
      label = label.values
    label = _checked(label, num_classes)
    one_hot = tf.one_hot(label, num_classes, dtype=tf.float32)
    if label_mode == 'categorical':
      return image, one_hot
    return image, tf.minimum(tf.reduce_sum(one_hot, axis=0), 1.0)

  return parse


def _checked(label, num_classes: int):
  """The label, failing when out of [0, num_classes) (one_hot would give 0s)."""
  in_range = tf.reduce_all((label >= 0) & (label < num_classes))
  check = tf.debugging.Assert(
      in_range, [f'image/class/label out of range [0, {num_classes}):', label])
  with tf.control_dependencies([check]):
    return tf.identity(label)
