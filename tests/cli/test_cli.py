"""The image-example-gen command: its errors, and ingest against the component.

`ingest` must write exactly what ImageExampleGen writes for the same folder:
the comparison runs the real component under LocalDagRunner. Errors must be
one line on stderr with the documented exit status. A few cases run the real
entry point (`python -m image_example_gen`) in a subprocess; the rest call
`cli.main` in-process, which is faster.
"""

import collections
import contextlib
import dataclasses
import glob
import inspect as inspect_lib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import psutil
import pytest
from tfx import v1 as tfx

from image_example_gen import ImageExampleGen
from image_example_gen import cli
from image_example_gen.core import config as config_lib
from image_example_gen.core import artifact
from image_example_gen.core import ingest_report
from image_example_gen import inspection
from image_example_gen.beam import progress
from image_example_gen.cli import config_flags
from image_example_gen.cli import errors
from image_example_gen.cli import inspect_command
from image_example_gen.cli import progress_bar
from file_tree import write_tree
import example_reader
import image_factory

ERROR = 'image-example-gen: error: '


def _damaged_jpeg() -> bytes:
  """A JPEG whose scan data holds markers: 'structure' keeps it, 'decode'
  skips it as corrupt (TensorFlow refuses it; see test_image_probe)."""
  data = bytearray(image_factory.jpeg(size=(64, 48)))
  start, end = image_factory.jpeg_scan_data_range(bytes(data))
  middle = (start + end) // 2
  data[middle:end] = b'\xff\x99' * ((end - middle) // 2) + b'\x00' * (
      (end - middle) % 2)
  return bytes(data)


_FILES = {
    'ant/a1.jpg': image_factory.jpeg(size=(41, 23)),
    'ant/a2.png': image_factory.png('LA', size=(17, 29)),
    'ant/deep/a3.gif': image_factory.gif(size=(31, 19)),
    'bee/b1.jpg': image_factory.jpeg('L'),
    'bee/b2.bmp': image_factory.bmp(size=(25, 14)),
    'bee/damaged.jpg': _damaged_jpeg(),
    'cow/c1.jpeg': image_factory.jpeg(size=(50, 10)),
    'cow/c2.png': image_factory.png('P', size=(22, 22)),
    'cow/notes.txt': b'not an image',
    'cow/.hidden.jpg': image_factory.jpeg(),
}


@pytest.fixture(name='data_root', scope='module')
def data_root_fixture(tmp_path_factory):
  return write_tree(str(tmp_path_factory.mktemp('cli') / 'images'), _FILES)


@pytest.fixture(name='ingested', scope='module')
def ingested_fixture(data_root, tmp_path_factory):
  """(out dir, stdout, stderr) of `ingest DATA_ROOT --out DIR`, in-process."""
  out_dir = str(tmp_path_factory.mktemp('cli') / 'ingested')
  stdout, stderr = io.StringIO(), io.StringIO()  # capsys is function-scoped.
  with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
    assert cli.main(['ingest', data_root, '--out', out_dir]) == 0
  return out_dir, stdout.getvalue(), stderr.getvalue()


# For subprocesses: the environment as a user has it. The command quiets the
# libraries' warnings itself (cli.logs), before it loads them.
_ENV = dict(os.environ)


def _command(*args, cwd):
  """Runs `python -m image_example_gen ARGS`, the real entry point."""
  return subprocess.run(
      [sys.executable, '-m', 'image_example_gen', *args], cwd=cwd,
      capture_output=True, text=True, timeout=300, env=_ENV)


def _report(examples_dir) -> ingest_report.IngestReport:
  return artifact.read_report(examples_dir)


def _records(examples_dir):
  """{split: Counter of serialized Examples} of an Examples folder."""
  return {
      os.path.basename(split_dir)[len('Split-'):]: collections.Counter(
          example.SerializeToString(deterministic=True)
          for example in example_reader.read_split(split_dir))
      for split_dir in glob.glob(os.path.join(examples_dir, 'Split-*'))
  }


def _error_line(stderr: str) -> str:
  """The one error line, last on stderr after the command's log lines."""
  assert 'Traceback' not in stderr
  lines = stderr.splitlines()
  assert [line for line in lines if line.startswith(ERROR)] == lines[-1:]
  return lines[-1]


def _split_dirs(out_dir):
  return sorted(glob.glob(os.path.join(out_dir, 'Split-*')))


# --- errors ------------------------------------------------------------------


