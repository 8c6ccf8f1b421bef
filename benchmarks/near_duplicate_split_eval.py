"""Near-duplicate-aware splits, measured end to end on the evaluation set.

    .venv/bin/python -m benchmarks.near_duplicate_split_eval [--json OUT]

Writes the evaluation set of benchmarks/near_duplicate_eval.py (128 base
photos cut from scikit-learn's two photos, 19 variants each: resized,
re-encoded, PNG, cropped 2-5%, brightness-shifted, mirrored; 2,560 images)
as an image folder, one class per source photo, and ingests it with the
engine (`run_ingest`, in-process DirectRunner, train:eval 2:1, stratified)
twice: with the default split_key='content' and with
split_key='near_duplicate'. For each it reads every Example back and reports:

- per variant kind, the share of variants that land in their base photo's
  split;
- the families (a base and its 18 non-mirror variants) wholly in one split;
- the base photos per split against the 2:1 proportions;
- the report's near-duplicate groups and the groups straddling splits;
- the ingest's seconds.
"""

import argparse
import collections
import json
import os
import tempfile
import time
from typing import Dict, List, Tuple

import tensorflow as tf

from benchmarks import near_duplicate_eval
from image_example_gen import IngestConfig
from image_example_gen import run_ingest
from image_example_gen.beam import transform
from image_example_gen.core import artifact

_SPLITS = (transform.HashBucketSplit('train', 2),
           transform.HashBucketSplit('eval', 1))


def _kind(name: str) -> str:
  """The variant kind of near_duplicate_eval's variant name."""
  for prefix, kind in (('resize0.5x', 'resize'), ('resize2x', 'resize'),
                       ('resize', 'resize other'), ('jpeg', 're-encode'),
                       ('png', 'PNG'), ('crop', 'crop'), ('bright', 'brightness'),
                       ('shift', 'brightness'), ('mirror', 'mirror'),
                       ('base', 'base')):
    if name.startswith(prefix):
      return kind
  raise ValueError(name)


def write_folder(root: str) -> List[Tuple[int, str, str]]:
  """Writes the evaluation set; returns (family, kind, relative path)."""
  bases, items = near_duplicate_eval.build_set()
  written = []
  for family, name, data in items:
    class_name = f'photo{bases[family]["photo"]}'
    path = f'{class_name}/f{family:03d}_{name}.{"png" if name == "png" else "jpg"}'
    os.makedirs(os.path.join(root, class_name), exist_ok=True)
    with open(os.path.join(root, path), 'wb') as file:
      file.write(data)
    written.append((family, _kind(name), path))
  return written


def _splits_of_files(output_dir: str, split_names) -> Dict[str, str]:
  found = {}
  for split in split_names:
    shards = tf.io.gfile.glob(artifact.split_dir(output_dir, split) + '/*')
    for record in tf.data.TFRecordDataset(shards):
      example = tf.train.Example.FromString(record.numpy())
      name = example.features.feature[
          artifact.FILENAME].bytes_list.value[0].decode()
      found[name] = split
  return found


def evaluate(root: str, written, split_key: str, work_dir: str) -> Dict:
  output_dir = os.path.join(work_dir, f'examples_{split_key}')
  start = time.perf_counter()
  report = run_ingest(root, output_dir, output_splits=_SPLITS,
                      config=IngestConfig(split_key=split_key))
  seconds = time.perf_counter() - start
  split_of = _splits_of_files(output_dir, report.examples)
  base_split = {family: split_of[path]
                for family, kind, path in written if kind == 'base'}
  with_base = collections.Counter()
  per_kind = collections.Counter()
  family_splits = collections.defaultdict(set)
  for family, kind, path in written:
    if kind == 'base':
      family_splits[family].add(split_of[path])
      continue
    per_kind[kind] += 1
    with_base[kind] += split_of[path] == base_split[family]
    if kind != 'mirror':
      family_splits[family].add(split_of[path])
  bases_per_split = collections.Counter(base_split.values())
  return {
      'split_key': split_key,
      'seconds': round(seconds, 1),
      'images': report.total_examples,
      'with_base_split': {kind: round(with_base[kind] / per_kind[kind], 3)
                          for kind in sorted(per_kind)},
      'families_in_one_split': sum(
          len(splits) == 1 for splits in family_splits.values()),
      'families': len(family_splits),
      'base_photos_per_split': dict(bases_per_split),
      'near_duplicate_groups': report.near_duplicate_groups,
      'groups_straddling_splits':
          report.near_duplicate_groups_straddling_splits,
      'groups_spanning_labels': report.near_duplicate_groups_spanning_labels,
      'largest_group': max((len(group['files'])
                            for group in report.near_duplicates), default=0),
  }


def _print(results: List[Dict]) -> None:
  kinds = list(results[0]['with_base_split'])
  print('split_key | seconds | ' + ' | '.join(kinds) +
        ' | families whole | base photos train/eval | groups | straddling')
  for result in results:
    per_split = result['base_photos_per_split']
    print(f'{result["split_key"]} | {result["seconds"]} | ' + ' | '.join(
        f'{result["with_base_split"][kind]:.3f}' for kind in kinds) +
          f' | {result["families_in_one_split"]}/{result["families"]} | '
          f'{per_split.get("train", 0)}/{per_split.get("eval", 0)} | '
          f'{result["near_duplicate_groups"]} | '
          f'{result["groups_straddling_splits"]}')


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--json', help='Write the figures to this file.')
  args = parser.parse_args(argv)
  with tempfile.TemporaryDirectory(prefix='near_duplicate_split_') as work:
    root = os.path.join(work, 'images')
    written = write_folder(root)
    results = [evaluate(root, written, key, work)
               for key in ('content', 'near_duplicate')]
  _print(results)
  if args.json:
    with open(args.json, 'w') as file:
      json.dump(results, file, indent=1)


if __name__ == '__main__':
  main()
