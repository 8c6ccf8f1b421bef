"""Gathers what one split's Examples hold, streaming one Example at a time.

Per split it keeps the count of each class, of each (height, width) and of
each format, the byte size of every image (one integer each, for the median),
per class, the thumbnails of the sampled images (see `sampling`), and the
thumbnails of the files it is asked to pick by name (the near-duplicates
drawn; `pick_files` picks them from a split not otherwise read). No image's
bytes are kept beyond the Example being read.
"""

import array
import collections
import dataclasses
from typing import (Callable, Collection, Dict, Iterable, List, Mapping,
                    Optional, Sequence, Tuple)

from google.protobuf import message
from PIL import Image

from image_example_gen.core import artifact
from image_example_gen.core import example_proto
from image_example_gen.inspection import records
from image_example_gen.inspection import sampling
from image_example_gen.inspection import thumbnails
from image_example_gen.inspection.errors import InspectionError

__all__ = ['Sample', 'SplitStatistics', 'collect_split', 'ordered_classes',
           'pick_files']


@dataclasses.dataclass(frozen=True)
class Sample:
  """A sampled image.

  Attributes:
    sha256: Its image/key/sha256.
    filename: Its image/filename (the path the ingest read).
    thumbnail: Its thumbnail; None when Pillow cannot decode it.
    height: Its image/height (0 if absent).
    width: Its image/width (0 if absent).
    split: The split it was read from ('' if not recorded).
    class_name: Its image/class/text, several joined by '|' ('' if none).
  """
  sha256: str
  filename: str
  thumbnail: Optional[Image.Image]
  height: int = 0
  width: int = 0
  split: str = ''
  class_name: str = ''


@dataclasses.dataclass
class SplitStatistics:
  """What one split holds.

  Attributes:
    name: The split.
    class_counts: {class name ('' if unlabeled): images}.
    sizes: {(height, width): images}, as stored in image/height, image/width.
    formats: {format (image/format): images}.
    byte_sizes: The length of every image/encoded, in reading order.
    samples: {class name: the kept samples}, for the classes sampled.
    picked: {image/filename: Sample} of the files asked for by name that
      the split holds.
  """
  name: str
  class_counts: collections.Counter = dataclasses.field(
      default_factory=collections.Counter)
  sizes: collections.Counter = dataclasses.field(
      default_factory=collections.Counter)
  formats: collections.Counter = dataclasses.field(
      default_factory=collections.Counter)
  byte_sizes: array.array = dataclasses.field(
      default_factory=lambda: array.array('q'))
  samples: Dict[str, sampling.SmallestKeys] = dataclasses.field(
      default_factory=dict)
  picked: Dict[str, Sample] = dataclasses.field(default_factory=dict)

  @property
  def total(self) -> int:
    return len(self.byte_sizes)

  def samples_of(self, class_name: str) -> List[Sample]:
    """The samples of a class, smallest digest first (empty if none)."""
    kept = self.samples.get(class_name)
    return [sample for _, sample in kept.items()] if kept else []


def ordered_classes(vocabulary: Sequence[str],
                    class_counts: Mapping[str, int]) -> List[str]:
  """The vocabulary, then any other class seen (sorted; '' when unlabeled)."""
  extra = sorted(name for name in class_counts if name not in vocabulary)
  return list(vocabulary) + extra


def collect_split(name: str,
                  shard_paths: Iterable[str],
                  *,
                  samples_per_class: int,
                  thumbnail_size: int,
                  sampled_classes: Optional[Collection[str]] = None,
                  files_to_pick: Collection[str] = ()
                  ) -> SplitStatistics:
  """Reads every Example of a split's shards into its SplitStatistics.

  Args:
    name: The split.
    shard_paths: Its TFRecord shards.
    samples_per_class: Samples kept per class (0: none, nothing decoded).
    thumbnail_size: Side of the square the thumbnails fit.
    sampled_classes: Classes to sample; None samples every class.
    files_to_pick: image/filename values whose thumbnails go to `picked`.
  """
  statistics = SplitStatistics(name)
  for example in _examples(shard_paths):
    _add(statistics, example, samples_per_class, thumbnail_size,
         sampled_classes, files_to_pick)
  return statistics


