"""Where one ingest's wall clock goes, stage by stage.

    python -m benchmarks.stage_timeline --input-base FOLDER [--workers 2]

Runs `engine.run_ingest` once in this process (imports not counted) and
prints when each phase began and how long it took:
  plan            the launcher lists the files, labels them and writes the
                  manifest, until its 'Found N files' log line
  building        the Beam pipeline is built and handed to the runner, until
                  the runner's first stage
  each stage      every stage (a fused group of transforms) the runner ran,
                  named by its first transform, until the next one began;
                  the first includes starting the workers, the last the
                  pipeline's end (the workers stopping) and the ingest
                  report, until the engine's 'Ingested N images' log line
  artifact        writing the report and the label map into the artifact

The stages come from the FnApiRunner's debug log of each bundle it runs
(`apache_beam.runners.portability.fn_api_runner.fn_runner.run_bundle`); a
stage that ran in several bundles appears once per bundle. Stages under
--min-seconds are summed into one line.
"""

import argparse
import logging
import re
import tempfile
import time
from typing import List, Optional, Sequence, Tuple

from image_example_gen.beam import engine

__all__ = ['main']

_BUNDLE_LOGGER = (
    'apache_beam.runners.portability.fn_api_runner.fn_runner.run_bundle')
_BUNDLE_PREFIX = 'Running bundle for stage '
_PLANNED = 'planned'
_REPORTED = 'reported'


class _Events(logging.Handler):
  """Records (seconds since `start`, what) for the log lines that mark a
  phase: the plan's end, the start of every bundle, the report's end."""

  def __init__(self, start: float):
    super().__init__(level=logging.DEBUG)
    self._start = start
    self.events: List[Tuple[float, str]] = []

  def emit(self, record: logging.LogRecord) -> None:
    message = record.getMessage()
    now = time.perf_counter() - self._start
    if message.startswith(_BUNDLE_PREFIX):
      self.events.append((now, _stage_name(message)))
    elif record.name == 'image_example_gen.core.plan' and message.startswith(
        'Found '):
      self.events.append((now, _PLANNED))
    elif record.name == 'image_example_gen.beam.engine' and message.startswith(
        'Ingested '):
      self.events.append((now, _REPORTED))


def _stage_name(message: str) -> str:
  """The first transform of a fused stage: 'EncodeImages/ReadAndEncode'."""
  first_line = message[len(_BUNDLE_PREFIX):].split('\n', 1)[0]
  applied = re.search(r'ref_AppliedPTransform_(.+?)_\d+\)', first_line)
  if applied:
    return applied.group(1).replace('-', '/').rstrip('/')
  read = re.search(r'([^()+]+)/Read', first_line)
  return read.group(1) if read else first_line[:80]


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(prog='python -m benchmarks.stage_timeline')
  parser.add_argument('--input-base', required=True)
  parser.add_argument('--workers', type=int, default=2,
                      help='1: in-process; more: the multi-processing '
                      'DirectRunner with that many workers (default 2).')
  parser.add_argument('--min-seconds', type=float, default=0.1)
  return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = _parse_args(argv)
  beam_args = ([] if args.workers == 1 else [
      '--direct_running_mode=multi_processing',
      f'--direct_num_workers={args.workers}'])
  start = time.perf_counter()
  events = _Events(start)
  logging.getLogger().addHandler(events)
  logging.getLogger().setLevel(logging.INFO)
  bundles = logging.getLogger(_BUNDLE_LOGGER)
  bundles.setLevel(logging.DEBUG)
  bundles.propagate = False
  bundles.addHandler(events)
  with tempfile.TemporaryDirectory() as output:
    engine.run_ingest(args.input_base, output, beam_pipeline_args=beam_args)
  total = time.perf_counter() - start
  rows = _rows(events.events, total)
  print(f'run_ingest of {args.input_base}, workers={args.workers}: '
        f'{total:.2f} s\n')
  print('| began s | seconds | phase or stage |\n|---|---|---|')
  small = small_count = 0
  for began, seconds, name, is_stage in rows:
    if is_stage and seconds < args.min_seconds:
      small += seconds
      small_count += 1
      continue
    print(f'| {began:.2f} | {seconds:.2f} | {name} |')
  print(f'| | {small:.2f} | {small_count} other stages, under '
        f'{args.min_seconds} s each |')


def _rows(events: List[Tuple[float, str]], total: float
          ) -> List[Tuple[float, float, str, bool]]:
  """(began, seconds, name, is a stage) from the events, each lasting until
  the next one."""
  rows = []
  bundles = [index for index, (_, name) in enumerate(events)
             if name not in (_PLANNED, _REPORTED)]
  previous = 0.0
  for index, (when, name) in enumerate(events):
    if name == _PLANNED:
      rows.append((0.0, when, 'plan: listing, labels, manifest', False))
      previous = when
      continue
    if name == _REPORTED:
      continue
    if bundles and index == bundles[0]:
      rows.append((previous, when - previous,
                   'building the pipeline, the runner\'s set-up', False))
    ended = events[index + 1][0] if index + 1 < len(events) else total
    if index == bundles[0]:
      name += ' (with the runner starting its workers)'
    if index == bundles[-1]:
      name += (' (with the pipeline\'s end: the workers stopping, and the '
               'report)')
    rows.append((when, ended - when, name, index not in (bundles[0],
                                                          bundles[-1])))
  reported = [when for when, name in events if name == _REPORTED]
  if reported:
    rows.append((reported[-1], total - reported[-1],
                 "the artifact's files", False))
  return rows


if __name__ == '__main__':
  main()
