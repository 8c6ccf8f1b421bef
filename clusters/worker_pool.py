"""Beam's Python SDK worker pool, safe to share between several runner JVMs.

    python worker_pool.py --service_port=PORT

It is `apache_beam.runners.worker.worker_pool_main` (the same servicer, the
same `python -c SdkHarness(...)` worker processes, started with the `python`
first on PATH) with one change: StopWorker does not kill by worker id.

Why: every Flink TaskManager and every Spark executor numbers its SDK workers
from "1-1" in its own JVM, and a StopWorkerRequest carries only that id. When
two of them share one pool (one machine, one `--environment_config`), Beam's
pool keeps one process per id, and the first TaskManager to release its
environment kills the OTHER one's freshly started worker, which then waits
forever ("Still waiting for startup of environment ... for worker id 1-1").
On a real cluster each TaskManager has a pool of its own (a sidecar), so ids
never meet. Here the workers end by themselves: an SDK harness exits when the
runner closes its control stream, which the runner does before it sends
StopWorker. `make <engine>-down` stops the pool's whole process group.

The workers' output goes to the pool's own log (Beam's pool pipes it and
never reads the pipe).
"""

import argparse
import logging
import subprocess
import sys
import threading
import time

from apache_beam.portability.api import beam_fn_api_pb2
from apache_beam.runners.worker import worker_pool_main

_LOGGER = logging.getLogger('worker_pool')


class SharedWorkerPoolServicer(
    worker_pool_main.BeamFnExternalWorkerPoolServicer):
  """Starts one SDK worker process per request; never kills one by id."""

  def __init__(self, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self._lock = threading.Lock()
    self._started = []

  def StartWorker(self, start_worker_request, unused_context):
    try:
      command = [
          'python', '-c',
          'from apache_beam.runners.worker.sdk_worker import SdkHarness; '
          f'SdkHarness("{start_worker_request.control_endpoint.url}",'
          f'worker_id="{start_worker_request.worker_id}",'
          f'state_cache_size={self._state_cache_size},'
          f'data_buffer_time_limit_ms={self._data_buffer_time_limit_ms}'
          ').run()'
      ]
      process = subprocess.Popen(command, close_fds=True)
      with self._lock:
        self._started = [p for p in self._started if p.poll() is None]
        self._started.append(process)
      _LOGGER.info('started SDK worker %s (pid %d) for %s',
                   start_worker_request.worker_id, process.pid,
                   start_worker_request.control_endpoint.url)
      return beam_fn_api_pb2.StartWorkerResponse()
    except Exception as error:  # pylint: disable=broad-except
      return beam_fn_api_pb2.StartWorkerResponse(error=repr(error))

  def StopWorker(self, stop_worker_request, unused_context):
    _LOGGER.info('StopWorker %s: left to exit when its runner closes its '
                 'control stream', stop_worker_request.worker_id)
    with self._lock:
      self._started = [p for p in self._started if p.poll() is None]
    return beam_fn_api_pb2.StopWorkerResponse()


def main(argv=None) -> int:
  parser = argparse.ArgumentParser()
  parser.add_argument('--service_port', type=int, required=True)
  args, _ = parser.parse_known_args(argv)
  logging.basicConfig(level=logging.INFO,
                      format='%(asctime)s %(levelname)s %(name)s %(message)s')
  address, server = SharedWorkerPoolServicer.start(
      use_process=True, port=args.service_port)
  _LOGGER.info('worker pool listening at %s', address)
  try:
    while True:
      time.sleep(3600)
  except KeyboardInterrupt:
    server.stop(0)
  return 0


if __name__ == '__main__':
  sys.exit(main())
