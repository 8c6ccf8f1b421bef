"""Ingests a damaged dataset and checks its skip list against damaged.csv.

    python -m benchmarks.million_damaged \
        --data-dir bench_data/million-<N>-damaged [--output-dir DIR] \
        [--check-only] [--result OUT.json]

The data folder is a damaged variant (python -m benchmarks.million_dataset
--files N --damaged 0.01): images/, damaged.csv (every damaged file, relative
to images/, with the reason the ingest reports for it) and DAMAGED.json.
This runs `image_example_gen.run_ingest` in this process, with the default
options, from images/ into DIR (default <data-dir>/examples; the files an
earlier ingest wrote there are removed first), then checks the artifact:

  - skipped.jsonl, the complete skip list, lists every damaged file exactly
    once, with its expected reason, and no other file;
  - the report's total_skipped and skipped_per_reason equal damaged.csv's
    counts, and skipped.jsonl has total_skipped lines;
  - the report's own list (`skipped`) stays bounded: per reason, the first
    REPORT_EXAMPLES_PER_REASON entries of skipped.jsonl, no more;
  - every other file became an Example: total_examples = files - damaged.

It prints a summary (files, damaged, skipped per reason, mismatches, the
ingest's seconds, the sizes of ingest_report.json and skipped.jsonl) and
exits 1 on any mismatch, naming the first ones. --check-only skips the
ingest and checks the artifact already in DIR (a run made elsewhere).
--result writes the summary as JSON.
"""

import argparse
import collections
import dataclasses
import json
import logging
import os
import resource
import sys
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence

from benchmarks import million_dataset
from image_example_gen.core import artifact
from image_example_gen.core import files
from image_example_gen.core import ingest_report

__all__ = ['Check', 'check_artifact', 'default_output_dir', 'main',
           'run_ingest']

_SHOWN_MISMATCHES = 20


@dataclasses.dataclass
class Check:
  """What check_artifact found.

  Attributes:
    files: Files of the dataset.
    damaged: Files damaged.csv lists.
    expected_per_reason: damaged.csv's files per reason.
    skipped: Lines of skipped.jsonl.
    skipped_per_reason: The report's skipped_per_reason.
    report_examples_per_reason: Entries per reason in the report's own list.
    total_examples: The report's total_examples.
    report_bytes: Size of ingest_report.json.
    report_list_bytes: Size of its list of skipped files (json.dumps).
    skipped_file_bytes: Size of skipped.jsonl.
    summary_lines: Lines of the report's summary (what the ingest logs).
    mismatches: One line per difference from what damaged.csv expects.
  """
  files: int
  damaged: int
  expected_per_reason: Dict[str, int]
  skipped: int = 0
  skipped_per_reason: Dict[str, int] = dataclasses.field(default_factory=dict)
  report_examples_per_reason: Dict[str, int] = dataclasses.field(
      default_factory=dict)
  total_examples: int = 0
  report_bytes: int = 0
  report_list_bytes: int = 0
  skipped_file_bytes: int = 0
  summary_lines: int = 0
  mismatches: List[str] = dataclasses.field(default_factory=list)

  @property
  def passed(self) -> bool:
    return not self.mismatches


def default_output_dir(data_dir: str) -> str:
  return os.path.join(data_dir, 'examples')


def run_ingest(data_dir: str, output_dir: str) -> float:
  """Ingests data_dir's images into output_dir, default options; returns
  the seconds run_ingest took."""
  import image_example_gen  # pylint: disable=g-import-not-at-top
  if os.path.isdir(output_dir):
    artifact.remove_artifact_files(output_dir)
  os.makedirs(output_dir, exist_ok=True)
  start = time.perf_counter()
  image_example_gen.run_ingest(million_dataset.images_dir(data_dir),
                               output_dir)
  return time.perf_counter() - start


