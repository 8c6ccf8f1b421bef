"""The fixed cost of an ingest: run_ingest of a small folder, side by side.

    python -m benchmarks.small_ingest --code-dirs OLD NEW [--rounds 5]
        [--input-base testdata/images] [--workers 1]

On a few dozen images an ingest is almost all fixed cost: building the Beam
pipeline (pickling every DoFn, the runner API), the runner's set-up of every
stage, the launcher's plan and the report. Each round runs `run_ingest` once
from every code directory (a `git archive` copy of a commit, or the
repository itself), each in a fresh child process, in turn, so the
directories share the machine's noise. It prints each run's seconds (of
`run_ingest`, imports excluded) and, per directory, the median and the ratio
to the first directory's median.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional, Sequence

__all__ = ['main']

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs in the child, with the code directory first on sys.path.
_CHILD = """
import json, sys, tempfile, time
sys.path.insert(0, sys.argv[1])
from image_example_gen.beam import engine
workers = int(sys.argv[3])
args = ([] if workers == 1 else ['--direct_running_mode=multi_processing',
                                 f'--direct_num_workers={workers}'])
with tempfile.TemporaryDirectory() as output:
  start = time.perf_counter()
  engine.run_ingest(sys.argv[2], output, beam_pipeline_args=args)
  print(json.dumps({'seconds': time.perf_counter() - start}))
"""


def _run_once(code_dir: str, input_base: str, workers: int) -> float:
  environment = dict(os.environ, PYTHONWARNINGS='ignore')
  with tempfile.TemporaryDirectory() as work_dir:
    completed = subprocess.run(
        [sys.executable, '-c', _CHILD, code_dir, input_base, str(workers)],
        cwd=work_dir, env=environment, capture_output=True, text=True,
        check=False)
  if completed.returncode:
    raise RuntimeError(f'the ingest from {code_dir} failed:\n'
                       f'{completed.stderr[-2000:]}')
  return json.loads(completed.stdout.strip().splitlines()[-1])['seconds']


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      prog='python -m benchmarks.small_ingest',
      description='run_ingest of a small folder from several code copies, '
      'alternating.')
  parser.add_argument('--code-dirs', nargs='+', default=[_REPO_ROOT],
                      help='Repository copies to compare (default: this one).')
  parser.add_argument('--input-base',
                      default=os.path.join(_REPO_ROOT, 'testdata', 'images'))
  parser.add_argument('--rounds', type=int, default=5)
  parser.add_argument('--workers', type=int, default=1,
                      help='1: in-process (the default); more: the '
                      'multi-processing DirectRunner with that many workers.')
  return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = _parse_args(argv)
  code_dirs = [os.path.abspath(code_dir) for code_dir in args.code_dirs]
  input_base = os.path.abspath(args.input_base)
  seconds: Dict[str, List[float]] = {code_dir: [] for code_dir in code_dirs}
  for round_number in range(1, args.rounds + 1):
    for code_dir in code_dirs:
      took = _run_once(code_dir, input_base, args.workers)
      seconds[code_dir].append(took)
      print(f'round {round_number}: {code_dir}: {took:.2f} s', flush=True)
  first = statistics.median(seconds[code_dirs[0]])
  print(f'\nrun_ingest of {input_base}, workers={args.workers}, '
        f'{args.rounds} rounds:')
  for code_dir in code_dirs:
    median = statistics.median(seconds[code_dir])
    runs = ', '.join(f'{value:.2f}' for value in seconds[code_dir])
    print(f'  {code_dir}: median {median:.2f} s ({median / first:.2f}x), '
          f'runs {runs}')


if __name__ == '__main__':
  main()
