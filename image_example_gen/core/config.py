"""The one typed configuration that travels from the component to the workers.

`IngestConfig` holds every option of an image ingest. The component validates it
when the pipeline is built, stores it as a single JSON execution property
(`INGEST_CONFIG_KEY`), and the executor and the Beam workers rebuild the same
frozen object from that JSON. No option is ever looked up by a loose string key.

This module imports neither TensorFlow nor TFX, so Beam workers stay light.
"""

import dataclasses
import json
from typing import Any, Dict, Optional, Sequence, Tuple

__all__ = [
    'INGEST_CONFIG_KEY',
    'PREVIOUS_CLASS_NAMES_KEY',
    'IngestConfig',
    'LABELS_FOLDER',
    'LABELS_METADATA',
    'LABELS_NONE',
    'ON_BAD_SKIP',
    'ON_BAD_FAIL',
    'COMPRESSION_GZIP',
    'COMPRESSION_NONE',
    'VALIDATION_STRUCTURE',
    'VALIDATION_DECODE',
    'SPLIT_KEY_CONTENT',
    'SPLIT_KEY_PATH',
    'SPLIT_KEY_NEAR_DUPLICATE',
    'DEFAULT_NEAR_DUPLICATE_THRESHOLD',
]

# The execution property of ImageExampleGen that holds IngestConfig as JSON.
INGEST_CONFIG_KEY = 'ingest_config'
# The execution property the driver fills with the class vocabulary (a JSON
# list) of the latest Examples this component published in this pipeline, so
# that every class keeps its label id across spans.
PREVIOUS_CLASS_NAMES_KEY = 'previous_class_names'

LABELS_FOLDER = 'folder'
LABELS_METADATA = 'metadata'
LABELS_NONE = 'none'
ON_BAD_SKIP = 'skip'
ON_BAD_FAIL = 'fail'
COMPRESSION_GZIP = 'gzip'
COMPRESSION_NONE = 'none'
VALIDATION_STRUCTURE = 'structure'
VALIDATION_DECODE = 'decode'
SPLIT_KEY_CONTENT = 'content'
SPLIT_KEY_PATH = 'path'
SPLIT_KEY_NEAR_DUPLICATE = 'near_duplicate'
# Bits of the 64-bit perceptual fingerprint within which two images are near
# duplicates; chosen from benchmarks/near_duplicate_eval.py
# (docs/near_duplicates.md).
DEFAULT_NEAR_DUPLICATE_THRESHOLD = 10
# Past half the bits, two fingerprints are less alike than chance.
MAX_NEAR_DUPLICATE_THRESHOLD = 32

# Pillow's own decompression-bomb threshold (2 * Image.MAX_IMAGE_PIXELS).
DEFAULT_MAX_PIXELS = 178_956_970
DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024

_CHOICES = {
    'labels': (LABELS_FOLDER, LABELS_METADATA, LABELS_NONE),
    'on_bad_image': (ON_BAD_SKIP, ON_BAD_FAIL),
    'compression': (COMPRESSION_GZIP, COMPRESSION_NONE),
    'validation': (VALIDATION_STRUCTURE, VALIDATION_DECODE),
    'split_key': (SPLIT_KEY_CONTENT, SPLIT_KEY_PATH, SPLIT_KEY_NEAR_DUPLICATE),
}


