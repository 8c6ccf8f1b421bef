"""Measuring a child process tree, and reading back what a way wrote."""

import dataclasses
import glob
import json
import os
import resource
import signal
import subprocess
import threading
import time
import zlib
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import psutil

from image_example_gen.core import artifact

__all__ = [
    'PeakRss', 'RssSample', 'own_rss_mb', 'SampledRun', 'code_version', 'code_version_of',
    'count_records', 'drop_page_cache', 'gzip_seconds', 'tree_cpu_seconds',
    'tree_cpu_times',
    'warm_page_cache',
    'wait_for_descendants',
    'peak_between', 'read_all', 'run_sampled', 'split_files'
]

_SAMPLE_INTERVAL_S = 0.05
_READ_CHUNK = 1 << 20


def own_rss_mb() -> float:
  """This process's resident memory in MB (2^20 bytes, as the benchmarks'
  tables), from /proc/self/statm: cheap enough to sample every few ms."""
  with open('/proc/self/statm', encoding='ascii') as file:
    return int(file.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


class PeakRss:
  """This process's RSS around a block, sampled on a thread every
  `interval_s`: `before` (on entry) and `peak` (the largest sample, MB)."""

  def __init__(self, interval_s: float = 0.003):
    self._interval_s = interval_s
    self._done = threading.Event()
    self._sampler = threading.Thread(target=self._sample, daemon=True)
    self.before = self.peak = 0.0

  def _sample(self) -> None:
    while not self._done.is_set():
      self.peak = max(self.peak, own_rss_mb())
      time.sleep(self._interval_s)

  def __enter__(self) -> 'PeakRss':
    self.before = self.peak = own_rss_mb()
    self._sampler.start()
    return self

  def __exit__(self, *exc_info) -> None:
    self._done.set()
    self._sampler.join()


@dataclasses.dataclass(frozen=True)
class SampledRun:
  returncode: int
  wall_seconds: float
  peak_rss_bytes: int  # Of the whole tree: the largest sum over one sample.
  peak_process_rss_bytes: int  # Of the largest single process.


@dataclasses.dataclass(frozen=True)
class RssSample:
  time: float  # time.time() when the sample was taken (seconds since epoch).
  tree_rss_bytes: int  # Sum over the child and all its descendants.
  largest_rss_bytes: int  # The largest single process of the tree.


def _tree_rss(process: psutil.Process) -> List[int]:
  """RSS of a process and of each of its descendants (gone ones skipped)."""
  sizes = []
  for member in [process] + process.children(recursive=True):
    try:
      sizes.append(member.memory_info().rss)
    except psutil.NoSuchProcess:
      pass
  return sizes


def run_sampled(command: Sequence[str], log_path: str, cwd: str,
                env: Mapping[str, str], *,
                samples: Optional[List[RssSample]] = None) -> SampledRun:
  """Runs command, output to log_path, sampling its process tree's RSS.

  The peak is the largest sum, over one sample, of the RSS of the child and of
  all its descendants (Beam's worker processes included), sampled every 50 ms.
  If `samples` is given, every sample is appended to it (see peak_between).
  """
  with open(log_path, 'wb') as log:
    start = time.perf_counter()
    # A session of its own, so that an interrupted benchmark can end the
    # child's whole process group, Beam workers included.
    child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                             cwd=cwd, env=dict(env), start_new_session=True)
    try:
      peak, peak_process = _sample_until_exit(child, samples)
    except BaseException:
      os.killpg(child.pid, signal.SIGKILL)
      raise
    wall_seconds = time.perf_counter() - start
  return SampledRun(child.returncode, wall_seconds, peak, peak_process)


def _sample_until_exit(
    child: subprocess.Popen,
    samples: Optional[List[RssSample]] = None) -> Tuple[int, int]:
  """Samples the child's tree RSS until it exits; returns the peaks of the
  tree's sum and of its largest process. Appends each sample to `samples`."""
  process = psutil.Process(child.pid)
  peak = peak_process = 0
  while child.poll() is None:
    try:
      sample_time = time.time()
      sizes = _tree_rss(process)
      peak = max(peak, sum(sizes))
      peak_process = max([peak_process] + sizes)
      if samples is not None and sizes:
        samples.append(RssSample(sample_time, sum(sizes), max(sizes)))
    except psutil.NoSuchProcess:
      pass
    time.sleep(_SAMPLE_INTERVAL_S)
  return peak, peak_process


def peak_between(samples: Sequence[RssSample], start: float,
                 end: float) -> Optional[RssSample]:
  """The sample of largest tree RSS taken in [start, end] (time.time()
  seconds), or None if none was taken then."""
  inside = [sample for sample in samples if start <= sample.time <= end]
  return max(inside, key=lambda sample: sample.tree_rss_bytes, default=None)


def tree_cpu_seconds(include_live: bool = False) -> float:
  """User+system CPU of this process and of its descendants reaped so far;
  with include_live, of its live descendants too."""
  return sum(tree_cpu_times(include_live))


def tree_cpu_times(include_live: bool = False) -> Tuple[float, float]:
  """(user, system) CPU seconds, as tree_cpu_seconds counts them. System
  time is the kernel's work for the process: opening and reading files,
  writing, page faults."""
  user = system = 0.0
  for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
    usage = resource.getrusage(who)
    user += usage.ru_utime
    system += usage.ru_stime
  if include_live:
    for child in psutil.Process().children(recursive=True):
      try:
        times = child.cpu_times()
      except psutil.Error:
        continue
      user += times.user + times.children_user
      system += times.system + times.children_system
  return user, system


