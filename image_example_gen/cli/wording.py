"""Errors in the command line's language: its flags, the files, no Python.

The ingest engine and IngestConfig speak Python: `on_bad_image='skip'`,
`input_config patterns`, lists and dicts in their messages. The commands
(`image-example-gen`, the sample pipelines) show the same errors as a user
typed the command: `--on-bad-image skip`, the data root's flag, the files by
name (up to `MAX_FILES_SHOWN`, then "and N more" and where the full list is),
and counts that add up.

- `IngestError` and `BadFileError` (raised by the engine) are phrased from
  their attributes: the report of the refused run, the option, the file;
- any other message is translated: `option=value` -> `--option value`, a bare
  option name -> its flag, `input_base` -> the data root, lists and dicts ->
  plain enumerations; and a few known messages are rephrased whole
  (`in_flags`).

This module imports neither Beam nor TensorFlow; it recognizes the engine's
exceptions only if their modules are loaded (an error cannot come from a
module that never loaded).
"""

import ast
import dataclasses
import re
import sys
from typing import Any, Dict, List, Optional, Sequence

from image_example_gen.core import config as config_lib
from image_example_gen.core.ingest_report import counted
from image_example_gen.core import reasons

__all__ = [
    'FLAGS', 'MAX_FILES_SHOWN', 'Context', 'describe_known', 'flag_of',
    'in_flags', 'name_files'
]

# Files an error names inline before "and N more".
MAX_FILES_SHOWN = 10

# {IngestConfig field: its command-line flag}, as config_flags generates them.
FLAGS: Dict[str, str] = {
    field.name: '--' + field.name.replace('_', '-')
    for field in dataclasses.fields(config_lib.IngestConfig)
}


def flag_of(field: str) -> str:
  """The flag of an IngestConfig field: 'on_bad_image' -> '--on-bad-image'."""
  return FLAGS[field]


@dataclasses.dataclass(frozen=True)
class Context:
  """What the command calls things.

  Attributes:
    data_root: How the command names its data folder ('DATA_ROOT', the
      positional argument of `ingest`, or '--data-root').
    skipped_list: Where the full list of a refused run's skipped files was
      written, if it was.
  """
  data_root: str = 'DATA_ROOT'
  skipped_list: Optional[str] = None


def describe_known(error: BaseException,
                   context: Context = Context()) -> Optional[str]:
  """The engine's IngestError and BadFileError in the command's language;
  None for any other error."""
  engine = sys.modules.get('image_example_gen.beam.engine')
  if engine is not None and isinstance(error, engine.IngestError):
    return _ingest_error(error, context)
  transform = sys.modules.get('image_example_gen.beam.transform')
  if (transform is not None and isinstance(error, transform.BadFileError) and
      error.path is not None):
    return _bad_file(error.path, error.reason, error.detail)
  return None


def name_files(paths: Sequence[str], total: Optional[int] = None,
               full_list: Optional[str] = None) -> str:
  """'a.jpg, b.png and 3 more, listed in /out/skipped.jsonl'."""
  total = len(paths) if total is None else total
  shown = list(paths[:MAX_FILES_SHOWN])
  text = ', '.join(shown)
  rest = total - len(shown)
  if rest > 0:
    text += f' and {rest} more'
    if full_list:
      text += f', listed in {full_list}'
  return text


def in_flags(message: str, context: Context = Context()) -> str:
  """A message of the engine or of IngestConfig, in flags (module doc)."""
  for pattern, rephrase in _REPHRASED:
    match = pattern.search(message)
    if match:
      return rephrase(match, context)
  return _translate(message, context)


# --- the engine's exceptions ---------------------------------------------------


