"""The Beam PTransform that turns image folders into serialized tf.train.Examples.

Usable in any Beam pipeline, without TFX:

    with beam.Pipeline() as pipeline:
      outputs = pipeline | ImageFolderToExamples(
          '/data/flowers', output_splits=[HashBucketSplit('train', 2),
                                          HashBucketSplit('eval', 1)])
      outputs['train'] | WriteTFRecords('/out/train/data')
      outputs[SKIPPED_KEY] | beam.Map(print)

One streaming pass: the launcher lists the files and writes them, in batches,
to a manifest (beam.manifest); Beam spreads the batches over the workers,
and each worker reads, checks and encodes its files and emits each Example to
its output split. Image bytes are never shuffled or grouped, so memory does not
grow with the data.
"""

import collections
import dataclasses
import hashlib
import json
import os
import posixpath
import tempfile
from typing import List, Optional, Sequence
import uuid

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from image_example_gen.beam import duplicates as duplicates_lib
from image_example_gen.beam import manifest
from image_example_gen.beam import near_duplicate_groups
from image_example_gen.beam import progress
from image_example_gen.beam import side_file
from image_example_gen.beam import split_plan
from image_example_gen.core import artifact
from image_example_gen.core import config as config_lib
from image_example_gen.core import discovery as discovery_lib
from image_example_gen.core import example_encoder
from image_example_gen.core import files as files_lib
from image_example_gen.core import image_probe
from image_example_gen.core import near_duplicates
from image_example_gen.core import publish
from image_example_gen.core import reasons
from image_example_gen.core import stratify

__all__ = [
    'COUNTS_KEY', 'DUPLICATES_KEY', 'NEAR_DUPLICATES_KEY',
    'PREPARED_KEY', 'SKIPPED_KEY',
    'METRICS_NAMESPACE', 'BadFileError',
    'EncodeImages', 'HashBucketSplit', 'ImageFolderToExamples', 'OutputSplits'
]

# Keys of the outputs besides the per-split Examples.
SKIPPED_KEY = '__skipped__'  # JSON lines: relative_path, split, reason, detail.
COUNTS_KEY = '__counts__'  # ((output_split, class_name or ''), count)
# ((action, source format), count): files transcoded, turned upright or
# downscaled (core.publish.ACTIONS), per source format.
PREPARED_KEY = '__prepared__'
# JSON lines, one per group of identical files: sha256, size, files, splits,
# class_names (group_summaries.duplicate_group).
DUPLICATES_KEY = '__duplicates__'
# JSON lines, one per group of near-duplicate images with at least two
# distinct contents: files, splits, class_names (group_summaries.
# near_duplicate_group); with near_duplicates=True only.
NEAR_DUPLICATES_KEY = '__near_duplicates__'
METRICS_NAMESPACE = 'image_example_gen'

_EXAMPLES_TAG_PREFIX = 'examples/'
_SKIPPED_TAG = 'skipped'
_INGESTED_TAG = 'ingested'
_INDEX_TAG = 'index'
_RECORD_TAG = 'record'
_PREPARED_TAG = 'prepared'
_FINGERPRINT_TAG = 'fingerprint'
# With record_lists, a split's list of records goes out once it holds this
# many bytes (and at the end of each batch), so that a batch of large photos
# is not held whole.
_RECORD_LIST_BYTES = 4 << 20


class BadFileError(ValueError):
  """Raised for a bad file when on_bad_image='fail'.

  Attributes:
    path: The file, as the message names it.
    reason: Why it is bad (one of core.reasons).
    detail: What is wrong with it.

  They are also the exception's `args` after the message, so that they survive
  Beam's re-raising, which rebuilds the exception from its args with the step
  name appended to the message.
  """

  def __init__(self, message: str, path: Optional[str] = None,
               reason: Optional[str] = None, detail: Optional[str] = None):
    super().__init__(message, path, reason, detail)
    self.path = path
    self.reason = reason
    self.detail = detail

  def __str__(self) -> str:
    return str(self.args[0])


