"""Errors in the command's language (issue 17): flags, files, one line.

The engine and IngestConfig speak Python (`on_bad_image='skip'`, lists and
dicts); the commands name the flags and the files, with counts that add up
(cli.wording). Also: flags are never abbreviated, `--version`, `--split`,
and `--help` loads neither TensorFlow, TFX nor Beam.
"""

import argparse
import importlib.metadata
import json
import os

import pytest

from image_example_gen import cli
from image_example_gen.beam import engine
from image_example_gen.beam import transform
from image_example_gen.cli import errors
from image_example_gen.cli import split_flags
from image_example_gen.cli import wording
from image_example_gen.core import config as config_lib
from image_example_gen.core import discovery
from image_example_gen.core import ingest_report
from file_tree import write_tree
import import_probe
import image_factory

ERROR = 'image-example-gen: error: '
_VERSION = importlib.metadata.version('image_example_gen')
# Modules --help and the argument and path errors must not load.
_HEAVY = ('tensorflow', 'tfx', 'apache_beam')


def _run(*args, cwd):
  """`python -m image_example_gen ARGS`, the real entry point, with
  -X importtime so that the modules it loaded can be read off stderr."""
  return import_probe.run_module('image_example_gen', *args, cwd=cwd)


def _report(skipped, examples=None):
  return ingest_report.IngestReport(
      '/data', ('cat', 'dog'), examples or {'train': {'cat': 1}, 'eval': {}},
      tuple(skipped))


def _skipped(path, reason, split='single_split'):
  return {'relative_path': path, 'split': split, 'reason': reason,
          'detail': 'detail'}


# --- the command line ----------------------------------------------------------


@pytest.mark.parametrize('args', [
    ['--help'], ['ingest', '--help'], ['inspect', '--help'], ['--version']])
def test_help_and_version_load_neither_tensorflow_tfx_nor_beam(tmp_path, args):
  result, loaded, _ = _run(*args, cwd=tmp_path)

  assert result.returncode == 0, result.stderr
  assert not loaded & set(_HEAVY), loaded & set(_HEAVY)


def test_version_is_the_installed_distribution(capsys):
  assert cli.main(['--version']) == 0
  assert capsys.readouterr().out == f'image-example-gen {_VERSION}\n'


@pytest.mark.parametrize('args, message', [
    (['no_such_folder'], 'DATA_ROOT {root}/no_such_folder does not exist'),
    (['empty'], 'DATA_ROOT has no files: {root}/empty'),
    (['images', '--input-split', 'train=train/*'],
     '--input-split train=train/* matched no files under {root}/images'),
])
def test_path_errors_are_one_line_before_beam_loads(tmp_path, args, message):
  (tmp_path / 'empty' / 'class').mkdir(parents=True)
  write_tree(str(tmp_path / 'images'), {'cat/a.png': image_factory.png()})

  result, loaded, stderr = _run('ingest', *args, '--out', 'out',
                                cwd=tmp_path)

  assert result.returncode == 1
  assert stderr == [ERROR + message.format(root=tmp_path)]
  assert not loaded & set(_HEAVY), loaded & set(_HEAVY)
  assert not (tmp_path / 'out').exists()


def test_abbreviated_flags_are_refused_in_a_subprocess(tmp_path):
  write_tree(str(tmp_path / 'images'), {'cat/a.png': image_factory.png()})

  result, loaded, stderr = _run('ingest', 'images', '--out', 'out',
                                '--on-bad-imag', 'fail', cwd=tmp_path)

  assert result.returncode == 2
  assert stderr == [f'{ERROR}unrecognized arguments: --on-bad-imag fail '
                    '(did you mean --on-bad-image?)']
  assert not loaded & set(_HEAVY)


@pytest.mark.parametrize('flag', ['--out', '--overwrite', '--input-split',
                                  '--max-side', '--stratify', '--verbose'])
def test_no_flag_is_taken_for_its_abbreviation(tmp_path, flag):
  abbreviated = flag[:-1]
  with pytest.raises(errors.UsageError, match='unrecognized arguments'):
    cli.build_parser().parse_args(
        ['ingest', str(tmp_path), '--out', str(tmp_path), abbreviated, '1'])


