"""The Examples artifact ImageExampleGen writes: its layout, files and names.

The one place that knows the artifact's format, for writing and reading
alike (the engine writes it; the dataset reader, the inspection, the
summaries, the command line, the driver and the Trainer read it):

    <uri>/
      Split-<name>/data_tfrecord-00000-of-0000N[.gz]   one folder per split
      ingest_report.json                               `IngestReport`
      skipped.jsonl                                    every skipped file
      duplicates.jsonl                                 every group of identical files
      near_duplicates.jsonl                            every near-duplicate group
      labels.txt                                       label i on line i

- the feature keys of every Example (`ENCODED` ... `SHA256`);
- the ML Metadata custom properties of the artifact (`CLASS_NAMES_PROPERTY`,
  `MULTI_LABEL_PROPERTY` and the integer totals of `mlmd_properties`).

The class vocabulary is kept three ways, each for its reader: `labels.txt`
(the Trainer's label map, as TFT writes vocabularies), the report (a person),
and the MLMD property (the driver, which keeps label ids across spans).
`read_class_names` reads the first that exists.

Files go through `core.files`, so a `gs://` artifact reads as a local one.
"""

import json
import posixpath
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from image_example_gen.core import files
from image_example_gen.core import ingest_report

__all__ = [
    'ArtifactError', 'CHANNELS', 'CLASS_NAMES_PROPERTY', 'CLASS_TEXT',
    'DUPLICATES_FILE_NAME', 'ENCODED',
    'FILENAME', 'FORMAT', 'HEIGHT', 'LABEL', 'LABELS_FILE_NAME',
    'MULTI_LABEL_PROPERTY', 'NEAR_DUPLICATE_GROUPS_PROPERTY',
    'NEAR_DUPLICATES_FILE_NAME', 'ORIGINAL_HEIGHT',
    'ORIGINAL_WIDTH', 'PHASH',
    'REPORT_FILE_NAME', 'SHA256', 'SHARD_PREFIX', 'SOURCE_FORMAT',
    'SKIPPED_FILE_NAME', 'SPLIT_PREFIX', 'WIDTH', 'artifact_root',
    'mlmd_properties', 'read_class_names', 'read_report', 'read_report_dict',
    'shard_prefix', 'split_dir', 'split_names_on_disk', 'write_artifact_files',
    'write_list'
]

# Feature keys of every Example (docs/ingest_report.md, "Feature keys").
ENCODED = 'image/encoded'
FORMAT = 'image/format'
HEIGHT = 'image/height'
WIDTH = 'image/width'
CHANNELS = 'image/channels'
FILENAME = 'image/filename'
LABEL = 'image/class/label'
CLASS_TEXT = 'image/class/text'
SHA256 = 'image/key/sha256'
# The source file's format ('jpeg', 'webp', 'heif' ...), beside FORMAT (the
# published one), and its size, upright, before any downscaling.
SOURCE_FORMAT = 'image/source_format'
ORIGINAL_HEIGHT = 'image/original/height'
ORIGINAL_WIDTH = 'image/original/width'
# The 64-bit perceptual fingerprint (core.near_duplicates), 16 hex digits;
# empty for an image too small to fingerprint. Absent with
# near_duplicates=False.
PHASH = 'image/phash'

# The folder of each split, as TFX names them (artifact_utils.get_split_uri).
SPLIT_PREFIX = 'Split-'
# TFX's file name prefix for the shards of a split.
SHARD_PREFIX = 'data_tfrecord'
REPORT_FILE_NAME = ingest_report.REPORT_FILE_NAME
SKIPPED_FILE_NAME = ingest_report.SKIPPED_FILE_NAME
DUPLICATES_FILE_NAME = ingest_report.DUPLICATES_FILE_NAME
NEAR_DUPLICATES_FILE_NAME = ingest_report.NEAR_DUPLICATES_FILE_NAME
# The label map, like TFT's vocabulary files: line i names label i.
LABELS_FILE_NAME = 'labels.txt'

# MLMD custom properties of the Examples artifact: the vocabulary as a JSON
# list, and 1 when images have several labels each.
CLASS_NAMES_PROPERTY = 'class_names'
MULTI_LABEL_PROPERTY = 'multi_label'
# Set (to the number of groups) when the ingest looked for near duplicates,
# so the Examples carry PHASH.
NEAR_DUPLICATE_GROUPS_PROPERTY = 'num_near_duplicate_groups'


class ArtifactError(ValueError):
  """A folder that is not (or not entirely) an ImageExampleGen artifact."""


def split_dir(uri: str, split: str) -> str:
  """The folder of one split's shards."""
  return files.join(uri, SPLIT_PREFIX + split)


def shard_prefix(uri: str, split: str) -> str:
  """The path prefix of one split's shards, for the TFRecord sink."""
  return files.join(split_dir(uri, split), SHARD_PREFIX)


def split_names_on_disk(uri: str) -> List[str]:
  """The splits that have a `Split-<name>` folder, sorted."""
  names = set()
  for path in files.glob(files.join(uri, SPLIT_PREFIX + '*')):
    name = path.rstrip('/').rsplit('/', 1)[-1]
    names.add(name[len(SPLIT_PREFIX):])
  return sorted(names)