@dataclasses.dataclass(frozen=True)
class HashBucketSplit:
  """An output split that receives `hash_buckets` of all the buckets."""
  name: str
  hash_buckets: int


@dataclasses.dataclass(frozen=True)
class OutputSplits:
  """Assigns each image to an output split.

  With hash-bucket splits, the bucket is a sha256 modulo the total number of
  buckets: of the `partition_feature_name` feature (serialized as TFX does)
  if set, else of the image's content (its `image/key/sha256`) or of its path
  relative to input_base, as `IngestConfig.split_key` says ('near_duplicate'
  hashes the content too; the groups come as `assigned_split`s). The
  assignment is stable across runs and runners, and does not change when
  other files are added or removed. Without hash buckets, each image stays
  in its input split.
  """
  names: Sequence[str]
  bucket_limits: Optional[Sequence[int]] = None
  partition_feature_name: Optional[str] = None

  @classmethod
  def from_hash_buckets(cls, splits: Sequence[HashBucketSplit],
                        partition_feature_name: Optional[str] = None):
    limits, total = [], 0
    for split in splits:
      if split.hash_buckets <= 0:
        raise ValueError(f'Output split {split.name!r} needs hash_buckets > 0.')
      total += split.hash_buckets
      limits.append(total)
    return cls(tuple(split.name for split in splits), tuple(limits),
               partition_feature_name or None)

  @classmethod
  def for_splits(cls, input_splits: Sequence[discovery_lib.InputSplit],
                 output_splits: Optional[Sequence[HashBucketSplit]],
                 partition_feature_name: Optional[str] = None):
    """Hash buckets of output_splits, or (None or empty) the input splits."""
    if output_splits:
      return cls.from_hash_buckets(output_splits, partition_feature_name)
    return cls(tuple(split.name for split in input_splits))

  def assign(self, source: discovery_lib.SourceFile, example,
             split_key: str = config_lib.SPLIT_KEY_CONTENT) -> str:
    if self.bucket_limits is None:
      return source.input_split
    if source.assigned_split:
      return source.assigned_split
    if self.partition_feature_name:
      feature = example.features.feature.get(self.partition_feature_name)
      if feature is None:
        raise ValueError(
            f'partition_feature_name {self.partition_feature_name!r} is not '
            f'a feature of the Examples; features: '
            f'{sorted(example.features.feature)}')
      key = feature.SerializeToString(deterministic=True)
    elif split_key == config_lib.SPLIT_KEY_PATH:
      key = source.relative_path.encode('utf-8')
    else:
      key = example.features.feature[
          artifact.SHA256].bytes_list.value[0]
    return stratify.bucket_split(key, self.names, self.bucket_limits)

  def plan(self, config: config_lib.IngestConfig
          ) -> Optional[split_plan.SplitPlan]:
    """The split decided before encoding, if any: with `stratify`, or
    with split_key='near_duplicate', for hash buckets not chosen by a
    partition feature."""
    by_group = config.split_key == config_lib.SPLIT_KEY_NEAR_DUPLICATE
    if (not (config.stratify or by_group) or not self.bucket_limits or
        self.partition_feature_name):
      return None
    return split_plan.SplitPlan(self.names, self.bucket_limits,
                                config.stratify)


