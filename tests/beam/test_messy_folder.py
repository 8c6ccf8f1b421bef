"""A folder mixing good photos with every kind of bad file, through Executor.Do.

Checks each bad file's reason in the report and the counters, that every good
image (including the unusual but valid ones) is ingested once and unchanged,
and that the in-process and the two-worker-process runs agree.
"""

import glob
import io
import json
import os

from PIL import Image
from PIL import ImageOps
import numpy as np
import pytest
import tensorflow as tf
from tfx.proto import example_gen_pb2

from image_example_gen import IngestConfig
from image_example_gen.core import artifact
from file_tree import write_tree
from ingest_runner import ingest_folder
import example_reader
import image_factory

_MULTI_PROCESS_ARGS = ['--direct_running_mode=multi_processing',
                       '--direct_num_workers=2']


def _exif_rotated_jpeg() -> bytes:
  exif = Image.Exif()
  exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display.
  return image_factory.jpeg(size=(48, 20), exif=exif.tobytes())


def _good_files():
  return {
      'photos/a.jpg': image_factory.jpeg(size=(64, 48)),
      'photos/gray.jpg': image_factory.jpeg('L'),
      'photos/cmyk.jpg': image_factory.jpeg('CMYK'),
      'photos/progressive.jpg': image_factory.jpeg(progressive=True),
      'photos/UPPER.JPEG': image_factory.jpeg(size=(31, 17)),
      'photos/really_a_png.jpg': image_factory.png(),
      'graphics/la.png': image_factory.png('LA'),
      'graphics/rgba.png': image_factory.png('RGBA'),
      'graphics/palette_alpha.png': image_factory.png_with_transparency('P'),
      'graphics/deep16.png': image_factory.png('I;16'),
      'graphics/anim.gif': image_factory.animated_gif(size=(36, 24)),
      'graphics/b.bmp': image_factory.bmp(),
  }


def _prepared_files():
  """{relative path: bytes} of files published as other bytes: a TIFF
  (transcoded) and a JPEG with EXIF orientation 6 (turned upright)."""
  tiff = io.BytesIO()
  image_factory.crop().save(tiff, 'TIFF')
  return {
      'graphics/scan.tif': tiff.getvalue(),
      'photos/exif_rotated.jpg': _exif_rotated_jpeg(),
  }


def _bad_files():
  """{relative path: (bytes, expected reason)} of files to write."""
  bomb = image_factory.png_with_declared_size(image_factory.png(), 40000, 40000)
  return {
      'README.txt': (b'About these photos', 'not_an_image'),
      'photos/truncated.jpg': (image_factory.jpeg(size=(64, 64))[:700],
                               'corrupt'),
      'photos/empty.jpg': (b'', 'corrupt'),
      'graphics/cut.png': (image_factory.png(size=(64, 64))[:200], 'corrupt'),
      'graphics/bomb.png': (bomb, 'too_large'),
      'graphics/huge_file.jpg': (image_factory.jpeg(size=(400, 400)),
                                 'too_large'),
      'photos/.DS_Store': (b'\x00\x00\x00\x01Bud1', 'hidden'),
  }


def _make_messy_folder(tmp_path):
  root = str(tmp_path / 'data')
  good = _good_files()
  bad = _bad_files()
  write_tree(root, {**good, **_prepared_files(),
                    **{path: data for path, (data, _) in bad.items()}})
  expected_reasons = {path: reason for path, (_, reason) in bad.items()}
  outside = write_tree(str(tmp_path / 'outside'),
                       {'secret.jpg': image_factory.jpeg()})
  links = {
      'photos/link_out.jpg': (os.path.join(outside, 'secret.jpg'),
                              'outside_root'),
      'graphics/dir_out': (outside, 'outside_root'),
      'photos/loop': (os.path.join(root, 'photos'), 'outside_root'),
      'photos/dangling.jpg': (os.path.join(root, 'nowhere.jpg'), 'unreadable'),
  }
  for path, (target, reason) in links.items():
    os.symlink(target, os.path.join(root, path))
    expected_reasons[path] = reason
  # A link that stays inside input_base is followed.
  os.symlink(os.path.join(root, 'photos', 'a.jpg'),
             os.path.join(root, 'graphics', 'alias.jpg'))
  good['graphics/alias.jpg'] = good['photos/a.jpg']
  return root, good, expected_reasons


