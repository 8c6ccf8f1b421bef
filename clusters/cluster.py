#!/usr/bin/env python3
"""Starts and stops local Flink and Spark clusters that run Beam pipelines.

    python3 clusters/cluster.py up flink|spark|python [--engine-only]
    python3 clusters/cluster.py down flink|spark|python
    python3 clusters/cluster.py status [flink|spark|python]

`up` fetches what it needs on first use (Maven Central through `mvn`, PyPI
through `pip`), caches it under clusters/.cache (or $CLUSTERS_CACHE), starts
in the background, each as a separate process with a pid file under
clusters/.run/<engine>/ (or $CLUSTERS_RUN):

  flink:  1 JobManager (StandaloneSessionClusterEntrypoint) + 2 TaskManagers
          (TaskManagerRunner), 1 slot each: Flink 1.19.0 from its module jars
          on Maven Central;
  spark:  1 Master + 2 Workers (standalone), 1 core each: Spark 3.5.0 from
          pyspark on PyPI;
  python: NOT a cluster: Beam's Python-only job service, which runs every
          bundle in one SDK worker (a debugging aid: it needs no Java);
  each:   Beam's portable job server for the engine (Beam's runner library
          and its runtime dependencies from Maven Central, started by its
          main class: FlinkJobServerDriver, SparkJobServerDriver), and one
          Python SDK worker pool (worker_pool.py, Beam's worker_pool_main made
          safe to share) whose workers run the package from its freshly built
          wheel, in a virtualenv of their own (clusters/.cache/worker-venv),
          never from the source tree.

It waits until everything answers, and prints on its LAST line the Beam
pipeline arguments that run a pipeline on the cluster. `down` stops exactly
the processes `up` started (their process groups, by pid file); it is
idempotent.

Exit status: 0 ready; 1 failure; 3 an artifact the cluster needs is not
served by the registry this machine reaches (the message names it; tests
skip on this status). `--engine-only` starts the engine and the worker pool
without Beam's job server (to check the engine itself); its last line then
says so instead of printing Beam arguments.

Only the standard library: it runs with any python3 >= 3.8.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CACHE = os.path.abspath(os.environ.get('CLUSTERS_CACHE',
                                       os.path.join(HERE, '.cache')))
RUN = os.path.abspath(os.environ.get('CLUSTERS_RUN', os.path.join(HERE, '.run')))

# The Beam version of the project's Python SDK (constraints.txt).
BEAM_PYTHON_VERSION = '2.61.0'
# Beam's Java runners, for the job servers. Maven Central as reached here
# serves neither the shaded job-server jars
# (beam-runners-flink-1.19-job-server, beam-runners-spark-3-job-server: no
# version at all) nor the runner libraries at 2.61.0; it serves the runner
# libraries beam-runners-flink-1.19, beam-runners-spark-3 and
# beam-runners-java-job-service together at 2.62.0 only. A job server is
# those libraries with their runtime dependencies (what the shaded jar
# bundles), started by its main class. The portable protocol between the
# Python SDK 2.61 and the 2.62 runners is checked by the engine tests.
BEAM_JAVA_VERSION = os.environ.get('BEAM_JAVA_VERSION', '2.62.0')
# Beam 2.61's Python SDK publishes Flink runners for 1.17, 1.18 and 1.19
# (PUBLISHED_FLINK_VERSIONS); 1.19 is its default --flink_version, and the
# only one whose runner is served here (above). That runner depends on Flink
# 1.19.0: the cluster runs the same release as the job server's Flink client.
FLINK_MINOR = '1.19'
FLINK_VERSION = os.environ.get('FLINK_VERSION', '1.19.0')
# Beam's Spark runner for Spark 3 (spark_runner.py: spark_version '3', Scala
# 2.12). Its pom compiles against Spark 3.2.2 ("provided": the cluster brings
# Spark); Spark supports Java 17 only from 3.3, and 3.5.0 is the newest
# release in Beam's Spark 3 compatibility test list. pyspark ships Spark's
# Scala 2.12 jars and spark-class.
SPARK_VERSION = os.environ.get('SPARK_VERSION', '3.5.0')
LOG4J_VERSION = '2.17.1'

PORTS = {
    'flink': {'rest': 8081, 'rpc': 6123, 'job': 8099, 'artifact': 8098,
              'expansion': 8097, 'pool': 50000},
    'spark': {'master': 7077, 'ui': 8080, 'worker_ui': 8281, 'job': 8199,
              'artifact': 8198, 'expansion': 8197, 'pool': 50100},
    # Not a cluster: Beam's Python-only job service, which runs every bundle
    # in ONE SDK worker. It checks the wheel-only workers and the tests'
    # comparisons where no engine's job server can be fetched.
    'python': {'job': 8299, 'pool': 50200},
}
WORKERS = 2
UNAVAILABLE = 3  # Exit status: an artifact is not served here.

JOB_SERVERS = {
    # engine: (Beam runner artifact, main class of its job server)
    'flink': (f'org.apache.beam:beam-runners-flink-{FLINK_MINOR}',
              'org.apache.beam.runners.flink.FlinkJobServerDriver'),
    'spark': ('org.apache.beam:beam-runners-spark-3',
              'org.apache.beam.runners.spark.SparkJobServerDriver'),
}
# A shaded job-server jar given by hand replaces the fetched libraries.
JOB_SERVER_ENV = {'flink': 'BEAM_FLINK_JOB_SERVER_JAR',
                  'spark': 'BEAM_SPARK_JOB_SERVER_JAR'}

# The module jars that make up Flink's distribution for a session cluster
# (flink-dist is not served on Maven Central as reached here; its contents
# are these modules), plus Log4j 2 as the distribution's lib/ has it.
FLINK_MODULES = ('flink-runtime', 'flink-clients', 'flink-streaming-java',
                 'flink-java', 'flink-optimizer', 'flink-runtime-web',
                 'flink-rpc-akka-loader', 'flink-connector-files')

# Java 17 needs these for Flink and Spark (Flink's default env.java.opts.all,
# Spark's JavaModuleOptions).
JAVA_17_OPTIONS = [
    '--add-exports=java.base/sun.net.util=ALL-UNNAMED',
    '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
    '--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED',
    '--add-opens=java.base/java.lang=ALL-UNNAMED',
    '--add-opens=java.base/java.lang.invoke=ALL-UNNAMED',
    '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
    '--add-opens=java.base/java.io=ALL-UNNAMED',
    '--add-opens=java.base/java.net=ALL-UNNAMED',
    '--add-opens=java.base/java.nio=ALL-UNNAMED',
    '--add-opens=java.base/java.text=ALL-UNNAMED',
    '--add-opens=java.base/java.time=ALL-UNNAMED',
    '--add-opens=java.base/java.util=ALL-UNNAMED',
    '--add-opens=java.base/java.util.concurrent=ALL-UNNAMED',
    '--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED',
    '--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED',
    '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
    '--add-opens=java.base/sun.nio.cs=ALL-UNNAMED',
    '--add-opens=java.base/sun.security.action=ALL-UNNAMED',
    '--add-opens=java.base/sun.util.calendar=ALL-UNNAMED',
]


class Unavailable(Exception):
  """An artifact the cluster needs is not served here."""


class Failure(Exception):
  """Something did not start or fetch."""


def log(message: str) -> None:
  print(f'[cluster] {message}', file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Fetching (first use) and caching.


def _run(command: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
  return subprocess.run(list(command), check=False, text=True,
                        capture_output=True, **kwargs)


def _mvn(args: Sequence[str], cwd: str) -> subprocess.CompletedProcess:
  if not shutil.which('mvn'):
    raise Failure('mvn is not installed (apt-get install maven)')
  return _run(['mvn', '-B', '-q', '-Dstyle.color=never', *args], cwd=cwd)


def _mvn_error(result: subprocess.CompletedProcess) -> str:
  text = re.sub(r'\x1b\[[0-9;]*m', '', result.stdout + result.stderr)
  lines = [line.replace('[ERROR]', '').strip() for line in text.splitlines()
           if '[ERROR]' in line and line.replace('[ERROR]', '').strip()]
  return lines[0] if lines else 'mvn failed'


def fetch_flink() -> str:
  """The folder of Flink's jars (module jars + dependencies), fetched once."""
  lib = os.path.join(CACHE, f'flink-{FLINK_VERSION}', 'lib')
  done = os.path.join(lib, '.complete')
  if os.path.exists(done):
    return lib
  dependencies = [f'org.apache.flink:{module}:{FLINK_VERSION}'
                  for module in FLINK_MODULES]
  dependencies += [f'org.apache.logging.log4j:{artifact}:{LOG4J_VERSION}'
                   for artifact in ('log4j-slf4j-impl', 'log4j-core',
                                    'log4j-api')]
  result = _copy_dependencies(lib, dependencies, f'Flink {FLINK_VERSION}')
  if result.returncode:
    raise Failure(f'fetching Flink {FLINK_VERSION}: {_mvn_error(result)}')
  _touch(done)
  return lib


