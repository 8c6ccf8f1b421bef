"""The sample pipelines' command lines (issue 17): the flags of `ingest`,
errors in one line, quiet runs, and nothing heavy loaded for `--help`.

The commands run as the README runs them, `python -m pipelines.<name>`, in a
subprocess: what matters is what a user sees, and what the process loads
before it answers (`-X importtime`).
"""

import json
import os
import re

import pytest

from image_example_gen.cli import parsing
from image_example_gen.core import config as config_lib
from pipelines import command_line
from pipelines import image_pipeline
from pipelines import train_pipeline
import image_factory
import import_probe
import paths

_COMMANDS = ('image_pipeline', 'train_pipeline')
# Modules --help and the argument and path errors must not load.
_HEAVY = {'tensorflow', 'tfx', 'apache_beam', 'tensorflow_model_analysis'}
# A line TensorFlow's C++ logging writes ("2026-01-01 00:00:00.000000: E ...").
_TF_LOG_LINE = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] ')


def _run(command, *args, cwd, timeout=120):
  """(CompletedProcess, top-level modules loaded, stderr without the
  importtime lines) of `python -X importtime -m pipelines.<command> ARGS`."""
  return import_probe.run_module(
      f'pipelines.{command}', *args, cwd=cwd, timeout=timeout,
      env=dict(os.environ, PYTHONPATH=command_line.REPO_ROOT))


def _prog(command):
  return f'python -m pipelines.{command}'


@pytest.mark.parametrize('command', _COMMANDS)
def test_help_loads_neither_tensorflow_tfx_nor_beam(tmp_path, command):
  result, loaded, stderr = _run(command, '--help', cwd=tmp_path)

  assert result.returncode == 0, stderr
  assert not loaded & _HEAVY, loaded & _HEAVY
  assert stderr == []
  usage = ' '.join(result.stdout.split())
  for flag in ('--split NAME=WEIGHT,...', '--input-split NAME=PATTERN',
               '--stratify | --no-stratify', '--class-names A,B,...',
               '--labels {folder,metadata,none}', '--on-bad-image {skip,fail}',
               '--metadata-file TEXT', '--split-key {content,path,near_duplicate}',
               '--near-duplicates', '--near-duplicate-threshold N',
               '--max-side N', '--version', '--verbose'):
    assert flag in usage, flag


@pytest.mark.parametrize('command', _COMMANDS)
def test_version(tmp_path, command):
  result, loaded, _ = _run(command, '--version', cwd=tmp_path)

  assert result.returncode == 0
  assert result.stdout == (
      f'{_prog(command)} (image_example_gen {parsing.version()})\n')
  assert not loaded & _HEAVY


@pytest.mark.parametrize('command', _COMMANDS)
@pytest.mark.parametrize('args, status, message', [
    (['--data-root', 'missing'], 1, '--data-root {root}/missing does not '
     'exist'),
    (['--data-root', 'empty'], 1, '--data-root has no files: {root}/empty'),
    (['--data-root', 'images', '--input-split', 'train=train/*',
      '--input-split', 'eval=eval/*'], 1,
     '--input-split train=train/* matched no files under {root}/images'),
    (['--on-bad-imag', 'fail'], 2, 'unrecognized arguments: --on-bad-imag '
     'fail (did you mean --on-bad-image?)'),
    (['--split', 'train=8', '--input-split', 'train=a/*', '--input-split',
      'eval=b/*'], 2,
     '--split hashes one input split into output splits, but --input-split '
     'gives 2 (train, eval), which are kept as the output splits; drop '
     '--split, or give one --input-split'),
    (['--split', 'train=0.8,eval=0.2'], 2,
     "argument --split: the weight of split train is '0.8'; expected a whole "
     'number of 1 or more (e.g. train=8,eval=2)'),
    (['--max-bad-fraction', '2'], 2,
     'argument --max-bad-fraction: invalid value 2.0; expected a fraction '
     'between 0 and 1'),
])
def test_argument_and_path_errors_are_one_line_before_tfx_loads(
    tmp_path, command, args, status, message):
  (tmp_path / 'empty' / 'class').mkdir(parents=True)
  (tmp_path / 'images' / 'cat').mkdir(parents=True)
  (tmp_path / 'images' / 'cat' / 'a.png').write_bytes(image_factory.png())

  result, loaded, stderr = _run(command, *args, '--pipeline-root', 'root',
                                '--metadata-path', 'm.db', cwd=tmp_path)

  assert result.returncode == status
  assert stderr == [f'{_prog(command)}: error: '
                    f'{message.format(root=tmp_path)}']
  assert result.stdout == ''
  assert not loaded & _HEAVY, loaded & _HEAVY
  assert not (tmp_path / 'root').exists()


def test_training_needs_a_train_and_an_eval_split(capsys):
  with pytest.raises(SystemExit) as raised:
    train_pipeline._parse_args(['--split', 'train=8,test=2'])  # pylint: disable=protected-access

  assert raised.value.code == 2
  assert capsys.readouterr().err == (
      'python -m pipelines.train_pipeline: error: the Trainer trains on a '
      'train split and the Evaluator evaluates on an eval split; --split '
      'gives train, test, without eval\n')