def _ingest(root, output_dir, beam_pipeline_args=None):
  examples = ingest_folder(root, output_dir, IngestConfig(max_file_bytes=10_000),
                          beam_pipeline_args=beam_pipeline_args)
  written = {}
  for split in ('train', 'eval'):
    for example in example_reader.read_split(
        os.path.join(output_dir, f'Split-{split}')):
      value = lambda key, example=example: example_reader.feature_value(
          example, key)
      written[value('image/filename').decode()] = (
          split, value('image/encoded'), value('image/height'),
          value('image/width'), value('image/channels'),
          value('image/class/text').decode())
  report = artifact.read_report_dict(output_dir)
  return written, report, examples


@pytest.fixture(name='messy_folder', scope='module')
def messy_folder_fixture(tmp_path_factory):
  tmp_path = tmp_path_factory.mktemp('messy')
  root, good, reasons = _make_messy_folder(tmp_path)
  in_process = _ingest(root, str(tmp_path / 'in_process'))
  two_workers = _ingest(root, str(tmp_path / 'two_workers'),
                        _MULTI_PROCESS_ARGS)
  return good, reasons, in_process, two_workers


@pytest.mark.slow
def test_every_good_image_is_ingested_once_and_unchanged(messy_folder):
  good, _, (written, _, _), _ = messy_folder
  assert sorted(written) == sorted([*good, *_prepared_files()])
  for path, data in good.items():
    split, encoded, height, width, channels, class_name = written[path]
    assert encoded == data
    assert class_name == path.split('/')[0]
    shape = tf.io.decode_image(data, expand_animations=False).shape
    assert [height, width, channels] == shape.as_list(), path


@pytest.mark.slow
def test_tiff_and_rotated_jpeg_are_published_as_a_viewer_shows_them(
    messy_folder):
  _, _, (written, report, _), _ = messy_folder
  for path, data in _prepared_files().items():
    _, encoded, height, width, channels, _ = written[path]
    shown = np.asarray(
        ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert('RGB'),
        dtype=np.int16)
    decoded = tf.io.decode_image(encoded, channels=3,
                                 expand_animations=False).numpy()
    assert [height, width] == list(shown.shape[:2]) == list(
        decoded.shape[:2]), path
    assert np.abs(decoded.astype(np.int16) - shown).mean() < 4, path
  assert report['prepared'] == {'rotated': {'jpeg': 1},
                                'transcoded': {'tiff': 1}}


def test_every_bad_file_is_reported_with_its_reason(messy_folder):
  _, reasons, (_, report, examples), _ = messy_folder
  assert {entry['relative_path']: entry['reason']
          for entry in report['skipped']} == reasons
  assert all(entry['detail'] for entry in report['skipped'])
  for reason in set(reasons.values()):
    count = sum(1 for expected in reasons.values() if expected == reason)
    assert examples.get_int_custom_property(f'num_skipped_{reason}') == count
  assert examples.get_int_custom_property('num_skipped') == len(reasons)


def test_nothing_outside_input_base_is_ingested(messy_folder):
  _, _, (written, _, _), _ = messy_folder
  assert not any('secret' in path or 'dir_out' in path for path in written)


def test_two_worker_processes_give_the_same_result(messy_folder):
  _, _, (written, report, _), (written_2, report_2, _) = messy_folder
  assert written_2 == written
  assert report_2 == report


@pytest.mark.slow
def test_failed_gate_leaves_no_split_files(tmp_path):
  root, _, _ = _make_messy_folder(tmp_path)
  output_dir = str(tmp_path / 'out')
  with pytest.raises(ValueError, match='max_bad_fraction=0.1'):
    ingest_folder(root, output_dir, IngestConfig(max_bad_fraction=0.1))
  assert not glob.glob(os.path.join(output_dir, 'Split-*'))


@pytest.mark.slow
def test_on_bad_image_fail_leaves_no_split_files(tmp_path):
  root = write_tree(str(tmp_path / 'data'), {
      'c/good.jpg': image_factory.jpeg(),
      'c/broken.png': image_factory.png()[:100],
  })
  output_dir = str(tmp_path / 'out')
  input_config = example_gen_pb2.Input(
      splits=[example_gen_pb2.Input.Split(name='all', pattern='*')])
  with pytest.raises(Exception, match=r"broken\.png' \(corrupt\)"):
    ingest_folder(root, output_dir, IngestConfig(on_bad_image='fail'),
                 input_config, example_gen_pb2.Output())
  assert not glob.glob(os.path.join(output_dir, 'Split-*'))