def _write_pom(folder: str, dependencies: Sequence[str]) -> None:
  """A pom whose only purpose is to list dependencies (group:artifact:version)."""
  entries = ''.join(
      f'<dependency><groupId>{group}</groupId><artifactId>{artifact}'
      f'</artifactId><version>{version}</version></dependency>'
      for group, artifact, version in (d.split(':') for d in dependencies))
  with open(os.path.join(folder, 'pom.xml'), 'w') as file:
    file.write(
        '<project xmlns="http://maven.apache.org/POM/4.0.0">'
        '<modelVersion>4.0.0</modelVersion><groupId>local.clusters</groupId>'
        '<artifactId>fetch</artifactId><version>1</version>'
        f'<packaging>pom</packaging><dependencies>{entries}</dependencies>'
        '</project>')


def _copy_dependencies(lib: str, dependencies: Sequence[str], what: str,
                       force_check: bool = False
                       ) -> subprocess.CompletedProcess:
  """mvn copy-dependencies of a generated pom into lib; force_check (-U)
  asks the repository again for what an earlier attempt did not find."""
  work = tempfile.mkdtemp(prefix='pom-', dir=_ensure(CACHE))
  try:
    _write_pom(work, dependencies)
    shutil.rmtree(lib, ignore_errors=True)
    log(f'fetching {what} with mvn into {lib}')
    return _mvn((['-U'] if force_check else []) + [
        'dependency:copy-dependencies', '-DincludeScope=runtime',
        f'-DoutputDirectory={lib}'], cwd=work)
  finally:
    shutil.rmtree(work, ignore_errors=True)