@pytest.mark.slow
def test_missing_data_root_is_one_line_and_status_1(tmp_path):
  result = _command('ingest', 'no_such_folder', '--out', 'out', cwd=tmp_path)

  assert result.returncode == 1
  assert result.stderr == (
      f'{ERROR}DATA_ROOT {tmp_path / "no_such_folder"} does not exist\n')
  assert result.stdout == ''
  assert not (tmp_path / 'out').exists()


def test_invalid_choice_is_a_usage_error_with_status_2(tmp_path, data_root):
  result = _command('ingest', data_root, '--out', 'out', '--compression',
                    'zstd', cwd=tmp_path)

  assert result.returncode == 2
  assert result.stderr == (f"{ERROR}argument --compression: invalid choice: "
                           "'zstd' (choose from 'gzip', 'none')\n")


@pytest.mark.parametrize('args, message', [
    (['--bogus'], 'unrecognized arguments: --bogus'),
    (['--max-bad-fraction', 'lots'],
     "argument --max-bad-fraction: invalid float value: 'lots'"),
    (['--max-bad-fraction', '2'],
     'argument --max-bad-fraction: invalid value 2.0; expected a fraction '
     'between 0 and 1'),
    (['--labels', 'none', '--class-names', 'ant,bee'],
     '--class-names is set but --labels none; drop one.'),
    (['--on-bad-imag', 'fail'],
     'unrecognized arguments: --on-bad-imag fail (did you mean '
     '--on-bad-image?)'),
    (['--split', 'train=8,eval=two'],
     "argument --split: the weight of split eval is 'two'; expected a whole "
     'number of 1 or more (e.g. train=8,eval=2)'),
    (['--split', 'train=8', '--input-split', 'train=ant', '--input-split',
      'eval=bee'],
     '--split hashes one input split into output splits, but --input-split '
     'gives 2 (train, eval), which are kept as the output splits; drop '
     '--split, or give one --input-split'),
    (['--input-split', 'train'],
     "argument --input-split: 'train' is not NAME=PATTERN"),
    (['--input-split', 'train=span-{SPAN}/*'],
     "argument --input-split: 'train=span-{SPAN}/*' has a {SPAN}, {VERSION} "
     'or date placeholder; only the ImageExampleGen component resolves '
     'those'),
])
def test_refused_options_are_usage_errors(capsys, tmp_path, data_root, args,
                                          message):
  out_dir = str(tmp_path / 'out')
  assert cli.main(['ingest', data_root, '--out', out_dir, *args]) == 2
  captured = capsys.readouterr()
  assert captured.err == ERROR + message + '\n'
  assert captured.out == ''
  assert not os.path.exists(out_dir)


def test_out_dir_holding_splits_is_refused_without_overwrite(capsys, tmp_path,
                                                             data_root):
  shard = tmp_path / 'out' / 'Split-train' / 'data_tfrecord-00000-of-00001'
  shard.parent.mkdir(parents=True)
  shard.write_bytes(b'earlier run')

  assert cli.main(['ingest', data_root, '--out', str(tmp_path / 'out')]) == 1
  assert capsys.readouterr().err == (
      f'{ERROR}{tmp_path / "out"} already holds Split-train; pass --overwrite '
      'to replace them, or choose another --out\n')
  assert shard.read_bytes() == b'earlier run'


@pytest.mark.slow
def test_inspect_missing_folder_is_one_line_and_status_1(tmp_path,
                                                        monkeypatch):
  result = _command('inspect', 'no_such_folder', cwd=tmp_path)

  monkeypatch.chdir(tmp_path)
  with pytest.raises(inspection.InspectionError) as raised:
    inspection.inspect('no_such_folder')
  assert result.returncode == 1
  assert result.stderr == f'{ERROR}{raised.value}\n'
  assert 'Traceback' not in result.stderr


def test_inspect_folder_not_written_by_image_example_gen(capsys, tmp_path):
  (tmp_path / 'Split-train').mkdir()
  (tmp_path / 'Split-train' / 'data.tfrecord').write_bytes(b'')

  assert cli.main(['inspect', str(tmp_path)]) == 1
  with pytest.raises(inspection.InspectionError) as raised:
    inspection.inspect(str(tmp_path))
  assert capsys.readouterr().err == f'{ERROR}{raised.value}\n'


@pytest.mark.slow
def test_inspect_unknown_split(capsys, ingested):
  out_dir, _, _ = ingested
  assert cli.main(['inspect', out_dir, '--split', 'test']) == 1
  assert capsys.readouterr().err == (
      f"{ERROR}{out_dir}: no split 'test'; it has train, eval; pass one of "
      'them\n')


