"""Finds an ImageExampleGen Examples artifact and what it holds on disk.

An artifact ImageExampleGen wrote is a folder with `ingest_report.json` and
one `Split-<name>/` folder of TFRecord shards per output split. In a TFX
pipeline root the artifacts are at `<root>/<component id>/examples/<n>/`,
`<n>` being the execution id (the component id is `ImageExampleGen` unless
`.with_id()` renamed it).

Local folders only: a `gs://` (or other URI) artifact must be copied first.
The artifact's format is core.artifact's; this module only finds it.
"""

import glob
import os
from typing import Any, Dict, List

from image_example_gen.core import artifact
from image_example_gen.core import ingest_report
from image_example_gen.inspection.errors import InspectionError

__all__ = ['find_examples', 'read_full_report', 'read_report', 'split_names',
           'split_shards']

_REPORT = artifact.REPORT_FILE_NAME


def find_examples(path: str) -> str:
  """Returns the Examples artifact folder that `path` names.

  Args:
    path: An Examples artifact folder (it holds `ingest_report.json`), or a
      TFX pipeline root, for which the newest ImageExampleGen artifact is
      taken: the highest execution id `<n>` of any
      `<component id>/examples/<n>/` holding `ingest_report.json` (a folder
      without it, from a failed or running execution, is passed over). The
      `<component id>/examples` folder itself works the same way.

  Raises:
    InspectionError: `path` is missing, not a folder, a URI, or a folder
      ImageExampleGen did not write (nor a pipeline root holding one).
  """
  if '://' in path:
    raise InspectionError(
        f'{path}: only local folders can be inspected; copy the artifact to '
        'a local folder first (e.g. gsutil -m cp -r)')
  if not os.path.isdir(path):
    raise InspectionError(
        f'{path}: no such folder; pass an Examples artifact folder written by '
        'ImageExampleGen or a TFX pipeline root')
  if os.path.isfile(os.path.join(path, _REPORT)):
    return path
  newest = None
  root = glob.escape(path)
  for report in (glob.glob(os.path.join(root, '*', 'examples', '*', _REPORT)) +
                 glob.glob(os.path.join(root, '*', _REPORT))):
    folder = os.path.dirname(report)
    execution = os.path.basename(folder)
    if execution.isdigit() and (newest is None or int(execution) > newest[0]):
      newest = (int(execution), folder)
  if newest is None:
    raise InspectionError(
        f'{path}: not written by ImageExampleGen (no {_REPORT}) and not a '
        'pipeline root holding ImageExampleGen/examples/<n>/; pass the '
        'Examples artifact folder or the pipeline root')
  return newest[1]


def read_report(examples_dir: str) -> Dict[str, Any]:
  """The artifact's ingest report as a dict (keys kept as written)."""
  try:
    return artifact.read_report_dict(examples_dir)
  except artifact.ArtifactError as error:
    raise InspectionError(str(error)) from error


def read_full_report(examples_dir: str) -> ingest_report.IngestReport:
  """The artifact's ingest report with every skipped file and every
  near-duplicate group (the JSON lists only the first of each)."""
  try:
    return artifact.read_report(examples_dir)
  except artifact.ArtifactError as error:
    raise InspectionError(str(error)) from error
  except (ValueError, KeyError, TypeError) as error:  # a damaged JSON line
    raise InspectionError(
        f'{examples_dir}: unreadable ingest report files ({error}); re-run '
        'ImageExampleGen') from error


def split_names(examples_dir: str, report: Dict[str, Any]) -> List[str]:
  """The splits with a `Split-<name>` folder: the report's order, then others."""
  on_disk = artifact.split_names_on_disk(examples_dir)
  in_report = [name for name in report['examples'] if name in on_disk]
  return in_report + [name for name in on_disk if name not in in_report]


def split_shards(examples_dir: str, split: str) -> List[str]:
  """The TFRecord shards of one split, sorted (hidden files left out)."""
  folder = artifact.split_dir(examples_dir, split)
  return sorted(
      os.path.join(folder, name) for name in os.listdir(folder)
      if not name.startswith('.') and
      os.path.isfile(os.path.join(folder, name)))