def fetch_job_server(engine: str) -> Tuple[List[str], str]:
  """(classpath entries, main class) of Beam's job server for the engine.

  Raises:
    Unavailable: Maven Central, as reached here, does not serve it.
  """
  artifact, main_class = JOB_SERVERS[engine]
  override = os.environ.get(JOB_SERVER_ENV[engine])
  if override:
    if not os.path.isfile(override):
      raise Failure(f'{JOB_SERVER_ENV[engine]}={override} is not a file')
    return [override], main_class
  name = artifact.split(':')[1]
  lib = os.path.join(CACHE, f'{name}-{BEAM_JAVA_VERSION}', 'lib')
  done = os.path.join(lib, '.complete')
  if not os.path.exists(done):
    coordinates = f'{artifact}:{BEAM_JAVA_VERSION}'
    result = _copy_dependencies(
        lib, [coordinates], f"Beam's {engine} runner {coordinates}",
        force_check=True)
    if result.returncode:
      error = _mvn_error(result)
      if any(words in error for words in (
          'Could not find artifact', 'Unable to find artifact',
          'not found in', 'Could not resolve dependencies')):
        raise Unavailable(
            f"Beam's {engine} runner {coordinates} (its job server) is not "
            f'served by the Maven repository this machine reaches ({error}). '
            f'Set {JOB_SERVER_ENV[engine]}=/path/to/a/job-server.jar, or run '
            'with --engine-only to start the engine without it.')
      raise Failure(f'fetching {coordinates}: {error}')
    _touch(done)
  return ([os.path.join(lib, jar) for jar in sorted(os.listdir(lib))
           if jar.endswith('.jar')], main_class)


def fetch_spark_home() -> str:
  """SPARK_HOME: pyspark (Spark's jars and spark-class) in a venv of its own."""
  venv = os.path.join(CACHE, f'spark-{SPARK_VERSION}')
  home = os.path.join(venv, 'lib',
                      f'python{sys.version_info[0]}.{sys.version_info[1]}',
                      'site-packages', 'pyspark')
  done = os.path.join(venv, '.complete')
  if os.path.exists(done):
    return _read(done)
  log(f'installing pyspark=={SPARK_VERSION} (Spark {SPARK_VERSION}) into '
      f'{venv}')
  shutil.rmtree(venv, ignore_errors=True)
  _check(_run([sys.executable, '-m', 'venv', venv]), 'creating the Spark venv')
  _check(_run([os.path.join(venv, 'bin', 'pip'), 'install', '-q',
               f'pyspark=={SPARK_VERSION}']), f'pip install pyspark')
  found = _run([os.path.join(venv, 'bin', 'python'), '-c',
                'import os, pyspark; print(os.path.dirname(pyspark.__file__))'])
  _check(found, 'locating pyspark')
  home = found.stdout.strip()
  if not os.path.exists(os.path.join(home, 'bin', 'spark-class')):
    raise Failure(f'pyspark {SPARK_VERSION} has no bin/spark-class in {home}')
  with open(done, 'w') as file:
    file.write(home)
  return home


def _source_digest() -> str:
  """A digest of what decides the workers' dependencies."""
  digest = hashlib.sha256()
  for name in ('constraints.txt', 'setup.py'):
    path = os.path.join(REPO, name)
    if os.path.exists(path):
      digest.update(_read(path).encode())
  return digest.hexdigest()[:12]