@pytest.mark.slow
def test_bad_file_with_on_bad_image_fail(capsys, tmp_path, data_root):
  out_dir = str(tmp_path / 'out')
  assert cli.main(['ingest', data_root, '--out', out_dir, '--on-bad-image',
                   'fail']) == 1

  line = _error_line(capsys.readouterr().err)
  assert re.fullmatch(
      re.escape(f'{ERROR}Bad file {data_root}/') +
      r'(bee/damaged\.jpg|cow/notes\.txt) \((corrupt|not_an_image): .*\)\. '
      + re.escape('Fix or remove it, or pass --on-bad-image skip to skip and '
                  'report bad files.'),
      line), line
  assert not _split_dirs(out_dir)


@pytest.mark.slow
def test_max_bad_fraction_gate(capsys, tmp_path, data_root):
  out_dir = str(tmp_path / 'out')
  assert cli.main(['ingest', data_root, '--out', out_dir,
                   '--max-bad-fraction', '0.1']) == 1

  # Hidden files are skipped but not bad: the counts add up to 2.
  line = _error_line(capsys.readouterr().err)
  assert line == (
      f'{ERROR}2 of 9 files are bad (22.2%), over --max-bad-fraction 0.1: '
      'corrupt 1, not_an_image 1 (bee/damaged.jpg, cow/notes.txt). 1 hidden '
      'file skipped too, not counted as bad. Nothing was published; fix or '
      'remove the bad files, or raise --max-bad-fraction.')
  assert not _split_dirs(out_dir)


def test_debug_raises_with_the_traceback(tmp_path):
  with pytest.raises(errors.CommandError, match='does not exist'):
    cli.main(['ingest', str(tmp_path / 'missing'), '--out',
              str(tmp_path / 'out'), '--debug'])


def test_describe_takes_the_error_out_of_a_beam_worker_traceback():
  # What the DirectRunner raises with worker processes: the worker's
  # traceback as the message of a RuntimeError.
  worker_error = RuntimeError(
      'Traceback (most recent call last):\n'
      '  File "transform.py", line 145, in process\n'
      '    yield self._skip(source, error)\n'
      'image_example_gen.beam.transform.BadFileError: Bad input file '
      "'/data/a.txt' (not_an_image): no signature. Fix or remove it, or set "
      "on_bad_image='skip' to skip and report bad files.\n\n"
      'During handling of the above exception, another exception occurred:\n'
      '\nTraceback (most recent call last):\n'
      '  File "apache_beam/runners/common.py", line 1501, in process\n'
      'image_example_gen.beam.transform.BadFileError: Bad input file '
      "'/data/a.txt' (not_an_image): no signature. Fix or remove it, or set "
      "on_bad_image='skip' to skip and report bad files. [while running "
      "'EncodeImages/ReadAndEncode/ParDo(_EncodeImagesDoFn)']\n")

  # In the command's language: the flag, not the keyword.
  assert errors.describe(worker_error) == (
      'Bad file /data/a.txt (not_an_image: no signature). Fix or remove it, '
      'or pass --on-bad-image skip to skip and report bad files.')
  assert errors.describe(KeyError('split')) == (
      "KeyError: 'split' (rerun with --debug for the traceback)")


# --- ingest ------------------------------------------------------------------


@pytest.mark.slow
def test_ingest_writes_what_the_component_writes(tmp_path, data_root,
                                                 ingested):
  out_dir, stdout, stderr = ingested
  pipeline_root = str(tmp_path / 'pipeline_root')
  tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline(
      pipeline_name='cli_parity', pipeline_root=pipeline_root,
      components=[ImageExampleGen(input_base=data_root)],
      metadata_connection_config=(
          tfx.orchestration.metadata.sqlite_metadata_connection_config(
              str(tmp_path / 'metadata.db')))))
  [component_dir] = glob.glob(
      os.path.join(pipeline_root, 'ImageExampleGen', 'examples', '*'))

  records = _records(out_dir)
  assert sorted(records) == ['eval', 'train']
  assert records == _records(component_dir)
  assert sum(sum(counter.values()) for counter in records.values()) == 7
  report = _report(out_dir)
  component_report = _report(component_dir)
  assert report == component_report
  assert report.skipped_per_reason == {'corrupt': 1, 'hidden': 1,
                                       'not_an_image': 1}
  assert stdout.splitlines() == report.summary_lines() + [
      f'Wrote Split-train, Split-eval and ingest_report.json to {out_dir}']
  # Not a terminal: the progress lines the executor logs reach stderr.
  assert 'Ingest progress: 10 of 10 files (100%)' in stderr