@dataclasses.dataclass(frozen=True)
class IngestConfig:
  """Options of an image ingest.

  Attributes:
    labels: 'folder' labels each image with its class folder (the first folder
      below the split root); 'metadata' takes the `label` or `labels` column
      of the metadata file (see metadata_file); 'none' ingests unlabeled
      images, writing no `image/class/*` features. A metadata file, when
      there is one, adds its other columns as features in every mode.
    class_names: The class vocabulary; label i is class_names[i]. None (the
      default) uses the sorted class names found across all input splits
      (class folders, or the metadata's label names). A class missing from an
      explicit list is an error (for metadata labels, a skipped row).
    metadata_file: A metadata file (CSV or JSON Lines with a `file_name`
      column, Hugging Face imagefolder style), relative to input_base or
      absolute. None (the default) looks for `metadata.csv` or
      `metadata.jsonl` in each split root, then at input_base.
    on_bad_image: 'skip' counts and reports a bad file and goes on; 'fail'
      stops the run at the first bad file, naming it.
    max_bad_fraction: Fail the run (publishing nothing) when more than this
      fraction of the files found is skipped. None means no limit.
    compression: 'none' (default): uncompressed TFRecords; 'gzip': `*.gz`
      files, as TFX writes by default. Every reader downstream decompresses
      what the ExampleGen compressed, and the images inside are compressed
      already: gzip saves ~1.4% of the bytes, and without it the whole chain
      is 9-24% faster and ImageStatisticsGen up to 50% faster (it reads gzip
      with Python's single-threaded zlib); see docs/performance.md. TFX's
      readers and `image_dataset`
      choose the compression of each file from its name.
    validation: 'decode' (default) guarantees that every published image
      decodes with `tf.io.decode_image(..., expand_animations=False)`, with
      or without channels=3, to exactly the stored height, width and
      channels: besides the header and container checks, it decodes JPEG
      scan data at 1/8 scale, inflates PNG pixel data and checks its rows,
      and decodes a GIF's first frame (see image_probe). 'structure' is the
      faster opt-out: headers and container structure only (JPEG markers and
      end-of-image, PNG chunks and CRCs, GIF blocks, BMP sizes); it lets
      through damage inside JPEG scan data and GIF pixel data, which then
      fails in TensorFlow.
    split_key: What chooses an image's hash bucket (output split): 'content'
      (default), the sha256 of its bytes, so identical files land in the same
      split whatever their paths, and no copy of an image leaks from train
      into eval; 'path', its path relative to input_base. Either way an
      image's split does not change when other files are added or removed.
      'near_duplicate': as 'content', but every group of near duplicates
      (resized, re-encoded, format-changed or slightly cropped copies; see
      near_duplicates) goes to one split, keyed on its first member's
      content; a first pass decodes every image to find the groups
      (docs/near_duplicates.md). An output_config `partition_feature_name`
      overrides all three.
    stratify: Balanced splits (default True): each output split receives,
      of every class of n images, within one image of n times its share of
      the buckets (see stratify.py), so that even a small dataset has every
      class in eval. Deterministic and keyed on the content (identical files
      share a split); adding an image moves at most about one existing image
      per class and split boundary. It reads each file once more, without
      decoding it (docs/performance.md). False: plain hash buckets, where
      each image's split depends on its own content alone. An output_config
      `partition_feature_name` turns it off (the feature decides).
    max_file_bytes: Files larger than this are skipped as `too_large` before
      they are read.
    max_pixels: Images whose header declares more pixels (width * height)
      are skipped as `too_large` before their pixels are decoded. At most
      178,956,970, the limit past which Pillow refuses to open an image.
    transcode: Convert what TensorFlow cannot decode but Pillow reads (WebP,
      AVIF, TIFF, HEIC/HEIF, JPEG 2000 ...) to PNG (lossless sources, alpha)
      or JPEG quality 95 (lossy sources); the first frame of a multi-frame
      file. False skips those files as `unsupported_format`. See
      docs/formats.md.
    upright: Turn images with an EXIF orientation other than 1 (JPEG, HEIC,
      TIFF ...) so that `tf.io.decode_image` returns the picture a viewer
      shows; the published bytes carry no orientation. False publishes the
      stored pixels as they are.
    max_side: Scale images whose longer side exceeds this many pixels down
      to it (aspect ratio kept, Lanczos); smaller ones are untouched. None
      (the default) never scales. `image/height` and `image/width` describe
      the stored image; `image/original/*` the source.
    near_duplicates: Find near-duplicate images (default True): every
      Example gets `image/phash`, a 64-bit perceptual fingerprint, and the
      report lists the groups of images within `near_duplicate_threshold`
      bits of each other, the groups that span labels and those that
      straddle splits. False skips the fingerprint and the grouping;
      split_key='near_duplicate' needs True.
    near_duplicate_threshold: The largest Hamming distance, in bits of 64,
      between two near duplicates' fingerprints (default 10). Lower it when
      distinct images of one scene are grouped; raise it to catch larger
      crops.
    gzip_level: ISA-L compression level, 0 to 3, for compression='gzip'.
      Level 3 (default) compresses photos as well as zlib's default level 6
      at about 4x its speed; level 1 is faster still and saves almost nothing
      on JPEG bytes.
  """
  labels: str = LABELS_FOLDER
  class_names: Optional[Tuple[str, ...]] = None
  metadata_file: Optional[str] = None
  on_bad_image: str = ON_BAD_SKIP
  max_bad_fraction: Optional[float] = None
  compression: str = COMPRESSION_NONE
  validation: str = VALIDATION_DECODE
  split_key: str = SPLIT_KEY_CONTENT
  stratify: bool = True
  max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
  max_pixels: int = DEFAULT_MAX_PIXELS
  gzip_level: int = 3
  transcode: bool = True
  upright: bool = True
  max_side: Optional[int] = None
  near_duplicates: bool = True
  near_duplicate_threshold: int = DEFAULT_NEAR_DUPLICATE_THRESHOLD

  def __post_init__(self):
    for option, choices in _CHOICES.items():
      value = getattr(self, option)
      if value not in choices:
        raise ValueError(
            f'Invalid {option}={value!r}; expected one of {list(choices)}.')
    if self.class_names is not None:
      if isinstance(self.class_names, (str, bytes)):
        raise ValueError(
            f'Invalid class_names={self.class_names!r}; expected a list of '
            'class names.')
      names = tuple(self.class_names)
      object.__setattr__(self, 'class_names', names)
      _check_class_names(names)
      if self.labels == LABELS_NONE:
        raise ValueError("class_names is set but labels='none'; drop one.")
    if self.max_bad_fraction is not None and not (
        _is_number(self.max_bad_fraction) and
        0.0 <= self.max_bad_fraction <= 1.0):
      raise ValueError(
          f'Invalid max_bad_fraction={self.max_bad_fraction!r}; expected a '
          'fraction between 0 and 1, or None for no limit.')
    for option, ceiling in (('max_file_bytes', None),
                            ('max_pixels', DEFAULT_MAX_PIXELS)):
      value = getattr(self, option)
      if not _is_int(value) or value <= 0 or (
          ceiling and value > ceiling):
        raise ValueError(
            f'Invalid {option}={value!r}; expected a positive integer'
            + (f' of at most {ceiling}.' if ceiling else '.'))
    if self.metadata_file is not None and (
        not isinstance(self.metadata_file, str) or not self.metadata_file):
      raise ValueError(
          f'Invalid metadata_file={self.metadata_file!r}; expected a path to '
          'a metadata.csv or metadata.jsonl file, or None to look for one.')
    for option in ('stratify', 'transcode', 'upright', 'near_duplicates'):
      if not isinstance(getattr(self, option), bool):
        raise ValueError(f'Invalid {option}={getattr(self, option)!r}; '
                         'expected True or False.')
    if self.max_side is not None and (not _is_int(self.max_side) or
                                      self.max_side < 1):
      raise ValueError(
          f'Invalid max_side={self.max_side!r}; expected a positive number '
          'of pixels, or None to keep every size.')
    if not _is_int(self.near_duplicate_threshold) or not (
        0 <= self.near_duplicate_threshold <= MAX_NEAR_DUPLICATE_THRESHOLD):
      raise ValueError(
          f'Invalid near_duplicate_threshold={self.near_duplicate_threshold!r}'
          f'; expected 0 to {MAX_NEAR_DUPLICATE_THRESHOLD} bits (default '
          f'{DEFAULT_NEAR_DUPLICATE_THRESHOLD}).')
    if (self.split_key == SPLIT_KEY_NEAR_DUPLICATE and
        not self.near_duplicates):
      raise ValueError(
          "split_key='near_duplicate' needs near_duplicates=True, which "
          'finds the groups it keeps together; turn it on or choose '
          "split_key='content'.")
    if not _is_int(self.gzip_level) or self.gzip_level not in range(4):
      raise ValueError(
          f'Invalid gzip_level={self.gzip_level!r}; expected 0 to 3 (ISA-L '
          'levels).')

  @classmethod
  def from_options(cls, **options: Any) -> 'IngestConfig':
    """Builds a config from keyword options, naming any unknown option."""
    known = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(options) - known)
    if unknown:
      raise TypeError(
          f'Unknown ImageExampleGen option(s) {unknown}; known options are '
          f'{sorted(known)}.')
    return cls(**options)

  def to_json(self) -> str:
    """Serializes the config to the JSON stored as an execution property."""
    return json.dumps(dataclasses.asdict(self), sort_keys=True)

  @classmethod
  def from_json(cls, text: str) -> 'IngestConfig':
    """Rebuilds the config from `to_json` output."""
    values: Dict[str, Any] = json.loads(text)
    if values.get('class_names') is not None:
      values['class_names'] = tuple(values['class_names'])
    return cls.from_options(**values)


def _is_int(value: Any) -> bool:
  return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
  return _is_int(value) or isinstance(value, float)


def _check_class_names(names: Sequence[str]) -> None:
  if not names:
    raise ValueError('class_names is empty; pass None to infer it.')
  for name in names:
    if not isinstance(name, str) or not name or '/' in name:
      raise ValueError(
          f'Invalid class name {name!r} in class_names: expected a non-empty '
          'folder name without "/".')
  duplicates = sorted({name for name in names if names.count(name) > 1})
  if duplicates:
    raise ValueError(f'class_names has duplicates: {duplicates}.')