def build_worker_venv() -> str:
  """The SDK workers' venv with the package installed from a fresh wheel.

  The wheel is built from a copy of the working tree (so an in-tree build/
  folder can't leak stale modules into it). The venv's dependencies are
  installed once (`pip install -c constraints.txt <wheel>`, all of
  install_requires) and reused; the package itself is reinstalled from the
  new wheel on every `up`.
  """
  venv = os.path.join(CACHE, 'worker-venv')
  python = os.path.join(venv, 'bin', 'python')
  wheels = _ensure(os.path.join(CACHE, 'wheels'))
  for old in os.listdir(wheels):
    os.remove(os.path.join(wheels, old))
  source = tempfile.mkdtemp(prefix='wheel-src-', dir=_ensure(CACHE))
  try:
    _copy_source(source)
    builder = os.path.join(REPO, '.venv', 'bin', 'pip')
    if not os.path.exists(builder):
      builder = 'pip3'
    _check(_run([builder, 'wheel', '-q', '--no-deps', '--no-build-isolation',
                 source, '-w', wheels]), 'building the wheel')
  finally:
    shutil.rmtree(source, ignore_errors=True)
  wheel = os.path.join(wheels, sorted(os.listdir(wheels))[0])
  stamp = os.path.join(venv, '.dependencies')
  constraints = os.path.join(REPO, 'constraints.txt')
  if not os.path.exists(stamp) or _read(stamp) != _source_digest():
    # First use, or setup.py / constraints.txt changed: install (or check)
    # every dependency of install_requires, pinned by constraints.txt.
    if not os.path.exists(python):
      _check(_run([sys.executable, '-m', 'venv', venv]),
             'creating the worker venv')
    log(f'installing the workers\' dependencies into {venv} (first use: '
        'minutes)')
    # --no-compile: half the time (3.5 GB of files); a worker compiles
    # what it imports, once, into the venv's __pycache__.
    _check(_run([os.path.join(venv, 'bin', 'pip'), 'install', '-q',
                 '--no-compile', '--ignore-requires-python', '-c',
                 constraints, wheel]),
           'installing the wheel with its dependencies')
    with open(stamp, 'w') as file:
      file.write(_source_digest())
  # The package itself, from the new wheel, on every `up`.
  _check(_run([os.path.join(venv, 'bin', 'pip'), 'install', '-q', '--no-deps',
               '--force-reinstall', '--ignore-requires-python', wheel]),
         'reinstalling the wheel')
  where = _run([python, '-c',
                'import image_example_gen, os; '
                'print(os.path.dirname(image_example_gen.__file__))'],
               cwd=tempfile.gettempdir(), env=_clean_env(venv))
  _check(where, 'importing image_example_gen in the worker venv')
  if not where.stdout.strip().startswith(venv):
    raise Failure('the worker venv imports image_example_gen from '
                  f'{where.stdout.strip()}, not from its wheel install')
  return venv


def _copy_source(destination: str) -> None:
  skip = {'.git', '.venv', 'build', 'dist', 'clusters', 'tests', 'testdata',
          'benchmarks', 'bench_data', '__pycache__', '.pytest_cache', 'out',
          'tfx_output'}

  def ignore(folder, names):
    return [name for name in names
            if name in skip or name.endswith('.egg-info')
            ] if folder == REPO else [
                name for name in names
                if name == '__pycache__' or name.endswith('.egg-info')]

  shutil.copytree(REPO, destination, ignore=ignore, dirs_exist_ok=True)


def _clean_env(venv: str) -> Dict[str, str]:
  """The environment of the worker pool: its venv first on PATH, no
  PYTHONPATH, no other venv."""
  env = {key: value for key, value in os.environ.items()
         if key not in ('PYTHONPATH', 'VIRTUAL_ENV', 'PYTHONHOME')}
  env['PATH'] = os.path.join(venv, 'bin') + os.pathsep + env.get('PATH', '')
  env['VIRTUAL_ENV'] = venv
  return env


# --------------------------------------------------------------------------
# Processes.


class Run:
  """The run folder of one engine: pid files, logs, config, scratch."""

  def __init__(self, engine: str):
    self.engine = engine
    self.root = os.path.join(RUN, engine)
    self.logs = os.path.join(self.root, 'log')
    self.state = os.path.join(self.root, 'state.json')
    self.processes: Dict[str, subprocess.Popen] = {}

  def pid_files(self) -> List[str]:
    if not os.path.isdir(self.root):
      return []
    return sorted(os.path.join(self.root, name)
                  for name in os.listdir(self.root) if name.endswith('.pid'))

  def start(self, name: str, command: Sequence[str], env=None,
            cwd: Optional[str] = None) -> int:
    """Starts command in a new session (its own process group)."""
    _ensure(self.logs)
    output = open(os.path.join(self.logs, f'{name}.out'), 'wb')
    process = subprocess.Popen(
        list(command), stdout=output, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, env=env, cwd=cwd or self.root,
        start_new_session=True)
    output.close()
    self.processes[name] = process
    with open(os.path.join(self.root, f'{name}.pid'), 'w') as file:
      file.write(f'{process.pid}\n')
    return process.pid

  def alive(self) -> Dict[str, bool]:
    return {os.path.basename(path)[:-4]: _ours(_read_pid(path))
            for path in self.pid_files()}

  def check_alive(self) -> None:
    # Processes this run started are polled (right after the fork, before
    # the exec, /proc shows the parent's command line); others by pid file.
    dead = [name for name, alive in self.alive().items()
            if (self.processes[name].poll() is not None
                if name in self.processes else not alive)]
    if dead:
      path = os.path.join(self.logs, f'{dead[0]}.out')
      tail = _read(path)[-1500:] if os.path.exists(path) else ''
      raise Failure(f'{", ".join(dead)} exited; see {path}:\n{tail}')