def pick_files(name: str, shard_paths: Iterable[str],
               files_to_pick: Collection[str], *,
               thumbnail_size: int) -> Dict[str, Sample]:
  """{image/filename: Sample} of the files of `files_to_pick` a split holds.

  Reads the split's Examples until it has found them all, decoding only
  theirs.
  """
  picked: Dict[str, Sample] = {}
  if not files_to_pick:
    return picked
  for example in _examples(shard_paths):
    _pick(picked, name, example.features.feature, files_to_pick,
          thumbnail_size)
    if len(picked) == len(files_to_pick):
      break
  return picked


def _examples(shard_paths: Iterable[str]):
  for path in shard_paths:
    for record in records.read_records(path):
      try:
        yield example_proto.Example.FromString(record)
      except message.DecodeError as error:
        raise InspectionError(
            f'{path}: a record is not a tf.train.Example ({error}); re-run '
            'ImageExampleGen') from error


def _class_name(feature) -> str:
  # Several labels (multi-label) count as their set, as the report does.
  return '|'.join(
      name.decode('utf-8')
      for name in (feature[artifact.CLASS_TEXT].bytes_list.value
                   if artifact.CLASS_TEXT in feature else ()))


def _pick(picked: Dict[str, Sample], split: str, feature,
          files_to_pick: Collection[str], thumbnail_size: int) -> None:
  filename = _first(feature, artifact.FILENAME, b'').decode('utf-8')
  if filename not in files_to_pick or filename in picked:
    return
  picked[filename] = _sample_maker(
      _first(feature, artifact.SHA256, b'').decode(), filename,
      _first(feature, artifact.ENCODED, b''), thumbnail_size,
      (_first(feature, artifact.HEIGHT, 0), _first(feature, artifact.WIDTH, 0)),
      split, _class_name(feature))()


def _add(statistics: SplitStatistics, example, samples_per_class: int,
         thumbnail_size: int, sampled_classes,
         files_to_pick: Collection[str]) -> None:
  feature = example.features.feature
  encoded = _first(feature, artifact.ENCODED, b'')
  class_name = _class_name(feature)
  statistics.class_counts[class_name] += 1
  height_width = (_first(feature, artifact.HEIGHT, 0),
                  _first(feature, artifact.WIDTH, 0))
  statistics.sizes[height_width] += 1
  statistics.formats[_first(feature, artifact.FORMAT, b'?').decode()] += 1
  statistics.byte_sizes.append(len(encoded))
  if files_to_pick:
    _pick(statistics.picked, statistics.name, feature, files_to_pick,
          thumbnail_size)
  if not samples_per_class or (sampled_classes is not None and
                               class_name not in sampled_classes):
    return
  sha256 = _first(feature, artifact.SHA256, b'').decode()
  filename = _first(feature, artifact.FILENAME, b'').decode('utf-8')
  kept = statistics.samples.setdefault(
      class_name, sampling.SmallestKeys(samples_per_class))
  kept.offer((sha256, filename),
             _sample_maker(sha256, filename, encoded, thumbnail_size,
                           height_width, statistics.name, class_name))


def _sample_maker(sha256: str, filename: str, encoded: bytes, size: int,
                  height_width: Tuple[int, int], split: str = '',
                  class_name: str = '') -> Callable[[], Sample]:
  def make() -> Sample:
    try:
      image = thumbnails.thumbnail(encoded, size)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
      image = None
    return Sample(sha256, filename, image, *height_width, split, class_name)
  return make


def _first(feature_map, key: str, default):
  """The first value of a bytes or int64 feature; default if absent."""
  if key not in feature_map:
    return default
  feature = feature_map[key]
  values = (feature.bytes_list.value if feature.HasField('bytes_list') else
            feature.int64_list.value)
  return values[0] if values else default