def check_artifact(artifact_dir: str, expected: Mapping[str, str],
                   num_files: int) -> Check:
  """Compares the artifact's skip list and report with `expected`.

  Args:
    artifact_dir: The Examples artifact of an ingest of the damaged images.
    expected: {relative_path: reason} of every damaged file (damaged.csv).
    num_files: Files the ingested folder holds.
  """
  check = Check(num_files, len(expected),
                dict(collections.Counter(expected.values())))
  report = artifact.read_report_dict(artifact_dir)
  skipped_data = files.read_bytes(
      files.join(artifact_dir, artifact.SKIPPED_FILE_NAME))
  entries = [json.loads(line) for line in skipped_data.splitlines() if line]
  check.skipped = len(entries)
  check.skipped_per_reason = dict(report['skipped_per_reason'])
  check.total_examples = report['total_examples']
  check.report_bytes = len(files.read_bytes(
      files.join(artifact_dir, artifact.REPORT_FILE_NAME)))
  check.report_list_bytes = len(json.dumps(report['skipped']))
  check.skipped_file_bytes = len(skipped_data)
  check.report_examples_per_reason = dict(collections.Counter(
      entry['reason'] for entry in report['skipped']))
  check.summary_lines = len(
      artifact.read_report(artifact_dir).summary_lines())
  check.mismatches = (
      _skip_list_mismatches(entries, expected) +
      _count_mismatches(report, check) +
      _report_list_mismatches(report['skipped'], entries))
  return check


def _skip_list_mismatches(entries: Sequence[Dict[str, Any]],
                          expected: Mapping[str, str]) -> List[str]:
  """Each damaged file listed once with its reason; no other file."""
  listed = collections.defaultdict(list)
  for entry in entries:
    listed[entry['relative_path']].append(entry)
  mismatches = []
  for path, reason in expected.items():
    found = listed.get(path, [])
    if not found:
      mismatches.append(f'not skipped: {path} (expected {reason})')
    elif len(found) > 1:
      mismatches.append(f'listed {len(found)} times: {path}')
    elif found[0]['reason'] != reason:
      mismatches.append(f'wrong reason: {path}: {found[0]["reason"]} '
                        f'({found[0]["detail"]}), expected {reason}')
  for path, found in listed.items():
    if path not in expected:
      mismatches.append(f'skipped but not damaged: {path}: '
                        f'{found[0]["reason"]} ({found[0]["detail"]})')
  return mismatches


def _count_mismatches(report: Mapping[str, Any], check: Check) -> List[str]:
  """The report's counts against damaged.csv's and skipped.jsonl's."""
  mismatches = []
  if check.skipped_per_reason != check.expected_per_reason:
    mismatches.append(
        f'report skipped_per_reason {check.skipped_per_reason}, damaged.csv '
        f'{check.expected_per_reason}')
  if report['total_skipped'] != check.damaged:
    mismatches.append(f'report total_skipped {report["total_skipped"]}, '
                      f'damaged.csv {check.damaged}')
  if report['total_skipped'] != check.skipped:
    mismatches.append(f'report total_skipped {report["total_skipped"]}, '
                      f'{artifact.SKIPPED_FILE_NAME} {check.skipped} lines')
  if report.get('skipped_file') != artifact.SKIPPED_FILE_NAME:
    mismatches.append(f'report skipped_file {report.get("skipped_file")!r}')
  if check.total_examples != check.files - check.damaged:
    mismatches.append(f'report total_examples {check.total_examples}, '
                      f'expected {check.files} - {check.damaged}')
  return mismatches


def _report_list_mismatches(shown: Sequence[Dict[str, Any]],
                            entries: Sequence[Dict[str, Any]]) -> List[str]:
  """The report's list: the first REPORT_EXAMPLES_PER_REASON entries of
  each reason in skipped.jsonl (which is sorted by path), no more."""
  limit = ingest_report.REPORT_EXAMPLES_PER_REASON
  first = collections.defaultdict(list)
  for entry in entries:
    if len(first[entry['reason']]) < limit:
      first[entry['reason']].append(entry)
  shown_by_reason = collections.defaultdict(list)
  for entry in shown:
    shown_by_reason[entry['reason']].append(entry)
  mismatches = []
  for reason in sorted(set(first) | set(shown_by_reason)):
    if shown_by_reason[reason] != first[reason]:
      mismatches.append(
          f'report lists {len(shown_by_reason[reason])} {reason} files, not '
          f'the first {len(first[reason])} of {artifact.SKIPPED_FILE_NAME}')
  return mismatches


