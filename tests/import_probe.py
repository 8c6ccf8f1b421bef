"""Runs a module as a command and tells which modules it imported."""

import subprocess
import sys
from typing import Mapping, Optional, Set, Tuple


def run_module(module: str, *args: str, cwd, timeout: float = 300,
               env: Optional[Mapping[str, str]] = None
               ) -> Tuple[subprocess.CompletedProcess, Set[str], list]:
  """(CompletedProcess, top-level modules loaded, stderr lines without the
  importtime ones) of `python -X importtime -m MODULE ARGS`."""
  result = subprocess.run(
      [sys.executable, '-X', 'importtime', '-m', module, *args],
      cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
  loaded = {line.rsplit('|', 1)[-1].strip().split('.')[0]
            for line in result.stderr.splitlines()
            if line.startswith('import time:')}
  stderr = [line for line in result.stderr.splitlines()
            if not line.startswith('import time:')]
  return result, loaded, stderr