def artifact_root(examples: Union[str, Sequence[str]]) -> str:
  """The artifact URI of a URI, or of file patterns under its `Split-*`.

  A TFX Trainer gets `fn_args.train_files` such as `['<uri>/Split-train/*']`;
  the label map and the report are at `<uri>`.

  Raises:
    ArtifactError: A pattern outside any `Split-*` folder, or patterns of
      several artifacts.
  """
  if isinstance(examples, str):
    return examples
  roots = set()
  for pattern in examples:
    parts = pattern.split('/')
    split_parts = [index for index, part in enumerate(parts)
                   if part.startswith(SPLIT_PREFIX)]
    if not split_parts:
      raise ArtifactError(
          f'Pattern {pattern!r} has no {SPLIT_PREFIX}* folder: cannot find '
          'its artifact')
    roots.add('/'.join(parts[:split_parts[-1]]))
  if len(roots) != 1:
    raise ArtifactError(
        f'Patterns from {len(roots)} artifacts: {sorted(roots)}')
  return roots.pop()


def read_report_dict(uri: str) -> Dict[str, Any]:
  """The artifact's ingest report as parsed JSON (keys kept as written).

  Raises:
    ArtifactError: No report, or a file that is not an ingest report.
  """
  path = files.join(uri, REPORT_FILE_NAME)
  if not files.exists(path):
    raise ArtifactError(
        f'No {REPORT_FILE_NAME} in {uri}: not an Examples artifact written by '
        'ImageExampleGen')
  try:
    values = json.loads(files.read_text(path))
  except (OSError, ValueError) as error:
    raise ArtifactError(
        f'{path}: unreadable ingest report ({error}); re-run ImageExampleGen'
    ) from error
  if not isinstance(values, dict) or 'examples' not in values:
    raise ArtifactError(
        f'{path}: not an ImageExampleGen ingest report (no "examples"); '
        're-run ImageExampleGen')
  return values


def read_report(uri: str) -> ingest_report.IngestReport:
  """The artifact's ingest report, with the full lists of skipped files,
  duplicate groups and near-duplicate groups.

  Raises:
    ArtifactError: As read_report_dict.
  """
  values = read_report_dict(uri)
  skipped_path = files.join(uri, SKIPPED_FILE_NAME)
  if values.get('skipped_file') and files.exists(skipped_path):
    values = dict(values, skipped=[
        json.loads(line)
        for line in files.read_text(skipped_path).splitlines() if line])
  for key, name in (('duplicates', DUPLICATES_FILE_NAME),
                    ('near_duplicates', NEAR_DUPLICATES_FILE_NAME)):
    path = files.join(uri, name)
    if values.get(f'{key}_file') and files.exists(path):
      values = dict(values, **{key: [
          json.loads(line) for line in files.read_lines(path) if line]})
  return ingest_report.IngestReport.from_dict(values)


def read_class_names(uri: str) -> List[str]:
  """The label vocabulary: `labels.txt`, else the report's. Empty if unlabeled.

  Raises:
    ArtifactError: Neither file is there.
  """
  labels_path = files.join(uri, LABELS_FILE_NAME)
  if files.exists(labels_path):
    return files.read_text(labels_path).splitlines()
  return list(read_report_dict(uri).get('class_names', []))


def write_artifact_files(uri: str, report: ingest_report.IngestReport,
                         lists_dir: Optional[str] = None) -> None:
  """Writes the report, the full skip list, the duplicate groups, the
  near-duplicate groups (when detection was on) and the label map at `uri`.

  The lists are copied from `lists_dir` when given (where
  `ingest_report.build_report` wrote them whole; the report then holds only
  their first entries), else written from the report. Either way a line at
  a time: joined into one text first, 7,971 groups of 20 files (those of
  the million-file benchmark) took 20 MB more."""
  files.write_text(files.join(uri, REPORT_FILE_NAME), report.to_json())
  lists = [(SKIPPED_FILE_NAME, report.skipped),
           (DUPLICATES_FILE_NAME, report.duplicates)]
  if report.near_duplicate_threshold is not None:
    lists.append((NEAR_DUPLICATES_FILE_NAME, report.near_duplicates))
  for name, entries in lists:
    write_list(uri, name, entries, lists_dir)
  if report.class_names:
    files.write_text(files.join(uri, LABELS_FILE_NAME),
                     ''.join(f'{name}\n' for name in report.class_names))


def write_list(uri: str, name: str, entries: Sequence[Dict[str, Any]],
               lists_dir: Optional[str] = None) -> str:
  """Writes one of the report's lists (SKIPPED_FILE_NAME, ...) as `name` at
  `uri`: the file `name` in `lists_dir` when given, else `entries`, a JSON
  line each. Returns the path written."""
  path = files.join(uri, name)
  files.write_lines(path, (
      files.read_lines(files.join(lists_dir, name)) if lists_dir else
      (json.dumps(entry, ensure_ascii=False) for entry in entries)))
  return path


def remove_artifact_files(uri: str) -> None:
  """Removes every split folder and file the engine writes at `uri`."""
  for split in split_names_on_disk(uri):
    files.remove(split_dir(uri, split))
  for name in (REPORT_FILE_NAME, SKIPPED_FILE_NAME, DUPLICATES_FILE_NAME,
               NEAR_DUPLICATES_FILE_NAME, LABELS_FILE_NAME):
    files.remove(files.join(uri, name))


def mlmd_properties(
    report: ingest_report.IngestReport
) -> Dict[str, Union[int, str]]:
  """The Examples artifact's MLMD custom properties: ints and strings."""
  properties: Dict[str, Union[int, str]] = dict(report.custom_properties())
  properties[MULTI_LABEL_PROPERTY] = int(report.multi_label)
  properties[CLASS_NAMES_PROPERTY] = json.dumps(list(report.class_names))
  return properties


def class_names_from_property(value: Optional[str]) -> Optional[Tuple[str, ...]]:
  """The vocabulary stored in CLASS_NAMES_PROPERTY, or None if unset."""
  return tuple(json.loads(value)) if value else None


def normalized_input_base(input_base: str) -> str:
  """How the report names the ingested folder."""
  return input_base if files.is_uri(input_base) else posixpath.normpath(
      input_base)