def _read_pid(path: str) -> Optional[int]:
  try:
    return int(_read(path).strip())
  except (OSError, ValueError):
    return None


def _ours(pid: Optional[int]) -> bool:
  """Whether pid runs and is one this script started (its command line names
  our run folder or cache), so that a recycled pid is never signalled."""
  if not pid:
    return False
  try:
    with open(f'/proc/{pid}/cmdline', 'rb') as file:
      cmdline = file.read().decode(errors='replace')
    if os.path.exists(f'/proc/{pid}/stat'):
      with open(f'/proc/{pid}/stat') as file:
        if file.read().rsplit(')', 1)[1].split()[0] == 'Z':
          return False
  except OSError:
    return False
  return RUN in cmdline or CACHE in cmdline


def stop(engine: str) -> None:
  run = Run(engine)
  groups = []
  for path in run.pid_files():
    pid = _read_pid(path)
    # The leader, or (if it died) any process left in its group, is ours.
    if pid and (_ours(pid) or any(_ours(member)
                                  for member in _group_members(pid))):
      groups.append(pid)
  for pid in groups:
    try:
      os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
      pass
  deadline = time.time() + 30
  while groups and time.time() < deadline:
    groups = [pid for pid in groups if _group_alive(pid)]
    time.sleep(0.2)
  for pid in groups:
    log(f'process group {pid} ignored SIGTERM; killing it')
    try:
      os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
      pass
  for path in run.pid_files():
    os.remove(path)
  if os.path.exists(run.state):
    os.remove(run.state)
  # Spark executors' copies of the staged jars; their logs stay until `up`.
  for folder, _, names in os.walk(os.path.join(run.root, 'work')):
    for name in names:
      if name.endswith('.jar'):
        os.remove(os.path.join(folder, name))


def _group_members(pgid: int) -> List[int]:
  """The live (not zombie) processes of a process group."""
  members = []
  for entry in os.listdir('/proc'):
    if not entry.isdigit():
      continue
    try:
      with open(f'/proc/{entry}/stat') as file:
        fields = file.read().rsplit(')', 1)[1].split()
    except OSError:
      continue
    if int(fields[2]) == pgid and fields[0] != 'Z':
      members.append(int(entry))
  return members


def _group_alive(pgid: int) -> bool:
  return bool(_group_members(pgid))


def _portable_args(ports) -> List[str]:
  """The Beam options that send a pipeline to a cluster's job server, with
  its SDK worker pool as the environment."""
  return [
      '--runner=PortableRunner', f'--job_endpoint=localhost:{ports["job"]}',
      '--environment_type=EXTERNAL',
      f'--environment_config=localhost:{ports["pool"]}',
  ]


def _port_open(port: int, host: str = 'localhost') -> bool:
  try:
    with socket.create_connection((host, port), timeout=1):
      return True
  except OSError:
    return False


def _http_json(url: str):
  try:
    with urllib.request.urlopen(url, timeout=2) as response:
      return json.load(response)
  except (OSError, ValueError, urllib.error.URLError):
    return None


def _wait(what: str, ready, run: Run, timeout: float) -> float:
  start = time.time()
  while time.time() - start < timeout:
    if ready():
      return time.time() - start
    run.check_alive()
    time.sleep(0.3)
  raise Failure(f'{what} not ready after {timeout:.0f} s; see {run.logs}')


def _check_ports_free(engine: str) -> None:
  busy = [f'{name} {port}' for name, port in PORTS[engine].items()
          if name != 'worker_ui' and _port_open(port)]
  if busy:
    raise Failure(f'port(s) {", ".join(busy)} already in use: another '
                  f'{engine} cluster, or something else; `make {engine}-down`'
                  ' stops one this script started')


# --------------------------------------------------------------------------
# Flink.