@pytest.mark.slow
def test_options_reach_the_config(tmp_path, data_root, ingested):
  out_dir = str(tmp_path / 'out')
  shutil.copytree(ingested[0], out_dir)  # An earlier, uncompressed ingest.

  assert cli.main([
      'ingest', data_root, '--out', out_dir, '--overwrite', '--compression',
      'gzip', '--validation', 'structure', '--class-names', 'ant,bee,cow,dog'
  ]) == 0

  shards = glob.glob(os.path.join(out_dir, 'Split-*', '*'))
  assert shards and all(path.endswith('.gz') for path in shards)
  vocabulary = ['ant', 'bee', 'cow', 'dog']
  assert _report(out_dir).class_names == tuple(vocabulary)
  examples = [
      example for split_dir in _split_dirs(out_dir)
      for example in example_reader.read_split(split_dir)]
  labels = {example_reader.feature_value(example, 'image/class/text').decode():
            example_reader.feature_value(example, 'image/class/label')
            for example in examples}
  assert labels == {'ant': 0, 'bee': 1, 'cow': 2}
  # 'structure' keeps the JPEG whose scan data only 'decode' finds damaged.
  assert 'bee/damaged.jpg' in example_reader.by_filename(examples)


@pytest.mark.slow
def test_input_splits_are_kept(make_tree, tmp_path):
  root = make_tree({
      'train/ant/a1.jpg': image_factory.jpeg(),
      'train/bee/b1.png': image_factory.png(),
      'eval/ant/a2.gif': image_factory.gif(),
  })
  out_dir = str(tmp_path / 'out')
  assert cli.main(['ingest', root, '--out', out_dir, '--input-split',
                   'train=train/*', '--input-split', 'eval=eval/*']) == 0

  assert {split: sorted(example_reader.by_filename(
              example_reader.read_split(
                  os.path.join(out_dir, f'Split-{split}'))))
          for split in ('train', 'eval')} == {
              'train': ['train/ant/a1.jpg', 'train/bee/b1.png'],
              'eval': ['eval/ant/a2.gif']}
  assert [os.path.basename(path) for path in _split_dirs(out_dir)] == [
      'Split-eval', 'Split-train']


def _run_watching_workers(command, cwd):
  """(CompletedProcess, pids of Beam worker processes seen while it ran)."""
  workers = set()
  with tempfile.TemporaryFile('w+') as stdout, tempfile.TemporaryFile(
      'w+') as stderr:
    child = subprocess.Popen(
        command, cwd=cwd, stdout=stdout, stderr=stderr, text=True, env=_ENV)
    try:
      while child.poll() is None:
        for process in psutil.Process(child.pid).children(recursive=True):
          try:
            if 'sdk_worker_main' in ' '.join(process.cmdline()):
              workers.add(process.pid)
          except psutil.Error:
            pass  # Gone meanwhile.
        time.sleep(0.1)
    finally:
      if child.poll() is None:
        child.kill()
        child.wait()
    stdout.seek(0)
    stderr.seek(0)
    result = subprocess.CompletedProcess(command, child.returncode,
                                         stdout.read(), stderr.read())
  return result, workers


@pytest.mark.slow
def test_ingest_with_beam_worker_processes(tmp_path, data_root, ingested):
  result, workers = _run_watching_workers(
      [sys.executable, '-m', 'image_example_gen', 'ingest', data_root,
       '--out', 'out', '--beam-pipeline-args',
       '--direct_running_mode=multi_processing', '--direct_num_workers=2'],
      cwd=tmp_path)

  assert result.returncode == 0, result.stderr
  assert len(workers) >= 2  # In-process there is none.
  assert _records(str(tmp_path / 'out')) == _records(ingested[0])
  assert result.stdout == ingested[1].replace(ingested[0],
                                              str(tmp_path / 'out'))
  assert 'Ingest progress: 10 of 10 files (100%)' in result.stderr
  assert 'Traceback' not in result.stderr


def test_bad_beam_option_is_a_usage_error(capsys, tmp_path, data_root):
  assert cli.main(['ingest', data_root, '--out', str(tmp_path / 'out'),
                   '--beam-pipeline-args', '--direct_num_workers=two']) == 2
  assert capsys.readouterr().err == (
      f'{ERROR}argument --beam-pipeline-args: argument --direct_num_workers: '
      "invalid int value: 'two'\n")


# --- inspect -----------------------------------------------------------------