def test_flags_reach_image_example_gen():
  args = image_pipeline._parse_args([  # pylint: disable=protected-access
      '--split', 'train=8,eval=1,test=1', '--no-stratify', '--class-names',
      'flower,garden,pagoda', '--split-key', 'path', '--max-side', '64'])
  pipeline = image_pipeline.create_pipeline(
      'p', '/tmp/root', '/data', '/tmp/metadata.db',
      input_splits=args.input_splits,
      output_config=command_line.output_config(args.split),
      config=args.config)
  example_gen = pipeline.components[0]

  assert json.loads(example_gen.exec_properties['output_config']) == {
      'split_config': {'splits': [
          {'name': 'train', 'hash_buckets': 8},
          {'name': 'eval', 'hash_buckets': 1},
          {'name': 'test', 'hash_buckets': 1}]}}
  config = config_lib.IngestConfig.from_json(
      example_gen.exec_properties[config_lib.INGEST_CONFIG_KEY])
  assert config == config_lib.IngestConfig(
      stratify=False, class_names=('flower', 'garden', 'pagoda'),
      split_key='path', max_side=64)


def test_defaults_leave_the_component_defaults():
  args = train_pipeline._parse_args([])  # pylint: disable=protected-access
  assert args.split is None
  assert command_line.output_config(args.split) is None
  assert args.config == config_lib.IngestConfig()
  assert command_line.output_split_names(args) == ['train', 'eval']


def test_trainer_module_is_not_packaged_by_the_command():
  """TFX would build and pip-install a wheel of pipelines/ for the Trainer
  (setuptools output, seconds); the command's Trainer imports its file."""
  args = train_pipeline._parse_args([])  # pylint: disable=protected-access
  with train_pipeline._trainer_module_not_packaged():  # pylint: disable=protected-access
    pipeline = train_pipeline.create_pipeline(
        'p', '/tmp/root', args.data_root, '/tmp/metadata.db', '/tmp/serving')
  packaged = train_pipeline.create_pipeline(
      'p', '/tmp/root', args.data_root, '/tmp/metadata.db', '/tmp/serving')

  def trainer(built):
    [component] = [component for component in built.components
                   if component.id == 'Trainer']
    return component

  assert not trainer(pipeline)._pip_dependencies  # pylint: disable=protected-access
  assert trainer(packaged)._pip_dependencies  # pylint: disable=protected-access
  assert 'UNSUPPORTED_DO_NOT_PACKAGE_USER_MODULES' not in os.environ


def _foreign_lines(text):
  """Lines a default run must not print: TensorFlow's C++ logs, absl's and
  TensorFlow's Python warnings, FutureWarnings, setuptools and pip."""
  return [line for line in text.splitlines()
          if _TF_LOG_LINE.match(line) or re.search(
              r'WARNING:absl|WARNING:tensorflow|Warning:|warnings\.warn|'
              r'running bdist_wheel|Successfully installed|cuda|cuDNN', line)]


@pytest.mark.slow
def test_default_run_prints_only_the_projects_lines(tmp_path):
  result, _, stderr = _run(
      'image_pipeline', '--pipeline-root', str(tmp_path / 'root'),
      '--metadata-path', str(tmp_path / 'm.db'), cwd=tmp_path, timeout=900)

  assert result.returncode == 0, '\n'.join(stderr[-30:])
  assert _foreign_lines(result.stdout + '\n'.join(stderr)) == []
  assert 'ExampleValidator anomalies: train: 0, eval: 0' in result.stdout
  # Its own log lines are plain, not `INFO:image_example_gen...`.
  assert stderr and all(not line.startswith('INFO:') for line in stderr)


@pytest.mark.slow
@pytest.mark.parametrize('args, message', [
    (['--on-bad-image', 'fail'],
     r'Bad file .*/testdata/images/\S+ \((corrupt|not_an_image): .*\)\. Fix '
     r'or remove it, or pass --on-bad-image skip to skip and report bad '
     r'files\.'),
    (['--class-names', 'flower,garden'],
     r'--class-names flower,garden leaves out the class folder pagoda under '
     r'.*/testdata/images; .*'),
    (['--max-bad-fraction', '0.1'],
     r'\d+ of \d+ files are bad \(\d+\.\d%\), over --max-bad-fraction 0\.1: '
     r'corrupt \d+, not_an_image \d+ \(README\.txt, .*\)\. 2 hidden files '
     r'skipped too, not counted as bad\. Nothing was published; .*'),
])
def test_pipeline_failures_are_one_line_in_flags(tmp_path, args, message):
  result, _, stderr = _run(
      'image_pipeline', '--data-root', str(paths.TESTDATA / 'images'),
      '--pipeline-root', str(tmp_path / 'root'), '--metadata-path',
      str(tmp_path / 'm.db'), *args, cwd=tmp_path, timeout=900)

  assert result.returncode == 1
  errors = [line for line in stderr if 'error' in line.lower()]
  assert len(errors) == 1 and errors == stderr[-1:], stderr
  assert re.fullmatch(
      re.escape('python -m pipelines.image_pipeline: error: ') + message,
      stderr[-1]), stderr[-1]
  assert 'Traceback' not in result.stderr
