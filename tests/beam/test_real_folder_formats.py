"""A phone-and-web folder, ingested with default options, comes out as a viewer
shows it (issue 14's folder): WebP, TIFF, AVIF, HEIC, JPEG 2000 and JPEGs with
each EXIF orientation, each published as one Example that `tf.io.decode_image`
decodes to the upright picture, and plain files with their own bytes.
"""

import io

from PIL import Image
from PIL import ImageOps
import numpy as np
import pytest
import tensorflow as tf

import example_reader
import format_factory
import image_factory
from image_example_gen import IngestConfig
from image_example_gen import run_ingest
from image_example_gen.core import artifact
from image_example_gen.core import discovery

# Mean absolute difference, in levels of 0-255, between what TensorFlow
# decodes and what Pillow shows for the source: lossy re-encoding (JPEG q95)
# plus TensorFlow's faster JPEG IDCT. Lossless outputs must match exactly.
_TOLERANCE = 4.0


def _folder():
  files = {f'web/{name}.img': data
           for name, data in format_factory.new_format_files().items()}
  for orientation in range(1, 9):
    files[f'phone/oriented_{orientation}.jpg'] = format_factory.oriented_jpeg(
        orientation)
  files['phone/oriented_6.heic'] = format_factory.oriented_heic(6)
  files['phone/plain.jpg'] = image_factory.jpeg(size=(64, 48))
  files['web/plain.png'] = image_factory.png(mode='RGBA')
  files['web/plain.gif'] = image_factory.gif()
  files['web/plain.bmp'] = image_factory.bmp()
  return files


def _viewer_pixels(data: bytes) -> np.ndarray:
  """What a photo viewer shows: Pillow, EXIF orientation applied, RGB.

  16-bit gray is shown by its high byte (Pillow's own convert would clip
  every level above 255 to white).
  """
  with Image.open(io.BytesIO(data)) as image:
    image.load()
    image = ImageOps.exif_transpose(image)
    if image.mode.startswith('I;16'):
      levels = (np.asarray(image, dtype=np.uint16) >> 8).astype(np.uint8)
      image = Image.fromarray(levels)
    return np.asarray(image.convert('RGB'), dtype=np.int16)


def _ingest(tmp_path, files, **options):
  root = tmp_path / 'data'
  for relative, data in files.items():
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
  uri = str(tmp_path / 'examples')
  report = run_ingest(str(root), uri,
                      input_splits=[discovery.InputSplit('all', '*')],
                      output_splits=None, config=IngestConfig(**options))
  examples = {
      example_reader.feature_value(example, artifact.FILENAME).decode():
      example for example in example_reader.read_split(
          artifact.split_dir(uri, 'all'))}
  return report, examples


@pytest.mark.slow
def test_every_file_is_published_upright_and_decodable(tmp_path):
  files = _folder()
  report, examples = _ingest(tmp_path, files)

  assert not report.skipped
  assert sorted(examples) == sorted(files)
  for path, data in files.items():
    example = examples[path]
    value = lambda key, example=example: example_reader.feature_value(
        example, key)
    encoded = value(artifact.ENCODED)
    decoded = tf.io.decode_image(encoded, channels=3,
                                 expand_animations=False).numpy()
    shown = _viewer_pixels(data)
    assert decoded.shape[:2] == shown.shape[:2], path
    assert [value(artifact.HEIGHT), value(artifact.WIDTH)] == list(
        decoded.shape[:2]), path
    difference = np.abs(decoded.astype(np.int16) - shown).mean()
    assert difference <= _TOLERANCE, (path, difference)
    if path.startswith('web/plain') or path in ('phone/plain.jpg',
                                                'phone/oriented_1.jpg'):
      assert encoded == data, path  # Nothing needed: the file's own bytes.
    else:
      assert encoded != data, path
      # No orientation left for a tag-aware reader to apply again.
      with Image.open(io.BytesIO(encoded)) as published:
        assert published.getexif().get(0x0112, 1) == 1, path
  sources = {path: examples[path].features.feature[
      artifact.SOURCE_FORMAT].bytes_list.value[0].decode() for path in files}
  assert sources['web/webp_lossy.img'] == 'webp'
  assert sources['phone/oriented_6.heic'] == 'heif'
  assert report.prepared['rotated']['jpeg'] == 7
  assert sum(report.prepared['transcoded'].values()) == len(
      format_factory.new_format_files()) + 1  # and the HEIC from the phone


@pytest.mark.slow
def test_options_off_keep_pixels_and_skip_other_formats(tmp_path):
  files = {'phone/oriented_6.jpg': format_factory.oriented_jpeg(6),
           'web/lossy.webp': format_factory.new_format_files()['webp_lossy']}
  report, examples = _ingest(tmp_path, files, transcode=False, upright=False)

  assert examples['phone/oriented_6.jpg'].features.feature[
      artifact.ENCODED].bytes_list.value[0] == files['phone/oriented_6.jpg']
  assert [(entry['relative_path'], entry['reason'])
          for entry in report.skipped] == [('web/lossy.webp',
                                            'unsupported_format')]


@pytest.mark.slow
def test_max_side_fits_every_image_keeping_its_aspect_ratio(tmp_path):
  files = {'big.jpg': image_factory.jpeg(size=(400, 300)),
           'tall.png': image_factory.png(size=(90, 260)),
           'small.gif': image_factory.gif(size=(60, 40))}
  report, examples = _ingest(tmp_path, files, max_side=128, labels='none')

  sizes = {}
  for path, example in examples.items():
    value = lambda key, example=example: example_reader.feature_value(
        example, key)
    decoded = tf.io.decode_image(value(artifact.ENCODED),
                                 expand_animations=False)
    sizes[path] = (tuple(decoded.shape[:2]), value(artifact.ORIGINAL_HEIGHT),
                   value(artifact.ORIGINAL_WIDTH))
  assert sizes == {'big.jpg': ((96, 128), 300, 400),
                   'tall.png': ((128, 44), 260, 90),
                   'small.gif': ((40, 60), 40, 60)}
  assert examples['small.gif'].features.feature[
      artifact.ENCODED].bytes_list.value[0] == files['small.gif']
  assert report.prepared == {'downscaled': {'jpeg': 1, 'png': 1}}