class _DigestFilesDoFn(beam.DoFn):
  """The split's first pass over a batch of files: a key line
  (split_plan.keys_line: the stratum, the content keys signed64) per
  stratum of the batch, of the files that pass the cheap check
  (publish.quick_check; no pixel is decoded). The key
  (core.stratify.key_number) follows `split_key`: of the sha256 of the file's
  bytes, or of its path.

  With split_key='near_duplicate' each file is published as the encoding
  pass will (decode check, transcoding, turning upright) and goes to the
  FINGERPRINT_TAG output as (member id, fingerprint, content key, stratum)
  (near_duplicate_groups.GroupRepresentatives).
  """

  def __init__(self, config: config_lib.IngestConfig,
               batches: manifest.BatchTable):
    super().__init__()
    self._config = config
    self._batches = batches

  def setup(self):
    self._progress = progress.ProgressReporter(progress.FIRST_PASS)

  def finish_bundle(self):
    self._progress.flush()

  def process(self, number: int):
    """The first pass over batch number `number` of the table."""
    self._progress.begin_batch()
    batch = self._batches[number]
    by_group = self._config.split_key == config_lib.SPLIT_KEY_NEAR_DUPLICATE
    files = size = 0
    # One key line per stratum of the batch, not one element per file:
    # Beam's cost per element is the larger one (docs/scale.md).
    keys_by_stratum = collections.defaultdict(list)
    for source in _prefetched(batch, self._config.max_file_bytes):
      files += 1
      size += max(source.size, 0)
      if source.skip_reason or source.size > self._config.max_file_bytes:
        continue
      try:
        data = _read_bytes(source.path, self._config.max_file_bytes)
        if by_group:
          fingerprint = _fingerprint(
              publish.publish_image(data, self._config))
        else:
          publish.quick_check(data, self._config)
      except (OSError, image_probe.BadImageError):
        continue  # The encoding pass reports it.
      key = near_duplicate_groups.signed64(
          _content_key(source, data, self._config))
      if by_group and fingerprint is not None:
        yield beam.pvalue.TaggedOutput(
            _FINGERPRINT_TAG,
            (near_duplicate_groups.member_id(source.relative_path),
             near_duplicate_groups.signed64(fingerprint), key,
             source.class_key))
      keys_by_stratum[source.class_key].append(key)
    for stratum, keys in keys_by_stratum.items():
      yield split_plan.keys_line(stratum, keys)
    self._progress.add(batch.path, files=files, size=size, skipped=0)


def _prefetched(batch: manifest.ManifestRange,
                max_bytes: int) -> List[discovery_lib.SourceFile]:
  """The files of a batch, once the kernel has been asked to read the ones
  that will be read (files_lib.prefetch)."""
  sources = list(manifest.read_range(batch))
  # A size of -1 (not known when listed) is read too.
  files_lib.prefetch(source.path for source in sources
                     if not source.skip_reason and source.size <= max_bytes)
  return sources


def _content_key(source: discovery_lib.SourceFile, data: bytes,
                 config: config_lib.IngestConfig,
                 data_digest: Optional[str] = None) -> int:
  """The key the split ranks a file by (core.stratify.key_number): of the
  sha256 of its bytes (`data_digest` if already known), or with
  split_key='path' of its relative path."""
  if config.split_key == config_lib.SPLIT_KEY_PATH:
    return stratify.key_number(hashlib.sha256(
        source.relative_path.encode('utf-8')).hexdigest())
  return stratify.key_number(data_digest or hashlib.sha256(data).hexdigest())


def _fingerprint(published: publish.Published) -> Optional[int]:
  """The near-duplicate fingerprint of what an Example publishes."""
  info = published.info
  return near_duplicates.fingerprint_published(
      published.data, info.preview, (info.width, info.height),
      info.preview_scale)


