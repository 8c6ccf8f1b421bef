"""Tests of the manifest: the launcher writes it, the workers read batches."""

from image_example_gen.beam import manifest
from image_example_gen.core import plan
from image_example_gen.core.config import IngestConfig
from image_example_gen.core.discovery import InputSplit
import image_factory


def test_batches_aim_at_64_of_at_most_100_files_and_cap_their_number():
  assert manifest.batch_size(1) == 1
  assert manifest.batch_size(640) == 10  # 64 batches.
  assert manifest.batch_size(1_000_000) == 100  # 10,000 batches.
  assert manifest.batch_size(10_000_000) == 100  # 100,000 batches.
  # Beyond, batches grow: the job graph holds at most 100,000 ranges.
  assert manifest.batch_size(100_000_000) == 1000
  assert -(-100_000_001 // manifest.batch_size(100_000_001)) <= (
      manifest.MAX_BATCHES)


def test_every_planned_file_is_read_back_once_in_the_plans_order(
    make_tree, tmp_path):
  root = make_tree({f'{kind}/{index}.jpg': image_factory.jpeg(size=(8, 8))
                    for kind in ('cat', 'dog') for index in range(150)})
  staging = tmp_path / 'staging'
  staging.mkdir()
  with plan.plan_files(root, [InputSplit('train', '*')],
                       IngestConfig()) as planned:
    staged = manifest.stage(planned, str(staging))
    expected = list(planned.files())

  assert (staged.total_files, len(staged.batches)) == (300, 60)  # 5 each.
  read = [source for batch in staged.batches
          for source in manifest.read_range(batch)]
  fields = lambda source: (source.path, source.relative_path, source.label,
                           source.class_name, source.size)
  assert list(map(fields, read)) == list(map(fields, expected))
  assert len(set(map(fields, read))) == 300
  assert staged.class_names == ('cat', 'dog')


def test_batch_table_gives_back_every_range_by_number():
  ranges = [manifest.ManifestRange('/staging/a/files.jsonl', 0, 1800),
            manifest.ManifestRange('/staging/a/files.jsonl', 1800, 2 ** 40),
            manifest.ManifestRange('gs://bucket/b/files.jsonl', 7, 9)]
  table = manifest.BatchTable(ranges)
  assert len(table) == 3
  assert [table[number] for number in range(len(table))] == ranges
  assert all(isinstance(value, int) for value in
             (table[1].start, table[1].end))
  assert len(manifest.BatchTable([])) == 0