def _flink_config(run: Run) -> str:
  conf = _ensure(os.path.join(run.root, 'conf'))
  ports = PORTS['flink']
  tmp = _ensure(os.path.join(run.root, 'tmp'))
  config = {
      'jobmanager.rpc.address': 'localhost',
      'jobmanager.rpc.port': ports['rpc'],
      'jobmanager.bind-host': 'localhost',
      'jobmanager.memory.process.size': '1024m',
      'taskmanager.bind-host': 'localhost',
      'taskmanager.host': 'localhost',
      'taskmanager.memory.process.size': '3584m',
      # A Beam batch job deploys all its operators at once; the ingest's
      # needs more than the default 10% of memory for network buffers
      # ("Insufficient number of network buffers: required 512, but only
      # 500 available" at 1728m; "only 492 available" at 512m, once the
      # duplicate report wrote its index to files: 1024m, and the process
      # grown by as much, so that the task heap keeps its ~460m).
      'taskmanager.memory.network.min': '1024m',
      'taskmanager.memory.network.max': '1024m',
      'taskmanager.numberOfTaskSlots': 1,
      'parallelism.default': WORKERS,
      'rest.address': 'localhost',
      'rest.bind-address': 'localhost',
      'rest.port': ports['rest'],
      'io.tmp.dirs': tmp,
      'web.tmpdir': tmp,
      'env.java.opts.all': ' '.join(JAVA_17_OPTIONS),
  }
  with open(os.path.join(conf, 'config.yaml'), 'w') as file:
    for key, value in config.items():
      file.write(f'{key}: {json.dumps(value) if isinstance(value, str) else value}\n')
  with open(os.path.join(conf, 'log4j.properties'), 'w') as file:
    file.write(
        'rootLogger.level = INFO\n'
        'rootLogger.appenderRef.file.ref = MainAppender\n'
        'appender.main.name = MainAppender\n'
        'appender.main.type = File\n'
        'appender.main.append = false\n'
        'appender.main.fileName = ${sys:log.file}\n'
        'appender.main.layout.type = PatternLayout\n'
        'appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p '
        '%-60c %x - %m%n\n')
  with open(os.path.join(conf, 'log4j-console.properties'), 'w') as file:
    file.write(
        'rootLogger.level = INFO\n'
        'rootLogger.appenderRef.console.ref = ConsoleAppender\n'
        'appender.console.name = ConsoleAppender\n'
        'appender.console.type = CONSOLE\n'
        'appender.console.layout.type = PatternLayout\n'
        'appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p '
        '%-60c %x - %m%n\n')
  return conf


def _flink_resource_params(classpath: str, conf: str, kind: str) -> List[str]:
  """JVM and -D options as Flink's own scripts compute them (BashJavaUtils)."""
  result = _run(['java', '-cp', classpath,
                 'org.apache.flink.runtime.util.bash.BashJavaUtils',
                 f'GET_{kind}_RESOURCE_PARAMS', '--configDir', conf])
  lines = [line.split(':', 1)[1] for line in result.stdout.splitlines()
           if line.startswith('BASH_JAVA_UTILS_EXEC_RESULT:')]
  if result.returncode or len(lines) < 2:
    raise Failure(f'Flink BashJavaUtils {kind}: {result.stdout[-500:]}'
                  f'{result.stderr[-500:]}')
  return lines[-2].split() + ['@DYNAMIC@'] + lines[-1].split()


def start_flink(run: Run, job_server: Optional[Tuple[List[str], str]],
                venv: str) -> List[str]:
  lib = fetch_flink()
  classpath = ':'.join(os.path.join(lib, name)
                       for name in sorted(os.listdir(lib))
                       if name.endswith('.jar'))
  conf = _flink_config(run)
  ports = PORTS['flink']
  start = time.time()

  def java(kind: str, log_name: str, main: str) -> List[str]:
    params = _flink_resource_params(classpath, conf, kind)
    marker = params.index('@DYNAMIC@')
    return (['java', *params[:marker], *JAVA_17_OPTIONS,
             f'-Dlog.file={os.path.join(run.logs, log_name + ".log")}',
             f'-Dlog4j.configurationFile=file:{conf}/log4j.properties',
             '-cp', classpath, main, '--configDir', conf, *params[marker + 1:]])

  _ensure(run.logs)
  run.start('jobmanager', java(
      'JM', 'jobmanager',
      'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint'))
  for index in range(1, WORKERS + 1):
    run.start(f'taskmanager{index}', java(
        'TM', f'taskmanager{index}',
        'org.apache.flink.runtime.taskexecutor.TaskManagerRunner'))
  _start_pool(run, venv, ports['pool'])

  def cluster_ready():
    overview = _http_json(f'http://localhost:{ports["rest"]}/overview')
    return bool(overview) and overview.get('taskmanagers') == WORKERS

  _wait('Flink (JobManager + 2 TaskManagers)', cluster_ready, run, 120)
  if job_server:
    jars, main_class = job_server
    # Log4j 2 from Flink's lib/ as the SLF4J binding, logging to the console
    # (jobserver.out).
    jars = jars + [os.path.join(lib, name) for name in sorted(os.listdir(lib))
                   if name.startswith('log4j-')]
    run.start('jobserver', [
        'java', *JAVA_17_OPTIONS,
        f'-Dlog4j.configurationFile=file:{conf}/log4j-console.properties',
        '-cp', ':'.join(jars), main_class,
        f'--flink-master=localhost:{ports["rest"]}',
        f'--job-port={ports["job"]}', f'--artifact-port={ports["artifact"]}',
        f'--expansion-port={ports["expansion"]}',
        f'--artifacts-dir={_ensure(os.path.join(run.root, "artifacts"))}'])
    _wait('the Flink job server', lambda: _port_open(ports['job']), run, 120)
  _wait('the SDK worker pool', lambda: _port_open(ports['pool']), run, 60)
  log(f'flink ready in {time.time() - start:.1f} s '
      f'(REST http://localhost:{ports["rest"]})')
  return _portable_args(ports) + [f'--parallelism={WORKERS}']