def wait_for_descendants(timeout_s: float = 60.0) -> None:
  """Waits until the Beam worker processes have exited and been reaped, so
  that tree_cpu_seconds counts them."""
  deadline = time.monotonic() + timeout_s
  while psutil.Process().children() and time.monotonic() < deadline:
    time.sleep(0.05)


def code_version_of(repo_root: str, code_dir: str) -> str:
  """code_version of the package and pipelines when the children run from
  repo_root itself; else names the copy they run from (--code-dir)."""
  if os.path.abspath(code_dir) == repo_root:
    return code_version(repo_root, ['image_example_gen', 'pipelines'])
  return f'the copy in {os.path.abspath(code_dir)}'


def code_version(repo_root: str, folders: Sequence[str]) -> str:
  """HEAD's commit, '-dirty' when any of folders has uncommitted changes."""
  def git(*args: str) -> str:
    return subprocess.run(['git', '-C', repo_root, *args], check=True,
                          capture_output=True, text=True).stdout.strip()
  dirty = git('status', '--porcelain', '--', *folders)
  return git('rev-parse', '--short', 'HEAD') + ('-dirty' if dirty else '')


def split_files(pipeline_root: str) -> Dict[str, List[str]]:
  """{split name: its data files} of the Examples artifacts under the root."""
  splits: Dict[str, List[str]] = {}
  for split_dir in sorted(glob.glob(
      os.path.join(pipeline_root, '*', 'examples', '*',
                   artifact.SPLIT_PREFIX + '*'))):
    name = os.path.basename(split_dir)[len(artifact.SPLIT_PREFIX):]
    splits.setdefault(name, []).extend(
        sorted(glob.glob(os.path.join(split_dir, '*'))))
  return splits


def count_records(paths: Sequence[str]) -> int:
  """Records in TFRecord files, read with tf.data; `*.gz` files as GZIP."""
  # Imported here: the dataset generator forks worker processes, which must
  # happen before TensorFlow starts its threads in this process.
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  total = 0
  for path in paths:
    compression = 'GZIP' if path.endswith('.gz') else ''
    dataset = tf.data.TFRecordDataset(path, compression_type=compression)
    total += int(dataset.reduce(0, lambda count, _: count + 1))
  return total


def read_all(paths: Sequence[str]) -> int:
  """Reads every file (bringing it into the page cache); returns total bytes."""
  total = 0
  for path in paths:
    with open(path, 'rb') as file:
      total += len(file.read())
  return total


def gzip_seconds(paths: Sequence[str], level: int = 6) -> Dict[str, float]:
  """One core gzip-compressing the concatenated files, as `gzip -6` would.

  Returns:
    {'seconds': time of the read + compress loop, 'gzip_bytes': output size}.
  """
  compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
  output_bytes = 0
  start = time.perf_counter()
  for path in paths:
    with open(path, 'rb') as file:
      while chunk := file.read(_READ_CHUNK):
        output_bytes += len(compressor.compress(chunk))
  output_bytes += len(compressor.flush())
  return {'seconds': time.perf_counter() - start, 'gzip_bytes': output_bytes}


_LOG_TAIL_LINES = 30


def child_result(run: 'SampledRun', log_path: str,
                 result_path: str) -> Dict[str, object]:
  """The figures of a finished child: its peaks, and the JSON it wrote; for
  a failed child, `error` instead, with its log's tail printed."""
  result = {'log': log_path, 'process_seconds': run.wall_seconds,
            'peak_rss_mb': run.peak_rss_bytes / (1 << 20),
            'peak_process_rss_mb': run.peak_process_rss_bytes / (1 << 20)}
  if run.returncode:
    result['error'] = f'exit code {run.returncode}, see {log_path}'
    with open(log_path, encoding='utf-8', errors='replace') as log:
      tail = log.read().splitlines()[-_LOG_TAIL_LINES:]
    print('\n'.join(['  FAILED: ' + result['error']] + tail), flush=True)
    return result
  with open(result_path, encoding='utf-8') as file:
    result.update(json.load(file))
  return result


def warm_page_cache(folder: str, threads: int = 8) -> Tuple[int, float]:
  """Reads every file under `folder` once, so that a run finds them in the
  page cache; returns (files, seconds). Threads, since a cold small-file
  read waits on the disk (about 120 us a file here, 8,000 files/s on one
  thread)."""
  # pylint: disable-next=g-import-not-at-top
  from concurrent.futures import ThreadPoolExecutor

  def read_folder(entry: Tuple[str, List[str]]) -> int:
    root, names = entry
    for name in names:
      with open(os.path.join(root, name), 'rb') as file:
        while file.read(_READ_CHUNK):
          pass
    return len(names)

  start = time.perf_counter()
  with ThreadPoolExecutor(threads) as pool:
    files = sum(pool.map(read_folder, ((root, names) for root, _, names
                                       in os.walk(folder))))
  return files, time.perf_counter() - start


def drop_page_cache() -> None:
  """Writes dirty pages and drops the page cache (Linux, as root), so that
  a run reads every file from the disk."""
  subprocess.run(['sync'], check=True)
  with open('/proc/sys/vm/drop_caches', 'w', encoding='ascii') as file:
    file.write('1\n')