def _ingest_error(error, context: Context) -> str:
  report = error.report
  if report is None:
    return in_flags(str(error), context)
  # The report counts every skipped file; its list may hold only the first
  # of each input split and reason (the full list: context.skipped_list).
  if error.option == 'max_bad_fraction':
    return _too_many_bad(error, report, context)
  split = error.input_split
  if split is not None:
    skipped = [entry for entry in report.skipped
               if entry.get('split') == split.name]
    per_reason = report.skipped_per_reason_in(split.name)
    where = (f'--input-split {split.name}={split.pattern} matched no usable '
             f'image under {report.input_base}')
  else:
    skipped = list(report.skipped)
    per_reason = report.skipped_per_reason
    where = f'No usable image in {context.data_root} {report.input_base}'
  total = sum(per_reason.values())
  if not total:
    return where + '.'
  return (f'{where}: {counted(total, "file")} skipped '
          f'({_per_reason(per_reason)}): '
          f'{_files_with_reasons(skipped, total, context.skipped_list)}.')


def _too_many_bad(error, report, context: Context) -> str:
  # As IngestReport.bad_files counts them: hidden files are skipped, not bad.
  per_reason = {reason: count
                for reason, count in report.skipped_per_reason.items()
                if reason != reasons.HIDDEN}
  hidden = report.skipped_per_reason.get(reasons.HIDDEN, 0)
  seen = report.total_examples + report.bad_files
  files = name_files([entry['relative_path'] for entry in report.skipped
                      if entry['reason'] != reasons.HIDDEN],
                     report.bad_files, full_list=context.skipped_list)
  line = (f'{report.bad_files} of {seen} files are bad '
          f'({report.bad_fraction:.1%}), over {flag_of("max_bad_fraction")} '
          f'{error.option_value}: {_per_reason(per_reason)} ({files}).')
  if hidden:
    line += (f' {counted(hidden, "hidden file")} skipped too, not counted '
             'as bad.')
  return line + (' Nothing was published; fix or remove the bad files, or '
                 f'raise {flag_of("max_bad_fraction")}.')


def _bad_file(path: str, reason: Optional[str],
              detail: Optional[str]) -> str:
  what = f'{reason}: {detail}' if detail else (reason or 'bad')
  return (f'Bad file {path} ({what}). Fix or remove it, or pass '
          f'{flag_of("on_bad_image")} skip to skip and report bad files.')


def _per_reason(counts: Dict[str, int]) -> str:
  return ', '.join(f'{reason} {count}'
                   for reason, count in sorted(counts.items()))


def _files_with_reasons(entries: Sequence[Dict[str, Any]], total: int,
                        full_list: Optional[str]) -> str:
  return name_files(
      [f'{entry["relative_path"]} ({entry["reason"]})' for entry in entries],
      total, full_list)


# --- messages rephrased whole ------------------------------------------------


def _no_files(match: 're.Match', context: Context) -> str:
  base, split, pattern = match.group('base', 'split', 'pattern')
  if split == 'single_split' and pattern == '*':
    return f'{context.data_root} has no files: {base}'
  return f'--input-split {split}={pattern} matched no files under {base}'


def _class_folders(match: 're.Match', context: Context) -> str:
  del context  # The message names the folder.
  folders = _items(match.group('folders'))
  names = ','.join(_items(match.group('names')))
  one = len(folders) == 1
  return (f'--class-names {names} leaves out the class '
          f'{"folder" if one else "folders"} {", ".join(folders)} under '
          f'{match.group("base")}; add {"it" if one else "them"} to '
          '--class-names, drop --class-names to take the folders as they '
          f'are, or leave {"it" if one else "them"} out with --input-split '
          'patterns.')


def _bad_file_text(match: 're.Match', context: Context) -> str:
  del context
  return _bad_file(match.group('path'), match.group('reason'),
                   match.group('detail'))