# --------------------------------------------------------------------------
# Spark.


def start_spark(run: Run, job_server: Optional[Tuple[List[str], str]],
                venv: str) -> List[str]:
  home = fetch_spark_home()
  ports = PORTS['spark']
  work = _ensure(os.path.join(run.root, 'work'))
  env = dict(os.environ, SPARK_HOME=home, SPARK_LOG_DIR=run.logs,
             SPARK_LOCAL_IP='127.0.0.1', SPARK_LOCAL_DIRS=work,
             SPARK_WORKER_DIR=work, SPARK_CONF_DIR=_spark_conf(run))
  env.pop('PYTHONPATH', None)
  spark_class = os.path.join(home, 'bin', 'spark-class')
  start = time.time()
  run.start('master', [
      spark_class, 'org.apache.spark.deploy.master.Master', '--host',
      'localhost', '--port', str(ports['master']), '--webui-port',
      str(ports['ui'])], env=env)
  for index in range(1, WORKERS + 1):
    run.start(f'worker{index}', [
        spark_class, 'org.apache.spark.deploy.worker.Worker', '--host',
        'localhost', '--cores', '1', '--memory', '3g', '--webui-port',
        str(ports['worker_ui'] + index - 1), '--work-dir', work,
        f'spark://localhost:{ports["master"]}'], env=env)
  _start_pool(run, venv, ports['pool'])

  def cluster_ready():
    master = _http_json(f'http://localhost:{ports["ui"]}/json/')
    return bool(master) and sum(
        worker.get('state') == 'ALIVE'
        for worker in master.get('workers', [])) == WORKERS

  _wait('Spark (Master + 2 Workers)', cluster_ready, run, 120)
  if job_server:
    jars, main_class = job_server
    # Spark's jars (the cluster's release) and Beam's runtime dependencies;
    # where both ship a library, the newer version (as Maven would pick;
    # e.g. Beam's GCS support needs a newer Guava than Spark's 14.0.1).
    classpath = _merge_classpaths(
        [os.path.join(home, 'jars', name)
         for name in sorted(os.listdir(os.path.join(home, 'jars')))], jars)
    run.start('jobserver', [
        'java', *JAVA_17_OPTIONS, '-cp', ':'.join(classpath), main_class,
        f'--spark-master-url=spark://localhost:{ports["master"]}',
        f'--job-port={ports["job"]}', f'--artifact-port={ports["artifact"]}',
        f'--expansion-port={ports["expansion"]}',
        f'--artifacts-dir={_ensure(os.path.join(run.root, "artifacts"))}'],
              env=env)
    _wait('the Spark job server', lambda: _port_open(ports['job']), run, 120)
  _wait('the SDK worker pool', lambda: _port_open(ports['pool']), run, 60)
  log(f'spark ready in {time.time() - start:.1f} s '
      f'(master UI http://localhost:{ports["ui"]})')
  return _portable_args(ports)


def _merge_classpaths(first: List[str], second: List[str]) -> List[str]:
  """first + second, one jar per artifact name: the newer version."""
  chosen: Dict[str, str] = {}
  for jar in first + second:
    name = _artifact_name(os.path.basename(jar))
    if name not in chosen or (_jar_version(jar) >
                              _jar_version(chosen[name])):
      chosen[name] = jar
  return [jar for jar in first + second
          if chosen[_artifact_name(os.path.basename(jar))] == jar]


def _jar_version(jar: str) -> Tuple[int, ...]:
  name = os.path.basename(jar)
  version = name[len(_artifact_name(name)) + 1:]
  return tuple(int(part) for part in re.findall(r'\d+', version)[:4])


def _artifact_name(jar: str) -> str:
  """'jackson-core-2.15.2.jar' -> 'jackson-core'."""
  return re.sub(r'-[0-9][^-]*(-[A-Za-z].*)?\.jar$', '', jar)


def _spark_conf(run: Run) -> str:
  conf = _ensure(os.path.join(run.root, 'conf'))
  with open(os.path.join(conf, 'spark-defaults.conf'), 'w') as file:
    options = ' '.join(JAVA_17_OPTIONS)
    file.write(f'spark.driver.extraJavaOptions {options}\n'
               f'spark.executor.extraJavaOptions {options}\n')
  return conf


# --------------------------------------------------------------------------
# Beam's Python-only job service (not a cluster).


def start_python(run: Run, venv: str) -> List[str]:
  ports = PORTS['python']
  start = time.time()
  _start_pool(run, venv, ports['pool'])
  run.start('jobservice', [
      os.path.join(venv, 'bin', 'python'), '-m',
      'apache_beam.runners.portability.local_job_service_main',
      f'--port={ports["job"]}'], env=_clean_env(venv),
            cwd=_ensure(os.path.join(run.root, 'pool')))
  _wait('the Python job service', lambda: _port_open(ports['job']), run, 60)
  _wait('the SDK worker pool', lambda: _port_open(ports['pool']), run, 60)
  log(f'python job service ready in {time.time() - start:.1f} s')
  return _portable_args(ports)