class _EncodeImagesDoFn(beam.DoFn):
  """Reads, checks and encodes a batch of files; reports the unusable ones."""

  def __init__(self, config: config_lib.IngestConfig,
               output_splits: OutputSplits, batches: manifest.BatchTable,
               record_lists: bool = False):
    super().__init__()
    self._config = config
    self._output_splits = output_splits
    self._batches = batches
    self._record_lists = record_lists
    self._plan = output_splits.plan(config)
    self._stratum_keys = side_file.LoadedFile(split_plan.load_stratum_keys)

  def setup(self):
    counter = lambda name: beam.metrics.Metrics.counter(METRICS_NAMESPACE, name)
    self._examples = counter('examples')
    self._image_bytes = counter('image_bytes')
    self._skipped = counter('skipped')
    self._skipped_by_reason = {
        reason: counter(f'skipped_{reason}') for reason in reasons.ALL_REASONS
    }
    self._unfingerprinted = counter('images_without_fingerprint')
    self._progress = progress.ProgressReporter()

  def process(self, number: int, keys_path=None, groups=None):
    """Encodes batch number `number` of the table. Side inputs, with a split
    planned before encoding
    (OutputSplits.plan): `keys_path`, the file of each stratum's sorted
    content keys (split_plan.SortKeysPerStratum), and `groups`, the
    near-duplicate groups' representatives
    (near_duplicate_groups.GroupRepresentatives)."""
    self._progress.begin_batch()
    batch = self._batches[number]
    stratum_keys = (None if keys_path is None else
                    self._stratum_keys.get(keys_path))
    ingested = collections.Counter()
    prepared = collections.Counter()
    # The duplicate report's entries and lines go as one element per batch,
    # not one per file: Beam's cost per element is the larger one.
    index_entries, record_lines = [], []
    # With record_lists: each split's Examples not yet sent, and their bytes.
    unsent = collections.defaultdict(list)
    unsent_bytes = collections.Counter()
    files = size = skipped = 0
    for source in _prefetched(batch, self._config.max_file_bytes):
      files += 1
      size += max(source.size, 0)
      try:
        (split, record, digest, image_size, published,
         fingerprint) = self._encode(source, stratum_keys, groups)
      except image_probe.BadImageError as error:
        skipped += 1
        yield self._skip(source, error)
        continue
      ingested[(split, source.class_key)] += 1
      for action in published.actions:
        prepared[(action, published.source_format)] += 1
      if not self._record_lists:
        yield beam.pvalue.TaggedOutput(_EXAMPLES_TAG_PREFIX + split, record)
      else:
        unsent[split].append(record)
        unsent_bytes[split] += len(record)
        if unsent_bytes[split] >= _RECORD_LIST_BYTES:
          yield beam.pvalue.TaggedOutput(_EXAMPLES_TAG_PREFIX + split,
                                         unsent.pop(split))
          unsent_bytes[split] = 0
      index_entries.append(duplicates_lib.index_entry(
          source.relative_path, digest, fingerprint))
      record_lines.append(duplicates_lib.record_line(
          source.relative_path, digest, image_size, split, source.class_key))
    for split, records in unsent.items():
      yield beam.pvalue.TaggedOutput(_EXAMPLES_TAG_PREFIX + split, records)
    if index_entries:
      yield beam.pvalue.TaggedOutput(
          _INDEX_TAG, duplicates_lib.index_line(index_entries))
      yield beam.pvalue.TaggedOutput(_RECORD_TAG, '\n'.join(record_lines))
    for key, count in ingested.items():
      yield beam.pvalue.TaggedOutput(_INGESTED_TAG, (key, count))
    for key, count in prepared.items():
      yield beam.pvalue.TaggedOutput(_PREPARED_TAG, (key, count))
    self._progress.add(batch.path, files=files, size=size, skipped=skipped)

  def finish_bundle(self):
    self._progress.flush()

  def _encode(self, source: discovery_lib.SourceFile, stratum_keys=None,
              groups=None):
    """Returns (output split, serialized Example, sha256 hex digest, size in
    bytes of the file, publish.Published, fingerprint or None), or raises
    BadImageError. The side inputs are process's."""
    if source.skip_reason:
      raise image_probe.BadImageError(source.skip_reason, source.skip_detail)
    max_bytes = self._config.max_file_bytes
    if source.size > max_bytes:
      raise image_probe.BadImageError(
          reasons.TOO_LARGE,
          f'{source.size} bytes, over max_file_bytes={max_bytes}')
    try:
      data = _read_bytes(source.path, max_bytes)
    except OSError as error:
      raise image_probe.BadImageError(reasons.UNREADABLE,
                                      f'cannot read: {error}') from None
    published = publish.publish_image(data, self._config)
    if (source.label is None and
        self._config.labels == config_lib.LABELS_FOLDER):
      raise image_probe.BadImageError(
          reasons.NO_CLASS_FOLDER,
          "image directly in the split root; put it in a class folder or set "
          "labels='none'")
    fingerprint = phash = None
    if self._config.near_duplicates:
      fingerprint = _fingerprint(published)
      if fingerprint is None:
        self._unfingerprinted.inc()
      phash = '' if fingerprint is None else near_duplicates.to_hex(
          fingerprint)
    example = example_encoder.build_example(
        published.data, published.info, source.relative_path,
        label=source.label, class_name=source.class_name,
        label_ids=source.label_ids, label_names=source.label_names,
        features=source.features, source_format=published.source_format,
        original_size=published.original_size, phash=phash)
    self._examples.inc()
    self._image_bytes.inc(len(published.data))
    digest = example.features.feature[
        artifact.SHA256].bytes_list.value[0]
    if self._plan is not None:
      # The Example's digest is the file's when its bytes are published as
      # they are: no second sha256 of them.
      source = source._replace(assigned_split=self._plan.split_of(
          _content_key(source, data, self._config,
                       digest.decode() if published.data is data else None),
          source.class_key, stratum_keys, groups,
          near_duplicate_groups.member_id(source.relative_path)
          if groups else None))
    return (self._output_splits.assign(source, example,
                                       self._config.split_key),
            example.SerializeToString(deterministic=True), digest.decode(),
            len(data), published, fingerprint)

  def _skip(self, source: discovery_lib.SourceFile,
            error: image_probe.BadImageError):
    reason, detail = error.reason, error.detail
    self._skipped.inc()
    self._skipped_by_reason[reason].inc()
    if (self._config.on_bad_image == config_lib.ON_BAD_FAIL and
        reason != reasons.HIDDEN):
      raise BadFileError(
          f'Bad input file {source.path or source.relative_path!r} '
          f'({reason}): {detail}. Fix or remove '
          "it, or set on_bad_image='skip' to skip and report bad files.",
          source.path or source.relative_path, reason, detail)
    record = {
        'relative_path': source.relative_path,
        'split': source.input_split,
        'reason': reason,
        'detail': detail,
    }
    if error.policy:  # A check under which the project is stricter than TF.
      record['policy'] = error.policy
    return beam.pvalue.TaggedOutput(_SKIPPED_TAG,
                                    json.dumps(record, ensure_ascii=False))