_REPHRASED = (
    (re.compile(r"Input pattern '(?P<pattern>[^']*)' of split "
                r"'(?P<split>[^']*)' matched no files under "
                r"'(?P<base>[^']*)'"), _no_files),
    (re.compile(r"Class folder\(s\) (?P<folders>\[.*?\]) under "
                r"'(?P<base>.*?)' are not in class_names "
                r"(?P<names>\[.*?\])"), _class_folders),
    (re.compile(r"Bad input file '(?P<path>.*?)' \((?P<reason>\w+)\): "
                r"(?P<detail>.*?)\. Fix or remove it"), _bad_file_text),
)


# --- word by word -------------------------------------------------------------

# A Python value in a message: a quoted string, a number, True/False/None.
_VALUE = r"(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\d+(?:\.\d+)?(?:e-?\d+)?|True|False|None)"
# Not inside a path or a longer name: '/data/class_names/a.jpg' stays.
_WORD_START = r'(?<![\w/.\\-])'
_WORD_END = r'(?![\w/\\-]|\.\w)'
_OPTION_VALUE = re.compile(
    _WORD_START + r'(?P<field>' + '|'.join(sorted(FLAGS, key=len, reverse=True))
    + r')=(?P<value>' + _VALUE + ')')
# Option names that cannot be mistaken for English words.
_BARE_FIELDS = re.compile(
    _WORD_START + r'(' + '|'.join(sorted((name for name in FLAGS if '_' in name),
                                         key=len, reverse=True)) + r')'
    + _WORD_END)
_LIST = re.compile(r"\[(?:" + _VALUE + r"(?:, " + _VALUE + r")*)?\]")
_DICT = re.compile(r"\{(?:" + _VALUE + r": " + _VALUE + r"(?:, " + _VALUE +
                   r": " + _VALUE + r")*)?\}")
_NONE_CLAUSE = re.compile(r',? or None\b[^.;]*|; pass None to [^.;]*')
_INVALID = re.compile(r'^Invalid (?P<flag>--[\w-]+) (?P<value>.*?); '
                      r'expected (?P<expected>.*?)\.?$')


def _translate(message: str, context: Context) -> str:
  text = _NONE_CLAUSE.sub('', message)
  text = _OPTION_VALUE.sub(_option_value, text)
  text = _BARE_FIELDS.sub(lambda match: FLAGS[match.group(1)], text)
  text = _DICT.sub(lambda match: _plain_dict(match.group(0)), text)
  text = _LIST.sub(lambda match: _plain_list(match.group(0)), text)
  text = re.sub(r'\bthe input_config patterns\b', 'the --input-split patterns',
                text)
  text = re.sub(r'\binput_config\b', '--input-split', text)
  text = re.sub(_WORD_START + r"input_base '([^']*)'",
                lambda match: f'{context.data_root} {match.group(1)}', text)
  text = re.sub(_WORD_START + 'input_base' + _WORD_END,
                lambda match: context.data_root, text)
  invalid = _INVALID.match(text)
  if invalid:
    return (f'argument {invalid.group("flag")}: invalid value '
            f'{invalid.group("value")}; expected {invalid.group("expected")}')
  return text


def _option_value(match: 're.Match') -> str:
  field, value = match.group('field', 'value')
  flag = FLAGS[field]
  if value == 'True':
    return flag
  if value == 'False':
    return '--no-' + flag[2:]
  if value == 'None':
    return f'no {flag}'
  python_value = _literal(value)
  if isinstance(python_value, str) and re.fullmatch(r'[\w.,/-]+',
                                                    python_value):
    return f'{flag} {python_value}'
  return f'{flag} {value}'


def _literal(text: str) -> Any:
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text


def _items(text: str) -> List[str]:
  value = _literal(text)
  if isinstance(value, (list, tuple)):
    return [str(item) for item in value]
  return [text]


def _plain_list(text: str) -> str:
  return ', '.join(_items(text)) or 'none'


def _plain_dict(text: str) -> str:
  value = _literal(text)
  if not isinstance(value, dict):
    return text
  return ', '.join(f'{key}: {item}' for key, item in value.items()) or 'none'
