"""The sample pipeline end to end under LocalDagRunner, on the bundled testdata.

Both compressions are read back by StatisticsGen and through the tf.data
factory TFX's Trainer uses, which pick the compression from the file names.

Expected counts come from testdata/MANIFEST.json, which testdata/make_testdata.py
writes beside the files it makes (each file's class and expected outcome).
"""

import collections
import glob
import json
import os

from ml_metadata import metadata_store
import pytest
import tensorflow as tf
from tfx import v1 as tfx
from tfx.components.util import tfxio_utils
from tfx.orchestration import metadata
from tfx.types import artifact_utils
from tfx.utils import io_utils
from tfx_bsl.public import tfxio

from image_example_gen.components import image_schema
from image_example_gen.core import artifact
from pipelines import image_pipeline
from pipelines import run_summary
import example_reader
import paths

# End-to-end: TFX pipelines and components on real data.
pytestmark = pytest.mark.slow

_TESTDATA = str(paths.TESTDATA)


def _manifest(prefix: str):
  with open(os.path.join(_TESTDATA, 'MANIFEST.json'), encoding='utf-8') as file:
    entries = json.load(file)
  return [dict(entry, path=entry['path'][len(prefix):])
          for entry in entries if entry['path'].startswith(prefix)]


def _store(metadata_path):
  return metadata_store.MetadataStore(
      metadata.sqlite_metadata_connection_config(metadata_path))


def _report(examples_artifact):
  return artifact.read_report(examples_artifact.uri)


def _read_like_trainer(store, pipeline_name, split):
  """{filename: (height, width, channels) decoded} of a split, read through
  the tf.data factory TFX's Trainer gives a run_fn (tfxio), with the schema
  SchemaGen inferred."""
  def latest(type_name):
    mlmd_artifact = run_summary.latest_artifact(store, pipeline_name, type_name)
    artifact_type = store.get_artifact_types_by_id([mlmd_artifact.type_id])[0]
    return artifact_utils.deserialize_artifact(artifact_type, mlmd_artifact)

  examples, schema = latest('Examples'), latest('Schema')
  dataset_factory = tfxio_utils.get_tf_dataset_factory_from_artifact(
      [examples], [])
  dataset = dataset_factory(
      [os.path.join(examples.uri, f'Split-{split}', '*')],
      tfxio.TensorFlowDatasetOptions(batch_size=4, num_epochs=1),
      io_utils.SchemaReader().read(os.path.join(schema.uri, 'schema.pbtxt')))
  decoded = {}
  for batch in dataset:
    values = {key: tensor.values if isinstance(tensor, tf.SparseTensor)
              else tf.reshape(tensor, [-1]) for key, tensor in batch.items()}
    for filename, encoded in zip(values['image/filename'].numpy(),
                                 values['image/encoded'].numpy()):
      image = tf.io.decode_image(encoded, expand_animations=False)
      decoded[filename.decode()] = image.shape.as_list()
  return decoded


