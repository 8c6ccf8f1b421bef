"""The ingest report: what was ingested per split and class, what was skipped.

The engine writes it as `ingest_report.json` at the root of the Examples
artifact (see core/artifact.py for the files and where they go), with the
complete list of skipped files in `skipped.jsonl` beside it: the JSON report
keeps the counts and the first `REPORT_EXAMPLES_PER_REASON` files of each
reason, so that it stays readable at a million files. `summary_lines()` is the
human-readable summary the engine logs and the commands print.
"""

import collections
import dataclasses
import json
import posixpath
from typing import Any, Dict, Iterable, List, Sequence, Tuple

from image_example_gen.core import reasons

__all__ = ['REPORT_FILE_NAME', 'SKIPPED_FILE_NAME', 'IngestReport',
           'build_report']

REPORT_FILE_NAME = 'ingest_report.json'
SKIPPED_FILE_NAME = 'skipped.jsonl'
# Skipped files per reason that the JSON report lists; all are in
# SKIPPED_FILE_NAME.
REPORT_EXAMPLES_PER_REASON = 100
# How many skipped files the summary names before "... and N more".
_SUMMARY_MAX_FILES = 20


@dataclasses.dataclass(frozen=True)
class IngestReport:
  """Counts and skipped files of one ingest.

  Attributes:
    input_base: The ingested folder.
    class_names: The class vocabulary; label i is class_names[i].
    examples: {output split: {class name ('' if unlabeled): count}}.
    skipped: One dict per skipped file: relative_path (to input_base), split
      (the input split), reason (one of `reasons`) and detail; sorted by path.
    duplicates: One dict per group of ingested files with identical bytes:
      sha256, size, files (relative paths), splits (output splits) and
      class_names (more than one: a labelling error); sorted by first file.
    multi_label: Whether images have several labels each.
    prepared: {action: {source format: count}}: the images transcoded,
      turned upright and downscaled (core.publish), per source format.
  """
  input_base: str
  class_names: Tuple[str, ...]
  examples: Dict[str, Dict[str, int]]
  skipped: Tuple[Dict[str, str], ...]
  duplicates: Tuple[Dict[str, Any], ...] = ()
  multi_label: bool = False
  prepared: Dict[str, Dict[str, int]] = dataclasses.field(default_factory=dict)

  @property
  def examples_per_split(self) -> Dict[str, int]:
    return {split: sum(by_class.values())
            for split, by_class in self.examples.items()}

  @property
  def total_examples(self) -> int:
    return sum(self.examples_per_split.values())

  @property
  def skipped_per_reason(self) -> Dict[str, int]:
    counts = collections.Counter(entry['reason'] for entry in self.skipped)
    return dict(sorted(counts.items()))

  @property
  def redundant_copies(self) -> int:
    """Ingested files that repeat another's bytes (all copies but one)."""
    return sum(len(group['files']) - 1 for group in self.duplicates)

  @property
  def conflicting_duplicates(self) -> Tuple[Dict[str, Any], ...]:
    """Duplicate groups whose copies carry different labels."""
    return tuple(group for group in self.duplicates
                 if len(group['class_names']) > 1)

  @property
  def bad_files(self) -> int:
    """Skipped files other than hidden ones, which are expected noise."""
    return sum(1 for entry in self.skipped
               if entry['reason'] != reasons.HIDDEN)

  @property
  def bad_fraction(self) -> float:
    seen = self.total_examples + self.bad_files
    return self.bad_files / seen if seen else 0.0

  def to_json(self) -> str:
    return json.dumps(
        {
            'input_base': self.input_base,
            'class_names': list(self.class_names),
            'total_examples': self.total_examples,
            'examples_per_split': self.examples_per_split,
            'examples': self.examples,
            'total_skipped': len(self.skipped),
            'skipped_per_reason': self.skipped_per_reason,
            'skipped_file': SKIPPED_FILE_NAME,
            'skipped': self._first_skipped_per_reason(),
            'duplicate_groups': len(self.duplicates),
            'redundant_copies': self.redundant_copies,
            'duplicates': list(self.duplicates),
            'multi_label': self.multi_label,
            'prepared': self.prepared,
        },
        ensure_ascii=False, indent=1)

  def _first_skipped_per_reason(self) -> List[Dict[str, str]]:
    shown = collections.Counter()
    first = []
    for entry in self.skipped:
      shown[entry['reason']] += 1
      if shown[entry['reason']] <= REPORT_EXAMPLES_PER_REASON:
        first.append(entry)
    return first

  @classmethod
  def from_json(cls, text: str) -> 'IngestReport':
    return cls.from_dict(json.loads(text))

  @classmethod
  def from_dict(cls, values: Dict[str, Any]) -> 'IngestReport':
    """From the parsed JSON of `to_json`."""
    return cls(values['input_base'], tuple(values['class_names']),
               values['examples'], tuple(values['skipped']),
               tuple(values.get('duplicates', ())),
               bool(values.get('multi_label', False)),
               dict(values.get('prepared', {})))

  def custom_properties(self) -> Dict[str, int]:
    """Totals for the Examples artifact's MLMD custom properties."""
    properties = {
        'num_examples': self.total_examples,
        'num_skipped': len(self.skipped),
        'num_classes': len(self.class_names),
        'num_duplicate_groups': len(self.duplicates),
        'num_redundant_copies': self.redundant_copies,
        'num_duplicate_groups_with_different_labels': len(
            self.conflicting_duplicates),
    }
    for split, count in self.examples_per_split.items():
      properties[f'num_examples_{split}'] = count
    for reason, count in self.skipped_per_reason.items():
      properties[f'num_skipped_{reason}'] = count
    for action, by_format in self.prepared.items():
      properties[f'num_{action}'] = sum(by_format.values())
    return properties

  def summary_lines(self) -> List[str]:
    """A summary a person can read: counts per split and class, skips."""
    lines = [f'Ingested {self.total_examples} images from {self.input_base}']
    for split, by_class in self.examples.items():
      per_class = ', '.join(f'{name or "(unlabeled)"}: {count}'
                            for name, count in sorted(by_class.items()))
      lines.append(f'  {split}: {sum(by_class.values())} ({per_class})')
    lines += self.prepared_lines()
    lines += self.duplicate_lines()
    if not self.skipped:
      lines.append('Skipped no file.')
      return lines
    per_reason = ', '.join(
        f'{reason}: {count}' for reason, count in self.skipped_per_reason.items())
    lines.append(f'Skipped {len(self.skipped)} files ({per_reason}):')
    for entry in self.skipped[:_SUMMARY_MAX_FILES]:
      lines.append(f'  {entry["relative_path"]}: {entry["reason"]} '
                   f'({entry["detail"]})')
    if len(self.skipped) > _SUMMARY_MAX_FILES:
      lines.append(f'  ... and {len(self.skipped) - _SUMMARY_MAX_FILES} more, '
                   f'listed in {SKIPPED_FILE_NAME}')
    return lines


  def prepared_lines(self) -> List[str]:
    """What was done to publish images: none when all kept their bytes."""
    names = {'transcoded': 'Transcoded', 'rotated': 'Turned upright',
             'downscaled': 'Downscaled'}
    return [
        f'{names.get(action, action)}: {sum(by_format.values())} ('
        + ', '.join(f'{source}: {count}'
                    for source, count in by_format.items()) + ')'
        for action, by_format in self.prepared.items()
    ]

  def duplicate_lines(self) -> List[str]:
    """The duplicate groups for a person; none without duplicates."""
    if not self.duplicates:
      return []
    conflicting = self.conflicting_duplicates
    lines = [f'Duplicates: {len(self.duplicates)} groups of identical files, '
             f'{self.redundant_copies} redundant copies'
             + (f', {len(conflicting)} with different labels (a labelling '
                'error):' if conflicting else ':')]
    shown = sorted(self.duplicates,
                   key=lambda group: len(group['class_names']) < 2)
    for group in shown[:_SUMMARY_MAX_FILES]:
      labels = (f' labelled {" / ".join(group["class_names"])}'
                if len(group['class_names']) > 1 else '')
      lines.append(f'  {", ".join(group["files"])} ({group["size"]} bytes)'
                   f'{labels}')
    if len(shown) > _SUMMARY_MAX_FILES:
      lines.append(f'  ... and {len(shown) - _SUMMARY_MAX_FILES} more groups, '
                   f'listed in {REPORT_FILE_NAME}')
    return lines


