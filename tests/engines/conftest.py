"""Fixtures of the engine tests: real Flink and Spark clusters, once a session.

`cluster` starts an engine with clusters/cluster.py (what `make flink-up` /
`make spark-up` run) the first time a test asks for it, reads the Beam
pipeline arguments from its last line, and stops it (`down`) at the end of
the session, or when the tests move on to the other engine, so that only one
cluster runs at a time. A cluster someone started before the session is used
and left running.

If `up` exits with status 3 (an artifact the cluster needs is not served by
the registry this machine reaches) the engine's tests are skipped with its
message, unless ENGINE_TESTS_REQUIRED=1, which makes that a failure.

The DirectRunner reference runs (one ingest, one sample pipeline) are made
once a session too, on the same mixed folder.
"""

import os
import shutil
import subprocess
import sys
import time
from typing import List

import pytest

from engine_runs import REPO
from engine_runs import run_ingest
from engine_runs import run_sample_pipeline

CLUSTER_SCRIPT = os.path.join(REPO, 'clusters', 'cluster.py')
ENGINES = ('flink', 'spark')
UNAVAILABLE = 3  # cluster.py's status for "not served here".
UP_TIMEOUT_S = 1800  # A cold `up` installs the workers' venv.


def pytest_configure(config):
  config.addinivalue_line(
      'markers', 'engines: runs on local Flink and Spark clusters '
      '(clusters/cluster.py; minutes, Java)')


class Cluster:
  """A running engine: its name and the Beam arguments that run on it."""

  def __init__(self, engine: str, beam_args: List[str], up_seconds: float):
    self.engine = engine
    self.beam_args = beam_args
    self.up_seconds = up_seconds


def _cluster_command(*args: str) -> List[str]:
  return [sys.executable, CLUSTER_SCRIPT, *args]


@pytest.fixture(scope='session', params=ENGINES)
def cluster(request):
  """Cluster of one engine; the tests of each engine run together."""
  engine = request.param
  already_up = subprocess.run(
      _cluster_command('status', engine), capture_output=True, text=True,
      check=False).returncode == 0
  start = time.time()
  result = subprocess.run(
      _cluster_command('up', engine), capture_output=True, text=True,
      timeout=UP_TIMEOUT_S, check=False)
  seconds = time.time() - start
  if result.returncode == UNAVAILABLE:
    message = result.stderr.strip().splitlines()[-1]
    if os.environ.get('ENGINE_TESTS_REQUIRED') == '1':
      pytest.fail(message)
    pytest.skip(message)
  if result.returncode:
    pytest.fail(f'`cluster.py up {engine}` failed ({result.returncode}):\n'
                f'{result.stderr[-3000:]}')
  beam_args = result.stdout.strip().splitlines()[-1].split()
  assert beam_args[0] == '--runner=PortableRunner', result.stdout
  sys.stderr.write(f'\n[engines] {engine} up in {seconds:.0f} s: '
                   f'{" ".join(beam_args)}\n')
  yield Cluster(engine, beam_args, seconds)
  if not already_up:
    subprocess.run(_cluster_command('down', engine), capture_output=True,
                   timeout=120, check=False)


def _add_bad_files(root: str) -> None:
  """A truncated JPEG and a text file named .jpg, beside testdata's own."""
  with open(os.path.join(root, 'flower', 'dahlia_full.jpg'), 'rb') as file:
    jpeg = file.read()
  with open(os.path.join(root, 'flower', 'cut_short.jpg'), 'wb') as file:
    file.write(jpeg[:len(jpeg) // 3])
  with open(os.path.join(root, 'garden', 'words.jpg'), 'w') as file:
    file.write('not an image, whatever its name says\n')


@pytest.fixture(scope='session')
def mixed_folder(tmp_path_factory) -> str:
  """testdata/images (good files and bad ones) plus two more bad files."""
  root = str(tmp_path_factory.mktemp('engines') / 'mixed')
  shutil.copytree(os.path.join(REPO, 'testdata', 'images'), root)
  _add_bad_files(root)
  return root


@pytest.fixture(scope='session')
def direct_ingest(mixed_folder, tmp_path_factory):
  """The DirectRunner's ingest of the mixed folder: (out, temp) folders."""
  folder = tmp_path_factory.mktemp('direct-ingest')
  out, temp = str(folder / 'out'), str(folder / 'temp')
  run_ingest(mixed_folder, out, temp, ['--runner=DirectRunner'])
  return out, temp


@pytest.fixture(scope='session')
def direct_pipeline(mixed_folder, tmp_path_factory):
  """The DirectRunner's sample-pipeline run: its stdout."""
  folder = str(tmp_path_factory.mktemp('direct-pipeline'))
  return run_sample_pipeline(mixed_folder, folder, []).stdout