@pytest.mark.parametrize('compression', ['gzip', 'none'])
def test_sample_pipeline_on_testdata(tmp_path, capsys, compression):
  metadata_path = str(tmp_path / 'metadata.db')
  image_pipeline.main([
      '--data-root', os.path.join(_TESTDATA, 'images'),
      '--pipeline-root', str(tmp_path / 'root'),
      '--metadata-path', metadata_path,
      '--compression', compression,
  ])
  entries = _manifest('images/')
  good = [entry for entry in entries
          if entry['expected'] in ('ok', 'transcoded')]
  bad = [entry for entry in entries
         if entry['expected'] not in ('ok', 'transcoded')]

  store = _store(metadata_path)
  examples = run_summary.latest_artifact(store, 'image_pipeline', 'Examples')
  report = _report(examples)
  assert report.total_examples == len(good)
  assert sorted((entry['relative_path'], entry['reason'])
                for entry in report.skipped) == sorted(
                    (entry['path'], entry['expected']) for entry in bad)
  totals = examples.custom_properties  # As published in ML Metadata.
  assert totals['num_examples'].int_value == len(good)
  assert totals['num_skipped'].int_value == len(bad)
  assert totals['num_skipped_corrupt'].int_value == sum(
      1 for entry in bad if entry['expected'] == 'corrupt')
  per_class = collections.Counter(entry['class'] for entry in good)
  ingested_per_class = collections.Counter()
  for by_class in report.examples.values():
    ingested_per_class.update(by_class)
  assert ingested_per_class == per_class

  statistics = run_summary.latest_artifact(store, 'image_pipeline',
                                           'ExampleStatistics')
  statistics_counts = run_summary.statistics_example_counts(statistics)
  assert statistics_counts == report.examples_per_split
  assert set(statistics_counts) == {'train', 'eval'}
  # SchemaGen inferred the image schema from the statistics.
  schema_artifact = run_summary.latest_artifact(store, 'image_pipeline',
                                                'Schema')
  schema = io_utils.SchemaReader().read(
      os.path.join(schema_artifact.uri, 'schema.pbtxt'))
  assert image_schema.domain_info_by_feature(schema) == (
      image_schema.domain_info_by_feature(
          image_schema.image_schema(report.class_names)))

  shards = glob.glob(os.path.join(examples.uri, 'Split-*', '*'))
  assert all(path.endswith('.gz') == (compression == 'gzip') for path in shards)
  read_back = {}
  for split in ('train', 'eval'):
    read_back.update(_read_like_trainer(store, 'image_pipeline', split))
  assert read_back == {entry['path']: [entry['height'], entry['width'],
                                       entry['channels']] for entry in good}

  printed = capsys.readouterr().out
  assert f'Ingested {len(good)} images' in printed
  assert 'StatisticsGen example counts: train: ' in printed
  assert 'ExampleValidator anomalies: train: 0, eval: 0' in printed
  for entry in bad:
    assert entry['path'] in printed


def test_presplit_pipeline_with_two_worker_processes(tmp_path):
  """multi_processing DirectRunner: workers import the package, not __main__."""
  metadata_path = str(tmp_path / 'metadata.db')
  pipeline = image_pipeline.create_pipeline(
      'presplit', str(tmp_path / 'root'), os.path.join(_TESTDATA, 'presplit'),
      metadata_path,
      ['--direct_running_mode=multi_processing', '--direct_num_workers=2'],
      input_splits={'train': 'train/*', 'eval': 'eval/*'})
  tfx.orchestration.LocalDagRunner().run(pipeline)

  store = _store(metadata_path)
  examples = run_summary.latest_artifact(store, 'presplit', 'Examples')
  entries = _manifest('presplit/')
  vocabulary = sorted({entry['class'] for entry in entries})
  assert vocabulary == ['flower', 'garden', 'pagoda']
  for split in ('train', 'eval'):
    written = example_reader.by_filename(
        example_reader.read_split(os.path.join(examples.uri, f'Split-{split}')))
    expected = {entry['path']: entry for entry in entries
                if entry['path'].startswith(split + '/')}
    assert sorted(written) == sorted(expected)
    for path, entry in expected.items():
      value = lambda key, path=path: example_reader.feature_value(
          written[path], key)
      assert value('image/class/label') == vocabulary.index(entry['class'])
      with open(os.path.join(_TESTDATA, 'presplit', path), 'rb') as file:
        assert value('image/encoded') == file.read()
      assert [value('image/height'), value('image/width'),
              value('image/channels')] == [entry['height'], entry['width'],
                                           entry['channels']]
  statistics = run_summary.latest_artifact(store, 'presplit',
                                           'ExampleStatistics')
  assert run_summary.statistics_example_counts(statistics) == {
      'train': sum(1 for entry in entries if entry['path'].startswith('train/')),
      'eval': sum(1 for entry in entries if entry['path'].startswith('eval/')),
  }