# What _read_bytes asks for after a file's listed size (it grew, or is a
# stream).
_READ_MORE = 1 << 16


def _read_bytes(path: str, max_bytes: int) -> bytes:
  """Reads a whole file, through Beam's FileSystems for URIs.

  A local file is read with os.read until an empty read, the first read of
  its size plus one byte: no buffer of max_bytes per file, and no Python
  file object, which `open().read()` builds for each file (15 against 8.5 us
  a 2.7 KB file, docs/scale.md).
  """
  if FileSystems.get_scheme(path) is not None:
    with FileSystems.open(path, 'application/octet-stream',
                          CompressionTypes.UNCOMPRESSED) as file:
      return file.read()
  descriptor = os.open(path, os.O_RDONLY)
  try:
    size = os.fstat(descriptor).st_size
    if size > max_bytes:  # It grew since it was listed.
      raise _too_large(size, max_bytes)
    parts, total = [], 0
    while True:
      part = os.read(descriptor, _READ_MORE if parts else size + 1)
      if not part:
        return b''.join(parts)  # A single part comes back as it is.
      parts.append(part)
      total += len(part)
      if total > max_bytes:  # It grows as it is read.
        raise _too_large(total, max_bytes)
  finally:
    os.close(descriptor)


def _too_large(size: int, max_bytes: int) -> image_probe.BadImageError:
  return image_probe.BadImageError(
      reasons.TOO_LARGE, f'{size} bytes, over max_file_bytes={max_bytes}')