def test_split_flag_parses_names_and_weights():
  assert split_flags.parse_split('train=8,eval=2') == [('train', 8),
                                                       ('eval', 2)]
  assert split_flags.parse_split('train=8, eval=1, test=1') == [
      ('train', 8), ('eval', 1), ('test', 1)]
  for text, message in (
      ('train', "'train' is not NAME=WEIGHT"),
      ('train=0.8,eval=0.2', "weight of split train is '0.8'"),
      ('train=0,eval=1', "weight of split train is '0'"),
      ('train=1,train=2', 'split train is given twice'),
      ('a/b=1', "split name 'a/b' may hold only"),
  ):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
      split_flags.parse_split(text)


def test_split_on_split_folders_is_refused(capsys, make_tree, tmp_path):
  # Split folders are read as splits and kept: --split would be ignored.
  root = make_tree({'train/cat/a.png': image_factory.png(),
                    'eval/cat/b.png': image_factory.png(size=(9, 9))})

  assert cli.main(['ingest', root, '--out', str(tmp_path / 'out'), '--split',
                   'train=8,eval=2']) == 2

  assert capsys.readouterr().err == (
      f'{ERROR}DATA_ROOT {root} holds split folders (eval, train), which are '
      'read as splits and kept, so --split has nothing to hash; drop --split, '
      'or hash one of them with --input-split eval=eval/*\n')
  assert not (tmp_path / 'out').exists()


def test_split_reaches_the_engine_as_hash_buckets(tmp_path, monkeypatch):
  write_tree(str(tmp_path / 'images'), {'cat/a.png': image_factory.png()})
  seen = {}

  def fake_run_ingest(input_base, output_uri, **kwargs):
    seen.update(kwargs, input_base=input_base)
    raise engine.IngestError('stop here')

  monkeypatch.setattr(engine, 'run_ingest', fake_run_ingest)
  cli.main(['ingest', str(tmp_path / 'images'), '--out', str(tmp_path / 'o'),
            '--split', 'train=8,eval=1,test=1', '--no-stratify'])

  assert seen['output_splits'] == (transform.HashBucketSplit('train', 8),
                                   transform.HashBucketSplit('eval', 1),
                                   transform.HashBucketSplit('test', 1))
  assert seen['config'].stratify is False
  cli.main(['ingest', str(tmp_path / 'images'), '--out', str(tmp_path / 'o')])
  # () is the engine's default for the input splits (TFX's): train:eval 2:1.
  assert seen['output_splits'] == ()
  assert seen['config'] == config_lib.IngestConfig()


# --- the engine's messages, in flags ---------------------------------------------


@pytest.mark.parametrize('message, expected', [
    ("Input pattern '*' of split 'single_split' matched no files under "
     "'/data'. Check input_base and the input_config patterns.",
     'DATA_ROOT has no files: /data'),
    ("Input pattern 'eval/*' of split 'eval' matched no files under "
     "'/data'. Check input_base and the input_config patterns.",
     '--input-split eval=eval/* matched no files under /data'),
    ("Class folder(s) ['pagoda'] under '/data' are not in class_names "
     "['flower', 'garden']. Add them to class_names, or narrow the "
     'input_config patterns to leave them out.',
     '--class-names flower,garden leaves out the class folder pagoda under '
     '/data; add it to --class-names, drop --class-names to take the '
     'folders as they are, or leave it out with --input-split patterns.'),
    ("Class folder(s) ['logos', 'pagoda'] under '/data' are not in "
     "class_names ['flower']. Add them to class_names, or narrow the "
     'input_config patterns to leave them out.',
     '--class-names flower leaves out the class folders logos, pagoda under '
     '/data; add them to --class-names, drop --class-names to take the '
     'folders as they are, or leave them out with --input-split patterns.'),
    ("Bad input file '/data/a.txt' (not_an_image): no signature. Fix or "
     "remove it, or set on_bad_image='skip' to skip and report bad files.",
     'Bad file /data/a.txt (not_an_image: no signature). Fix or remove it, '
     'or pass --on-bad-image skip to skip and report bad files.'),
    ("metadata_file 'labels.csv' does not exist (looked at "
     "'/data/labels.csv').",
     "--metadata-file 'labels.csv' does not exist (looked at "
     "'/data/labels.csv')."),
    ("labels='metadata', but there is no metadata.csv or metadata.jsonl in "
     "the split roots or at '/data'; add one, or name it with metadata_file.",
     '--labels metadata, but there is no metadata.csv or metadata.jsonl in '
     "the split roots or at '/data'; add one, or name it with "
     '--metadata-file.'),
    ('Invalid max_side=0; expected a positive number of pixels, or None to '
     'keep every size.',
     'argument --max-side: invalid value 0; expected a positive number of '
     'pixels'),
    ("class_names has duplicates: ['a'].", '--class-names has duplicates: a.'),
    # Paths stay as they are.
    ("/data/class_names/a.jpg: class_names is wrong (see input_base).",
     '/data/class_names/a.jpg: --class-names is wrong (see DATA_ROOT).'),
])
def test_messages_name_flags_not_keywords(message, expected):
  assert wording.in_flags(message) == expected