# --------------------------------------------------------------------------
# The SDK worker pool.


def _start_pool(run: Run, venv: str, port: int) -> None:
  """The SDK worker pool (clusters/worker_pool.py: Beam's worker_pool_main,
  safe to share between several TaskManagers or executors) on the worker
  venv's python, in an empty folder (so that no worker can import the package
  from a source tree on its cwd)."""
  cwd = _ensure(os.path.join(run.root, 'pool'))
  script = os.path.join(cwd, 'worker_pool.py')
  shutil.copyfile(os.path.join(HERE, 'worker_pool.py'), script)
  run.start('worker-pool', [
      os.path.join(venv, 'bin', 'python'), script, f'--service_port={port}'],
            env=_clean_env(venv), cwd=cwd)


# --------------------------------------------------------------------------
# Commands.


def up(engine: str, engine_only: bool) -> List[str]:
  run = Run(engine)
  alive = run.alive()
  if alive and all(alive.values()) and os.path.exists(run.state):
    state = json.loads(_read(run.state))
    if state.get('engine_only') == engine_only:
      # The pool starts new worker processes for each job: they import the
      # package as the new wheel installs it.
      build_worker_venv()
      log(f'{engine} is already up ({", ".join(sorted(alive))}); the workers '
          'run the wheel just rebuilt')
      return state['args']
  if alive:
    log(f'{engine}: stopping what a previous `up` left')
    stop(engine)
  # A fresh run folder: the last run's logs, scratch, and Spark's copies of
  # the staged jars (about 800 MB per application) go.
  shutil.rmtree(run.root, ignore_errors=True)
  started = time.time()
  job_server = (None if engine_only or engine == 'python' else
                fetch_job_server(engine))
  if engine == 'flink':
    fetch_flink()
  elif engine == 'spark':
    fetch_spark_home()
  venv = build_worker_venv()
  log(f'fetch and wheel: {time.time() - started:.1f} s')
  _check_ports_free(engine)
  try:
    if engine == 'flink':
      args = start_flink(run, job_server, venv)
    elif engine == 'spark':
      args = start_spark(run, job_server, venv)
    else:
      args = start_python(run, venv)
  except BaseException:
    stop(engine)
    raise
  with open(run.state, 'w') as file:
    json.dump({'args': args, 'engine_only': engine_only,
               'seconds': round(time.time() - started, 1)}, file)
  stop_with = (f'make {engine}-down' if engine != 'python' else
               'python3 clusters/cluster.py down python')
  log(f'{engine} up in {time.time() - started:.1f} s; logs in {run.logs}; '
      f'stop with `{stop_with}`')
  return args


def status(engines: Sequence[str]) -> int:
  code = 0
  for engine in engines:
    alive = Run(engine).alive()
    if not alive:
      print(f'{engine}: down')
      code = code or 1
      continue
    print(f'{engine}: ' + ', '.join(
        f'{name} {"up" if ok else "DEAD"}' for name, ok in sorted(alive.items())))
  return code


def main(argv: Optional[Sequence[str]] = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  commands = parser.add_subparsers(dest='command', required=True)
  up_parser = commands.add_parser('up')
  up_parser.add_argument('engine', choices=sorted(PORTS))
  up_parser.add_argument('--engine-only', action='store_true',
                         help="no Beam job server: the engine and the pool")
  down_parser = commands.add_parser('down')
  down_parser.add_argument('engine', choices=sorted(PORTS))
  status_parser = commands.add_parser('status')
  status_parser.add_argument('engine', nargs='?', choices=sorted(PORTS))
  args = parser.parse_args(argv)
  try:
    if args.command == 'up':
      beam_args = up(args.engine, args.engine_only)
      if args.engine_only and args.engine != 'python':
        print(f'# {args.engine} engine and SDK worker pool up, without '
              "Beam's job server: no Beam pipeline arguments")
      else:
        print(' '.join(beam_args))
      return 0
    if args.command == 'down':
      stop(args.engine)
      log(f'{args.engine} down')
      return 0
    if args.engine:  # 0 if it is up, 1 if not (scripts ask this way).
      return status([args.engine])
    status(sorted(PORTS))
    return 0
  except Unavailable as error:
    log(f'error: {error}')
    return UNAVAILABLE
  except Failure as error:
    log(f'error: {error}')
    return 1


def _ensure(path: str) -> str:
  os.makedirs(path, exist_ok=True)
  return path


def _touch(path: str) -> None:
  with open(path, 'w'):
    pass


def _read(path: str) -> str:
  with open(path) as file:
    return file.read()


def _check(result: subprocess.CompletedProcess, what: str) -> None:
  if result.returncode:
    raise Failure(f'{what} failed: {(result.stderr or result.stdout)[-1500:]}')


if __name__ == '__main__':
  sys.exit(main())