class EncodeImages(beam.PTransform):
  """Encodes the files of a manifest (see ImageFolderToExamples).

  Args:
    batches: The manifest's batches, from `manifest.stage`.
    config: The ingest options.
    output_splits: How files are assigned to output splits.
    staging_dir: A folder for the per-image records that the duplicate
      report reads back (beam.duplicates); by default the manifest's.
    record_lists: Each split's elements are lists of serialized Examples
      (those of one batch of files, up to 4 MiB), for
      `sink.WriteTFRecords(record_lists=True)`, instead of one element per
      Example: Beam's work per element, about 30 us, is then paid once per
      list (docs/scale.md).
  """

  def __init__(self, batches: Sequence[manifest.ManifestRange],
               config: config_lib.IngestConfig, output_splits: OutputSplits,
               staging_dir: Optional[str] = None, record_lists: bool = False):
    super().__init__()
    for name in output_splits.names:
      if name.startswith('__'):
        raise ValueError(f'Split name {name!r} may not start with "__".')
    batches = list(batches)
    self._batches = manifest.BatchTable(batches)
    self._config = config
    self._output_splits = output_splits
    self._record_lists = record_lists
    if staging_dir is None and batches:
      staging_dir = posixpath.dirname(batches[0].path)
    self._staging_dir = staging_dir or tempfile.mkdtemp(
        prefix='image_example_gen-')

  def expand(self, pbegin):
    example_tags = [_EXAMPLES_TAG_PREFIX + name
                    for name in self._output_splits.names]
    # Batch numbers, not ManifestRanges: see manifest.BatchTable.
    batches = pbegin | 'ListBatches' >> beam.Create(
        range(len(self._batches)), reshuffle=True)
    outputs = (
        batches
        | 'ReadAndEncode' >> beam.ParDo(
            _EncodeImagesDoFn(self._config, self._output_splits,
                              self._batches, self._record_lists),
            **self._split_side_inputs(batches)).with_outputs(
                _SKIPPED_TAG, _INGESTED_TAG, _INDEX_TAG, _RECORD_TAG,
                _PREPARED_TAG, *example_tags))
    result = {
        name: outputs[tag]
        for name, tag in zip(self._output_splits.names, example_tags)
    }
    result[SKIPPED_KEY] = outputs[_SKIPPED_TAG]
    result[COUNTS_KEY] = (
        outputs[_INGESTED_TAG] | 'CountPerClass' >> beam.CombinePerKey(sum))
    result[PREPARED_KEY] = (
        outputs[_PREPARED_TAG] | 'CountPrepared' >> beam.CombinePerKey(sum))
    threshold = (self._config.near_duplicate_threshold
                 if self._config.near_duplicates else None)
    duplicates, near_duplicates = (
        (outputs[_INDEX_TAG], outputs[_RECORD_TAG])
        | 'ReportCopies' >> duplicates_lib.ReportCopies(
            FileSystems.join(self._staging_dir, 'records', 'records'),
            threshold))
    result[DUPLICATES_KEY] = duplicates
    if near_duplicates is not None:
      result[NEAR_DUPLICATES_KEY] = near_duplicates
    return result

  def _split_side_inputs(self, batches):
    """The side inputs of the encoding that carry a split planned before it
    (OutputSplits.plan): none, or `keys_path` (the file of each stratum's
    sorted distinct content keys), and with split_key='near_duplicate' `groups`
    (near_duplicate_groups.GroupRepresentatives). A first pass reads every file
    for them; only 64-bit keys are kept, never paths or image bytes."""
    config = self._config
    if self._output_splits.plan(config) is None:
      return {}
    first_pass = batches | 'DigestFiles' >> beam.ParDo(
        _DigestFilesDoFn(config, self._batches)).with_outputs(_FINGERPRINT_TAG,
                                               main='keyed')
    side_inputs = {}
    if config.stratify:
      side_inputs['keys_path'] = beam.pvalue.AsSingleton(
          first_pass.keyed
          | 'SortKeysPerStratum' >> split_plan.SortKeysPerStratum(
              FileSystems.join(self._staging_dir, 'keys', 'keys')))
    if config.split_key == config_lib.SPLIT_KEY_NEAR_DUPLICATE:
      side_inputs['groups'] = beam.pvalue.AsSingleton(
          first_pass[_FINGERPRINT_TAG]
          | 'GroupNearDuplicates' >> beam.CombineGlobally(
              near_duplicate_groups.GroupRepresentatives(
                  config.near_duplicate_threshold)))
    return side_inputs


