"""Runs of the ingest command and the sample pipeline, for the engine tests."""

import json
import os
import subprocess
import sys
import time
from typing import Dict, List

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
RUN_TIMEOUT_S = 1200
# The project venv's bin: image-example-gen beside the running python.
BIN = os.path.dirname(sys.executable)


def subprocess_env() -> Dict[str, str]:
  env = dict(os.environ, PYTHONWARNINGS='ignore')
  env.pop('PYTHONPATH', None)
  return env


def run_ingest(data_root: str, out: str, temp: str,
               beam_args: List[str]) -> subprocess.CompletedProcess:
  """`image-example-gen ingest` with staging under temp (--temp_location)."""
  os.makedirs(temp, exist_ok=True)
  command = [os.path.join(BIN, 'image-example-gen'), 'ingest', data_root,
             '--out', out, '--beam-pipeline-args', *beam_args,
             f'--temp_location={temp}']
  return _run(command, cwd=os.path.dirname(out))


def run_sample_pipeline(data_root: str, folder: str,
                        beam_args: List[str]) -> subprocess.CompletedProcess:
  """`python -m pipelines.image_pipeline` into folder."""
  command = [sys.executable, '-m', 'pipelines.image_pipeline', '--data-root',
             data_root, '--pipeline-root', os.path.join(folder, 'root'),
             '--metadata-path', os.path.join(folder, 'metadata.db')]
  if beam_args:
    command += ['--beam-pipeline-args', *beam_args]
  return _run(command, cwd=REPO)


def _run(command: List[str], cwd: str) -> subprocess.CompletedProcess:
  start = time.time()
  result = subprocess.run(command, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S, env=subprocess_env(),
                          cwd=cwd, check=False)
  result.seconds = time.time() - start
  assert result.returncode == 0, (
      f'{" ".join(command)} exited {result.returncode}:\n'
      f'{result.stderr[-4000:]}')
  return result


def read_json(path: str):
  with open(path) as file:
    return json.load(file)