def test_inspect_prints_the_inspection(capsys, tmp_path, ingested):
  out_dir = ingested[0]
  pictures = str(tmp_path / 'pictures')
  assert cli.main(['inspect', out_dir, '--split', 'train', '--samples', '2',
                   '--out', pictures]) == 0

  assert capsys.readouterr().out.splitlines() == inspection.inspect(
      out_dir, split='train', out_dir=pictures, samples_per_class=2)
  assert os.path.isfile(os.path.join(pictures, 'index.html'))


def test_inspect_samples_default_is_the_inspection_default():
  default = inspect_lib.signature(inspection.inspect).parameters[
      'samples_per_class'].default
  assert inspect_command.DEFAULT_SAMPLES == default


# --- the command line itself -------------------------------------------------


def test_help_is_fast_and_offers_every_ingest_option(tmp_path):
  # --help must not load TensorFlow (seconds): run it and look.
  result = subprocess.run(
      [sys.executable, '-c',
       'import sys; from image_example_gen import cli; '
       'status = cli.main(["ingest", "--help"]); '
       'print("tensorflow loaded:", "tensorflow" in sys.modules); '
       'sys.exit(status)'],
      cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_ENV)

  assert result.returncode == 0, result.stderr
  assert result.stdout.endswith('tensorflow loaded: False\n')
  usage = ' '.join(result.stdout.split())
  for field in dataclasses.fields(config_lib.IngestConfig):
    assert '--' + field.name.replace('_', '-') in usage, field.name
  # The help of each flag is its field's entry in IngestConfig's docstring.
  assert ('--max-bad-fraction X Fail the run (publishing nothing) when more '
          'than this fraction of the files found is skipped. None means no '
          'limit. (default: None)') in usage
  assert ('--class-names A,B,... The class vocabulary; label i is '
          'class_names[i]. None (the default) uses the sorted class names '
          'found across all input splits (class folders, or the metadata\'s '
          'label names).') in usage
  for option in ('labels', 'on_bad_image', 'compression', 'validation'):
    flag = '--' + option.replace('_', '-')
    # pylint: disable-next=protected-access
    choices = ','.join(config_lib._CHOICES[option])
    assert f'{flag} {{{choices}}}' in usage


def test_flags_parse_to_the_config_types(tmp_path):
  args = cli.build_parser().parse_args([
      'ingest', str(tmp_path), '--out', str(tmp_path), '--class-names',
      'b, a', '--max-bad-fraction', '0.25', '--gzip-level', '1',
      '--max-pixels', '1_000_000'])
  assert config_flags.config_from_args(args) == config_lib.IngestConfig(
      class_names=('b', 'a'), max_bad_fraction=0.25, gzip_level=1,
      max_pixels=1_000_000)


def test_progress_bar_draws_snapshots():
  stream = io.StringIO()
  with progress_bar.ProgressBar(stream) as bar:
    bar(progress.Snapshot(files=0, total_files=8, bytes=0, total_bytes=4 << 20,
                          skipped=0, elapsed_s=0.5))
    bar(progress.Snapshot(files=4, total_files=8, bytes=2 << 20,
                          total_bytes=4 << 20, skipped=1, elapsed_s=2.0))

  drawn = stream.getvalue()
  assert ' 0/8 files' in drawn and 'time left unknown' in drawn
  assert ' 4/8 files' in drawn
  assert '1.0 MB/s, 2 images/s, 1 skipped, 2 s left' in drawn


@pytest.mark.slow
def test_installed_console_script_ingests_and_inspects(make_tree, tmp_path):
  """The `image-example-gen` script pip installed (not `python -m`)."""
  script = os.path.join(os.path.dirname(sys.executable), 'image-example-gen')
  assert os.path.exists(script), 'install the package: make install'
  root = make_tree({f'c{i % 2}/{i}.png': image_factory.png(size=(9 + i, 9))
                    for i in range(6)})
  out = str(tmp_path / 'examples')

  ingest = subprocess.run([script, 'ingest', root, '--out', out],
                          capture_output=True, text=True, timeout=300,
                          env=_ENV)
  inspect = subprocess.run([script, 'inspect', out], capture_output=True,
                           text=True, timeout=120, env=_ENV)

  assert ingest.returncode == 0, ingest.stderr[-2000:]
  assert 'Ingested 6 images' in ingest.stdout
  assert inspect.returncode == 0, inspect.stderr[-2000:]
  assert re.search(r'classes: c0 \d+, c1 \d+', inspect.stdout), inspect.stdout