class ImageFolderToExamples(beam.PTransform):
  """Reads image folders into serialized tf.train.Examples, one PCollection a split.

  Args:
    input_base: Folder (local path or URI) holding the images.
    input_splits: Input splits and their patterns; by default one split
      'train' with pattern '*' (every class folder of input_base).
    output_splits: Hash-bucket output splits; None keeps the input splits.
    partition_feature_name: Feature whose value chooses the bucket; by
      default `config.split_key` decides (the image's content).
    config: The ingest options.
    previous_class_names: The vocabulary of an earlier span, whose label ids
      stay (the component's driver reads it from ML Metadata).
    staging_dir: Where to write the list of files for the workers; by default
      a new folder under the pipeline's --temp_location if set (required on
      distributed runners), else a local temp folder.

  Returns (from expand) a dict: each output split name maps to its serialized
  Examples; SKIPPED_KEY to JSON lines describing each skipped file;
  COUNTS_KEY to ((split, class_name), count) pairs; DUPLICATES_KEY to JSON
  lines describing each group of identical files; NEAR_DUPLICATES_KEY (with
  near_duplicates=True) to JSON lines describing each group of near
  duplicates; PREPARED_KEY to ((action, source format), count) pairs of the
  files transcoded, turned upright or downscaled.

  Every IngestConfig option works here. With `stratify=True` (the default)
  and hash-bucket output splits, a first branch reads every file once more
  to take its digest (no decode) and deals each class's images out by
  content (core.stratify, beam.split_plan); the encoding waits for that
  assignment. Per-image state goes to files in `staging_dir`: the content
  keys that the split ranks (beam.split_plan), and the index and records
  that the duplicate report reads back (beam.duplicates), so memory stays
  flat. The
  engine (`beam.engine.run_ingest`) also writes the ingest report and
  enforces `max_bad_fraction`; with this transform, the SKIPPED_KEY and
  COUNTS_KEY outputs are yours to use.
  """

  def __init__(self,
               input_base: str,
               *,
               input_splits: Sequence[discovery_lib.InputSplit] = (
                   discovery_lib.InputSplit('train', '*'),),
               output_splits: Optional[Sequence[HashBucketSplit]] = None,
               partition_feature_name: Optional[str] = None,
               config: config_lib.IngestConfig = config_lib.IngestConfig(),
               previous_class_names: Optional[Sequence[str]] = None,
               staging_dir: Optional[str] = None):
    super().__init__()
    self._input_base = input_base
    self._staging_dir = staging_dir
    self._input_splits = tuple(input_splits)
    self._config = config
    self._previous_class_names = previous_class_names
    self._output_splits = OutputSplits.for_splits(
        self._input_splits, output_splits, partition_feature_name)

  def expand(self, pbegin):
    staging_dir = self._staging_dir or _default_staging_dir(pbegin.pipeline)
    staged = manifest.plan_and_stage(
        self._input_base, self._input_splits, self._config,
        self._previous_class_names, staging_dir)
    return pbegin | EncodeImages(staged.batches, self._config,
                                 self._output_splits, staging_dir)


def _default_staging_dir(pipeline: beam.Pipeline) -> str:
  """A new folder under the pipeline's temp_location, else a local temp one."""
  temp_location = pipeline.options.view_as(
      beam.options.pipeline_options.GoogleCloudOptions).temp_location
  if temp_location:
    return FileSystems.join(temp_location,
                            f'image_example_gen-{uuid.uuid4().hex}')
  return tempfile.mkdtemp(prefix='image_example_gen-')