def build_report(input_base: str, class_names: Sequence[str],
                 split_names: Sequence[str], skipped_lines: Iterable[str],
                 count_lines: Iterable[str],
                 duplicate_lines: Iterable[str] = (),
                 multi_label: bool = False,
                 prepared_lines: Iterable[str] = ()) -> IngestReport:
  """Builds the report from the pipeline's skipped and count outputs.

  Args:
    input_base: The ingested folder.
    class_names: The class vocabulary.
    split_names: The output splits, in order (each appears, even if empty).
    skipped_lines: JSON lines, one per skipped file.
    count_lines: JSON lines [[split, class_name], count].
    duplicate_lines: JSON lines, one per group of identical files.
  """
  examples: Dict[str, Dict[str, int]] = {name: {} for name in split_names}
  for line in count_lines:
    (split, class_name), count = json.loads(line)
    examples[split][class_name] = count
  examples = {split: dict(sorted(by_class.items()))
              for split, by_class in examples.items()}
  skipped = sorted((json.loads(line) for line in skipped_lines),
                   key=lambda entry: (entry['relative_path'], entry['split']))
  duplicates = sorted((json.loads(line) for line in duplicate_lines),
                      key=lambda group: group['files'])
  return IngestReport(
      posixpath.normpath(input_base) if '://' not in input_base else input_base,
      tuple(class_names), examples, tuple(skipped), tuple(duplicates),
      multi_label, _prepared(prepared_lines))


def _prepared(lines: Iterable[str]) -> Dict[str, Dict[str, int]]:
  """{action: {source format: count}} from [[action, format], count] lines."""
  prepared: Dict[str, Dict[str, int]] = {}
  for line in lines:
    (action, source_format), count = json.loads(line)
    prepared.setdefault(action, {})[source_format] = count
  return {action: dict(sorted(by_format.items()))
          for action, by_format in sorted(prepared.items())}