def summary(check: Check, ingest_seconds: Optional[float]) -> Dict[str, Any]:
  """The figures main prints and --result writes."""
  return {
      'files': check.files, 'damaged': check.damaged,
      'expected_per_reason': check.expected_per_reason,
      'skipped': check.skipped, 'skipped_per_reason': check.skipped_per_reason,
      'report_examples_per_reason': check.report_examples_per_reason,
      'total_examples': check.total_examples,
      'mismatches': len(check.mismatches),
      'ingest_seconds': ingest_seconds,
      'peak_rss_mb': resource.getrusage(
          resource.RUSAGE_SELF).ru_maxrss / 1024,
      'report_bytes': check.report_bytes,
      'report_list_bytes': check.report_list_bytes,
      'skipped_file_bytes': check.skipped_file_bytes,
      'summary_lines': check.summary_lines,
      'passed': check.passed,
  }


def _print_summary(values: Mapping[str, Any], check: Check) -> None:
  seconds = values['ingest_seconds']
  ingest = ('not run (--check-only)' if seconds is None else
            f'{seconds:.1f} s')
  print(f'files {values["files"]}, damaged {values["damaged"]} '
        f'{values["expected_per_reason"]}, skipped {values["skipped"]} '
        f'{values["skipped_per_reason"]}, examples {values["total_examples"]}')
  print(f'ingest {ingest}, peak RSS {values["peak_rss_mb"]:.0f} MB')
  print(f'{artifact.REPORT_FILE_NAME} {values["report_bytes"]} bytes '
        f'(its skipped list {values["report_list_bytes"]} bytes: '
        f'{values["report_examples_per_reason"]}), '
        f'{artifact.SKIPPED_FILE_NAME} {values["skipped_file_bytes"]} bytes, '
        f'summary {values["summary_lines"]} lines')
  print(f'mismatches {len(check.mismatches)}: '
        f'{"PASS" if check.passed else "FAIL"}')
  for line in check.mismatches[:_SHOWN_MISMATCHES]:
    print(f'  {line}')
  if len(check.mismatches) > _SHOWN_MISMATCHES:
    print(f'  ... and {len(check.mismatches) - _SHOWN_MISMATCHES} more')


def _configure_logging() -> None:
  """The ingest's own INFO lines (progress), Beam's warnings only."""
  logging.basicConfig(level=logging.WARNING,
                      format='%(asctime)s %(levelname)s %(name)s: %(message)s')
  logging.getLogger('image_example_gen').setLevel(logging.INFO)


def main(argv: Optional[Sequence[str]] = None) -> int:
  parser = argparse.ArgumentParser(prog='python -m benchmarks.million_damaged')
  parser.add_argument('--data-dir', required=True,
                      help='A damaged variant: bench_data/million-<N>-damaged.')
  parser.add_argument('--output-dir', default=None,
                      help='The artifact folder; default <data-dir>/examples.')
  parser.add_argument('--check-only', action='store_true',
                      help='Check the artifact in --output-dir; no ingest.')
  parser.add_argument('--result', default=None,
                      help='Also write the summary to this JSON file.')
  args = parser.parse_args(argv)
  marker = million_dataset.read_damaged_marker(args.data_dir)
  if marker is None:
    parser.error(f'{args.data_dir} is not a complete damaged variant (make '
                 'one with python -m benchmarks.million_dataset --damaged)')
  output_dir = args.output_dir or default_output_dir(args.data_dir)
  ingest_seconds = None
  if not args.check_only:
    _configure_logging()
    print(f'Ingesting {million_dataset.images_dir(args.data_dir)} into '
          f'{output_dir} ...', flush=True)
    ingest_seconds = run_ingest(args.data_dir, output_dir)
  check = check_artifact(output_dir,
                         million_dataset.read_damaged_list(args.data_dir),
                         int(marker['files']))
  values = summary(check, ingest_seconds)
  _print_summary(values, check)
  if args.result:
    with open(args.result, 'w', encoding='utf-8') as file:
      json.dump(dict(values, data_dir=os.path.abspath(args.data_dir),
                     output_dir=os.path.abspath(output_dir),
                     first_mismatches=check.mismatches[:_SHOWN_MISMATCHES]),
                file, indent=2)
  return 0 if check.passed else 1


if __name__ == '__main__':
  sys.exit(main())
