"""The memory of building the ingest report, from an artifact's own lists.

    python -m benchmarks.report_profile \
        [--artifact bench_data/million-1000000-damaged/examples]

The launcher builds the report after the pipeline, from its output lines:
the skipped files, and the groups of identical and near-duplicate files
(`ingest_report.build_report`), then writes it and the lists into the
artifact (`artifact.write_artifact_files`). This replays that step on the
lists of an artifact an ingest wrote (by default the damaged million-file
benchmark's, `python -m benchmarks.million_damaged`: 10,000 skipped files,
7,971 near-duplicate groups of 20 files), two ways, each in a fresh child
process that samples its RSS every 3 ms:

  - whole: every skipped file and group parsed and kept in the report (no
    lists_dir);
  - streamed: the lists sorted on disk, counted as they pass, only their
    first entries kept (a lists_dir, as the engine runs it).

Each way runs without the skipped files, then with them. It prints the
peak RSS above the child's RSS before the step, in MB of 2^20 bytes (as
every benchmark here). At the damaged million: whole +25.4 MB without the
skipped files and +32.4 MB with them, streamed +5.5 and +7.3 MB.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import Dict, Optional, Sequence

from benchmarks import measure

_DEFAULT_ARTIFACT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'bench_data',
    'million-1000000-damaged', 'examples')


def build_once(artifact_dir: str, streamed: bool,
               with_skipped: bool) -> Dict[str, float]:
  """Builds and writes the report from `artifact_dir`'s lists in this
  process; returns its RSS before and its peak (MB)."""
  # pylint: disable=g-import-not-at-top
  from image_example_gen.core import artifact
  from image_example_gen.core import files
  from image_example_gen.core import ingest_report
  report_values = artifact.read_report_dict(artifact_dir)
  counts = [json.dumps([[split, name], count])
            for split, by_class in report_values['examples'].items()
            for name, count in by_class.items()]

  def lines(name):
    path = os.path.join(artifact_dir, name)
    return files.read_lines(path) if os.path.exists(path) else iter(())

  with measure.PeakRss() as rss, tempfile.TemporaryDirectory() as scratch:
    lists_dir = os.path.join(scratch, 'lists') if streamed else None
    if lists_dir:
      os.makedirs(lists_dir)
    report = ingest_report.build_report(
        report_values['input_base'], report_values['class_names'],
        list(report_values['examples']),
        lines(artifact.SKIPPED_FILE_NAME) if with_skipped else (), counts,
        lines(artifact.DUPLICATES_FILE_NAME),
        near_duplicate_lines=lines(artifact.NEAR_DUPLICATES_FILE_NAME),
        near_duplicate_threshold=report_values.get('near_duplicate_threshold'),
        lists_dir=lists_dir)
    report.summary_lines()
    artifact.write_artifact_files(os.path.join(scratch, 'out'), report,
                                  lists_dir)
  return {'rss_before_mb': rss.before, 'rss_peak_mb': rss.peak,
          'groups': report.near_duplicate_groups,
          'groups_kept': len(report.near_duplicates),
          'skipped': len(report.skipped)}


def main(argv: Optional[Sequence[str]] = None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--artifact', default=_DEFAULT_ARTIFACT,
                      help='An Examples artifact folder (default %(default)s).')
  parser.add_argument('--child', nargs=2, metavar=('WAY', 'SKIPPED'),
                      help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.child:
    print(json.dumps(build_once(args.artifact, args.child[0] == 'streamed',
                                args.child[1] == 'with')))
    return
  for skipped in ('without', 'with'):
    for way in ('whole', 'streamed'):
      result = subprocess.run(
          [sys.executable, '-m', 'benchmarks.report_profile', '--artifact',
           args.artifact, '--child', way, skipped],
          check=True, capture_output=True, text=True)
      values = json.loads(result.stdout.strip().splitlines()[-1])
      print(f'{way:8s} {skipped} skipped files ({values["skipped"]:,} '
            'kept): '
            f'{values["groups"]:,} near-duplicate groups, '
            f'{values["groups_kept"]:,} kept; RSS before '
            f'{values["rss_before_mb"]:.1f} MB, peak '
            f'+{values["rss_peak_mb"] - values["rss_before_mb"]:.1f} MB',
            flush=True)


if __name__ == '__main__':
  main()