def test_pipeline_commands_name_their_data_root_flag():
  message = ("Input pattern '*' of split 'single_split' matched no files "
             "under '/data'. Check input_base and the input_config patterns.")
  assert wording.in_flags(message, wording.Context(data_root='--data-root')) \
      == '--data-root has no files: /data'


def test_no_python_repr_is_left():
  message = wording.in_flags(
      "No usable image under '/data' (patterns ['*']); skipped files per "
      "reason: {'corrupt': 1, 'not_an_image': 2}. See the log.")
  assert '[' not in message and '{' not in message, message
  assert 'corrupt: 1, not_an_image: 2' in message


def test_every_config_field_has_its_flag():
  parser = cli.build_parser()
  usage = parser._subparsers._group_actions[0].choices['ingest'].format_help()  # pylint: disable=protected-access
  for field, flag in wording.FLAGS.items():
    assert flag in usage, field


# --- IngestError and BadFileError, from what they carry ------------------------


def test_too_many_bad_files_counts_add_up_and_hidden_files_are_not_bad():
  skipped = ([_skipped(f'cat/bad{i:02}.jpg', 'corrupt') for i in range(12)] +
             [_skipped('dog/notes.txt', 'not_an_image'),
              _skipped('cat/.DS_Store', 'hidden'),
              _skipped('dog/.hidden.jpg', 'hidden')])
  report = _report(skipped, {'train': {'cat': 30}, 'eval': {'dog': 7}})
  error = engine.IngestError('...', report=report, option='max_bad_fraction',
                             option_value=0.1, output_uri='/out')

  line = errors.describe(error, wording.Context(
      skipped_list='/out/skipped.jsonl'))

  # 13 bad (12 + 1), 37 ingested: 13 of 50; the 2 hidden ones apart.
  assert line == (
      '13 of 50 files are bad (26.0%), over --max-bad-fraction 0.1: '
      'corrupt 12, not_an_image 1 (' +
      ', '.join(f'cat/bad{i:02}.jpg' for i in range(10)) +
      ' and 3 more, listed in /out/skipped.jsonl). 2 hidden files skipped '
      'too, not counted as bad. Nothing was published; fix or remove the bad '
      'files, or raise --max-bad-fraction.')


def test_no_usable_image_names_the_files():
  report = _report([_skipped('README.txt', 'not_an_image'),
                    _skipped('cat/a.jpg', 'corrupt')],
                   {'train': {}, 'eval': {}})
  error = engine.IngestError(
      "No usable image under '/data' (patterns ['*']); skipped files per "
      "reason: {'corrupt': 1, 'not_an_image': 1}. See the log for each file.",
      report=report, output_uri='/out')

  assert errors.describe(error) == (
      'No usable image in DATA_ROOT /data: 2 files skipped (corrupt 1, '
      'not_an_image 1): README.txt (not_an_image), cat/a.jpg (corrupt).')


def test_an_input_split_without_usable_image_names_its_files():
  report = _report([_skipped('train/a.txt', 'not_an_image', 'train'),
                    _skipped('eval/b.txt', 'not_an_image', 'eval')],
                   {'train': {}, 'eval': {'cat': 1}})
  error = engine.IngestError(
      '...', report=report,
      input_split=discovery.InputSplit('train', 'train/*'))

  assert errors.describe(error, wording.Context(data_root='--data-root')) == (
      '--input-split train=train/* matched no usable image under /data: '
      '1 file skipped (not_an_image 1): train/a.txt (not_an_image).')


def test_the_full_skip_list_is_named_when_the_line_cannot_name_them_all():
  skipped = [_skipped(f'cat/{i:02}.txt', 'not_an_image') for i in range(11)]
  error = engine.IngestError('...', report=_report(skipped),
                             output_uri='/out',
                             skipped_list='/out/skipped.jsonl')

  assert errors.skipped_list(error) == '/out/skipped.jsonl'
  few = engine.IngestError('...', report=_report(skipped[:10]),
                           output_uri='/few', skipped_list='/few/skipped.jsonl')
  assert errors.skipped_list(few) is None  # The line names them all.
  assert errors.skipped_list(ValueError('x')) is None


def test_counts_come_from_the_report_when_it_lists_only_the_first():
  """A streamed report keeps the first skipped files of each split and
  reason, and counts them all: the error counts them all, names the kept."""
  listed = [_skipped(f'cat/bad{i:03}.jpg', 'corrupt') for i in range(100)]
  report = ingest_report.IngestReport(
      '/data', ('cat',), {'train': {'cat': 100}, 'eval': {}}, tuple(listed),
      skipped_totals={'single_split': {'corrupt': 250, 'hidden': 3}})
  error = engine.IngestError('...', report=report, option='max_bad_fraction',
                             option_value=0.5, output_uri='/out',
                             skipped_list='/out/skipped.jsonl')

  line = errors.describe(error, wording.Context(
      skipped_list=errors.skipped_list(error)))

  assert line.startswith(
      '250 of 350 files are bad (71.4%), over --max-bad-fraction 0.5: '
      'corrupt 250 (cat/bad000.jpg, ')
  assert ('cat/bad009.jpg and 240 more, listed in /out/skipped.jsonl). '
          '3 hidden files skipped too') in line


def test_bad_file_error_keeps_its_attributes_through_beams_reraise():
  error = transform.BadFileError(
      "Bad input file '/data/a.txt' (not_an_image): no signature. Fix or "
      "remove it, or set on_bad_image='skip' to skip and report bad files.",
      '/data/a.txt', 'not_an_image', 'no signature')
  # What apache_beam.runners.common.DoFnRunner._reraise_augmented does.
  rebuilt = type(error)(error.args[0] + " [while running 'Step']",
                        *error.args[1:])

  assert (rebuilt.path, rebuilt.reason, rebuilt.detail) == (
      '/data/a.txt', 'not_an_image', 'no signature')
  assert str(rebuilt).endswith("bad files. [while running 'Step']")
  assert errors.describe(rebuilt) == (
      'Bad file /data/a.txt (not_an_image: no signature). Fix or remove it, '
      'or pass --on-bad-image skip to skip and report bad files.')


@pytest.mark.slow
def test_empty_split_and_no_usable_image_end_to_end(capsys, make_tree,
                                                    tmp_path):
  root = make_tree({
      'train/cat/a.png': image_factory.png(),
      'eval/cat/notes.txt': b'not an image',
  })
  out_dir = str(tmp_path / 'out')

  assert cli.main(['ingest', root, '--out', out_dir, '--input-split',
                   'train=train/*', '--input-split', 'eval=eval/*']) == 1

  lines = capsys.readouterr().err.splitlines()
  assert lines[-1] == (
      f'{ERROR}--input-split eval=eval/* matched no usable image under '
      f'{root}: 1 file skipped (not_an_image 1): eval/cat/notes.txt '
      '(not_an_image).')
  assert [line for line in lines if line.startswith(ERROR)] == lines[-1:]
  assert not os.path.exists(os.path.join(out_dir, 'Split-train'))
