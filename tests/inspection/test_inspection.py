"""image_example_gen.inspection on a real artifact written by Executor.Do."""

import base64
import hashlib
import html.parser
import io
import json
import os
import random
import shutil

from matplotlib import text as mpl_text
import numpy as np
from PIL import Image
import pytest
import tensorflow as tf
from tfx.orchestration.experimental.interactive import visualizations
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts

from image_example_gen import IngestConfig
from image_example_gen.core import artifact as artifact_lib
from image_example_gen.core import example_encoder
from image_example_gen.core import image_probe
from image_example_gen.inspection import charts
from image_example_gen.inspection import contact_sheet
from image_example_gen.inspection import find_examples
from image_example_gen.inspection import inspect
from image_example_gen.inspection import InspectionError
from image_example_gen.inspection import notebook
from image_example_gen.inspection import records
from image_example_gen.inspection import sampling
from image_example_gen.inspection import statistics
from image_example_gen.inspection import thumbnails
from image_example_gen.inspection.inspector import collect
from file_tree import write_tree
from ingest_runner import ingest_folder
import image_factory

_VOCABULARY = ['cat', 'dog', 'owl']
# Good images: {relative path: (format, (height, width))}; 'owl' has no eval
# image, so its eval row is empty.
_IMAGES = {
    'train/cat/a.jpg': ('jpeg', (30, 40)),
    'train/cat/b.png': ('png', (50, 20)),
    'train/cat/c.gif': ('gif', (30, 40)),
    'train/dog/d.bmp': ('bmp', (14, 25)),
    'train/dog/e.jpg': ('jpeg', (120, 160)),
    'train/owl/f.png': ('png', (22, 22)),
    'eval/cat/g.png': ('png', (29, 17)),
    'eval/dog/h.jpg': ('jpeg', (10, 50)),
}
_BAD = {
    'train/cat/notes.txt': b'not an image',
    'train/dog/cut.jpg': image_factory.jpeg()[:200],
    'eval/dog/.DS_Store': b'\0\0\0\1Bud1',
}


def _image(path, image_format, height_width):
  size = height_width[::-1]
  if path.endswith('b.png'):
    return image_factory.png('RGBA', size=size)
  if path.endswith('f.png'):
    return image_factory.png('P', size=size)
  if path.endswith('g.png'):
    return image_factory.png('I;16', size=size)
  if image_format == 'gif':
    return image_factory.animated_gif(size=size)
  if image_format == 'bmp':
    return image_factory.bmp(size=size)
  return image_factory.jpeg(size=size)


@pytest.fixture(name='files', scope='module')
def files_fixture():
  files = {path: _image(path, image_format, size)
           for path, (image_format, size) in _IMAGES.items()}
  return {**files, **_BAD}


@pytest.fixture(name='artifact', scope='module')
def artifact_fixture(tmp_path_factory, files):
  """A gzip-compressed artifact of the presplit tree: its folder."""
  root = write_tree(str(tmp_path_factory.mktemp('tree')), files)
  input_config = example_gen_pb2.Input(splits=[
      example_gen_pb2.Input.Split(name='train', pattern='train/*'),
      example_gen_pb2.Input.Split(name='eval', pattern='eval/*'),
  ])
  out = str(tmp_path_factory.mktemp('artifact') / 'examples')
  ingest_folder(root, out, IngestConfig(compression='gzip'),
               input_config=input_config)
  return out


@pytest.fixture(name='report', scope='module')
def report_fixture(artifact):
  with open(os.path.join(artifact, 'ingest_report.json'),
            encoding='utf-8') as file:
    return json.load(file)


# --- locating the artifact ---------------------------------------------------


@pytest.mark.slow
def test_find_examples_returns_an_artifact_folder_itself(artifact):
  assert find_examples(artifact) == artifact


def test_find_examples_picks_the_newest_artifact_of_a_pipeline_root(
    artifact, tmp_path):
  examples = tmp_path / 'root' / 'ImageExampleGen' / 'examples'
  for execution in ('2', '10', '9'):
    shutil.copytree(artifact, examples / execution)
  (examples / '11').mkdir()  # a failed run: no ingest_report.json
  assert find_examples(str(tmp_path / 'root')) == str(examples / '10')
  assert find_examples(str(examples)) == str(examples / '10')


@pytest.mark.parametrize('make_path', [
    lambda tmp: os.path.join(tmp, 'missing'),
    lambda tmp: tmp,  # a folder ImageExampleGen did not write
], ids=['missing', 'not_image_example_gen'])
def test_a_bad_path_is_a_one_line_inspection_error(make_path, tmp_path):
  os.makedirs(tmp_path / 'Split-train')  # looks like Examples, but no report
  path = make_path(str(tmp_path))
  with pytest.raises(InspectionError) as error:
    inspect(path)
  message = str(error.value)
  assert message.startswith(path + ':') and '\n' not in message


def test_an_unknown_split_names_the_splits_there_are(artifact):
  with pytest.raises(InspectionError, match=r'no split .test.; it has '
                     r'train, eval') as error:
    inspect(artifact, split='test')
  assert '\n' not in str(error.value)


def test_negative_samples_per_class_is_an_inspection_error(artifact):
  with pytest.raises(InspectionError, match='samples_per_class'):
    inspect(artifact, samples_per_class=-1)


def test_an_out_dir_that_cannot_be_made_is_an_inspection_error(artifact,
                                                               tmp_path):
  (tmp_path / 'file').write_text('')
  out = str(tmp_path / 'file' / 'out')
  with pytest.raises(InspectionError, match=r'cannot write the pictures'):
    inspect(artifact, out_dir=out)


# --- the summary -------------------------------------------------------------


def test_summary_counts_per_split_and_class_equal_the_report(artifact, report):
  lines = inspect(artifact)
  assert report['examples'] == {
      'train': {'cat': 3, 'dog': 2, 'owl': 1}, 'eval': {'cat': 1, 'dog': 1}}
  for split, by_class in report['examples'].items():
    at = lines.index(f'Split {split}: {sum(by_class.values())} images')
    expected = ', '.join(f'{name} {by_class.get(name, 0)}'
                         for name in _VOCABULARY)
    assert lines[at + 1] == f'  classes: {expected}'
  assert not any('WARNING' in line for line in lines)


def test_summary_lists_skipped_files_by_reason(artifact):
  lines = inspect(artifact)
  assert ('Skipped 3 files (ingest_report.json): corrupt 1, hidden 1, '
          'not_an_image 1') in lines
  assert '  corrupt: train/dog/cut.jpg' in lines
  assert '  hidden: eval/dog/.DS_Store' in lines
  assert '  not_an_image: train/cat/notes.txt' in lines


def test_summary_sizes_formats_and_bytes_of_one_split(artifact, files):
  lines = inspect(artifact, split='train')
  assert not any(line.startswith('Split eval') for line in lines)
  train = {path: spec for path, spec in _IMAGES.items()
           if path.startswith('train/')}
  heights = sorted(size[0] for _, size in train.values())
  widths = sorted(size[1] for _, size in train.values())
  assert (f'  height: min {heights[0]}, median {heights[2]}, max '
          f'{heights[-1]}; width: min {widths[0]}, median {widths[2]}, max '
          f'{widths[-1]}') in lines
  assert '  most common sizes (height x width): 30x40 (2), 14x25 (1), ' \
         '22x22 (1)' in lines
  assert '  formats: jpeg 2, png 2, bmp 1, gif 1' in lines
  sizes = sorted(len(files[path]) for path in train)
  statistics = collect(artifact, split='train').splits[0]
  assert sorted(statistics.byte_sizes) == sizes


def test_summary_shows_the_reports_duplicates_when_present(artifact, tmp_path):
  assert not any('Duplicates' in line for line in inspect(artifact))
  copy = str(tmp_path / 'copy')
  shutil.copytree(artifact, copy)
  path = os.path.join(copy, 'ingest_report.json')
  with open(path, encoding='utf-8') as file:
    values = json.load(file)
  group = {
      'sha256': 'ab' * 32, 'size': 1234,
      'files': ['eval/dog/h.jpg', 'train/cat/a.jpg'], 'splits': ['train'],
      'class_names': ['cat', 'dog']}
  values.update(duplicates=[group], duplicate_groups=1)
  with open(path, 'w', encoding='utf-8') as file:
    json.dump(values, file)
  with open(os.path.join(copy, artifact_lib.DUPLICATES_FILE_NAME), 'w',
            encoding='utf-8') as file:
    file.write(json.dumps(group) + '\n')
  lines = inspect(copy)
  at = lines.index('Duplicates: 1 group of identical files, 1 redundant '
                   'copy, 1 with different labels (a labelling error):')
  assert lines[at + 1] == ('  eval/dog/h.jpg, train/cat/a.jpg (1234 bytes) '
                           'labelled cat / dog')


# --- the pictures ------------------------------------------------------------


def test_contact_sheets_have_a_row_per_class_and_a_cell_per_sample(
    artifact, tmp_path):
  inspect(artifact, out_dir=str(tmp_path / 'out'), samples_per_class=2)
  cell, row = contact_sheet.CELL_WIDTH, contact_sheet.ROW_HEIGHT
  for split in ('train', 'eval'):
    with Image.open(tmp_path / 'out' / f'contact_sheet_{split}.png') as sheet:
      sheet.load()
      assert sheet.size == contact_sheet.sheet_size(len(_VOCABULARY), 2) == (
          contact_sheet.LABEL_WIDTH + 2 * cell, len(_VOCABULARY) * row)
      pixels = np.asarray(sheet.convert('RGB'))
    # The eval sheet: cat's first cell holds a picture and a caption; owl's
    # row is empty, captions included.
    if split == 'eval':
      left = contact_sheet.LABEL_WIDTH
      cat = pixels[cell // 4:3 * cell // 4,
                   left + cell // 4:left + 3 * cell // 4]
      assert len(np.unique(cat.reshape(-1, 3), axis=0)) > 10
      assert _dark_pixels(pixels[cell:row, left:left + cell]) > 20
      owl = pixels[2 * row + 4:3 * row - 4, left + 4:]
      # Only the cell's grey and the gaps' white, exact after the palette.
      assert {tuple(colour) for colour in np.unique(
          owl.reshape(-1, 3), axis=0)} == {(232, 232, 232), (255, 255, 255)}
      # "0 images" in red beside it; the other classes' counts in grey.
      for row_index, red in ((0, False), (2, True)):
        label = pixels[row_index * row:(row_index + 1) * row, :left]
        assert bool(((label[..., 0] > 120) & (label[..., 1] < 80)).sum()) == red


def _dark_pixels(region):
  """The pixels of a region darker than mid-grey: text, on a sheet."""
  return int((region.max(axis=-1) < 128).sum())


def _split_with(samples_by_class):
  """SplitStatistics holding {class: [Sample]}, in that order."""
  split = statistics.SplitStatistics('train')
  for class_name, samples in samples_by_class.items():
    split.class_counts[class_name] = len(samples)
    kept = sampling.SmallestKeys(8)
    for index, sample in enumerate(samples):
      kept.offer((f'{index:02d}', sample.filename),
                 lambda sample=sample: sample)
    split.samples[class_name] = kept
  return split


def _tiny_image():
  """An 8 x 5 RGB image of distinct random colours, and its PNG."""
  rng = np.random.default_rng(17)
  pixels = rng.integers(0, 200, size=(5, 8, 3), dtype=np.uint8)
  buffer = io.BytesIO()
  Image.fromarray(pixels, 'RGB').save(buffer, format='PNG')
  return pixels, buffer.getvalue()


def test_a_tiny_image_fills_its_cell_in_blocks_of_identical_pixels():
  pixels, encoded = _tiny_image()
  size = contact_sheet.THUMBNAIL_SIZE
  scale = size // 8  # 15: the 8-pixel width fills the thumbnail square
  sample = statistics.Sample(
      'ab', 'icons/tiny.png', thumbnails.thumbnail(encoded, size), 5, 8)
  sheet = np.asarray(contact_sheet.draw_contact_sheet(
      _split_with({'icons': [sample]}), ['icons'], columns=2))
  left = contact_sheet.LABEL_WIDTH
  cell = sheet[:contact_sheet.CELL_WIDTH, left:left + contact_sheet.CELL_WIDTH]
  drawn = np.argwhere((cell != (232, 232, 232)).any(axis=-1)
                      & (cell != (255, 255, 255)).any(axis=-1))
  (top, first), (bottom, last) = drawn.min(axis=0), drawn.max(axis=0)
  assert (bottom - top + 1, last - first + 1) == (5 * scale, 8 * scale)
  # Nearest-neighbour: each source pixel is a 15 x 15 block of its colour.
  blocks = np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)
  assert np.array_equal(cell[top:bottom + 1, first:last + 1], blocks)
  # Centred in the cell: the same margin left and right, top and bottom.
  assert abs(first - (contact_sheet.CELL_WIDTH - 1 - last)) <= 2
  assert abs(top - (contact_sheet.CELL_WIDTH - 1 - bottom)) <= 2


def test_captions_show_the_file_under_its_thumbnail_within_its_cell():
  _, encoded = _tiny_image()
  thumbnail = thumbnails.thumbnail(encoded, contact_sheet.THUMBNAIL_SIZE)
  long_name = 'cats/IMG_20240612_153045_a_very_long_camera_name_HDR.jpg'
  split = _split_with({
      'cat': [statistics.Sample('ab', long_name, thumbnail, 5, 8)],
      'dog': [statistics.Sample('cd', 'dogs/cut.jpg', None, 30, 40)],
  })
  sheet = np.asarray(contact_sheet.draw_contact_sheet(split, ['cat', 'dog'],
                                                      columns=2))
  cell, row = contact_sheet.CELL_WIDTH, contact_sheet.ROW_HEIGHT
  left = contact_sheet.LABEL_WIDTH

  def band(row_index, column):  # the caption under a cell
    x = left + column * cell
    return sheet[row_index * row + cell:(row_index + 1) * row, x:x + cell]

  # Two lines of text under each picture (name, then size or the error),
  # none under the empty cells.
  for row_index in (0, 1):
    text_rows = np.flatnonzero(
        (band(row_index, 0).max(axis=-1) < 200).any(axis=1))
    assert text_rows.size > 12 and text_rows.max() - text_rows.min() > 16
    assert _dark_pixels(band(row_index, 1)) == 0
  # The long name is shortened to stay inside its cell: the text's columns
  # are within the cell, with a margin.
  text_columns = np.flatnonzero((band(0, 0).max(axis=-1) < 200).any(axis=0))
  assert 2 <= text_columns.min() and text_columns.max() <= cell - 3
  # An image that cannot be decoded says so in red.
  red = band(1, 0)
  assert ((red[..., 0] > 120) & (red[..., 1] < 80) & (red[..., 2] < 80)).sum()


def test_caption_names_are_basenames_shortened_in_the_middle():
  assert contact_sheet.caption_name('flower/close ups/macro_01.jpg') == (
      'macro_01.jpg')
  assert contact_sheet.caption_name('garden\\hedge.jpg') == 'hedge.jpg'
  name = contact_sheet.caption_name(
      'cats/IMG_20240612_153045_a_very_long_camera_name_HDR.jpg')
  head, tail = name.split('\N{HORIZONTAL ELLIPSIS}')
  assert head.startswith('IMG_2024') and tail.endswith('HDR.jpg')
  assert len(head) in (len(tail), len(tail) + 1)
  assert contact_sheet.caption_name('x' * 500).count('x') > 10


@pytest.mark.slow
def test_samples_are_the_smallest_digests_and_the_same_on_every_run(
    artifact, files, tmp_path):
  pictures = []
  for run in ('one', 'two'):
    inspect(artifact, out_dir=str(tmp_path / run), samples_per_class=2)
    pictures.append({name: (tmp_path / run / name).read_bytes()
                     for name in sorted(os.listdir(tmp_path / run))
                     if name.endswith('.png')})
  assert len(pictures[0]) == 6 and pictures[0] == pictures[1]
  cat = collect(artifact, split='train', samples_per_class=2).splits[0]
  expected = sorted(hashlib.sha256(files[path]).hexdigest()
                    for path in _IMAGES if path.startswith('train/cat/'))[:2]
  assert [sample.sha256 for sample in cat.samples_of('cat')] == expected


def test_smallest_keys_keeps_the_k_smallest_whatever_the_order():
  keys = [f'{index:04x}' for index in range(200)]
  random.Random(7).shuffle(keys)
  made = []
  kept = sampling.SmallestKeys(5)
  for key in keys:
    kept.offer(key, lambda key=key: made.append(key) or key.upper())
  assert kept.items() == [(f'{i:04x}', f'{i:04x}'.upper()) for i in range(5)]
  assert len(made) < 40  # thumbnails are made only for keys entering the 5


def test_samples_do_not_depend_on_the_order_of_the_records(tmp_path):
  encoded = [image_factory.png(size=(8 + index, 8)) for index in range(30)]
  info = image_probe.ImageInfo('png', 8, 8, 3)
  serialized = [
      example_encoder.build_example(data, info, f'cat/{index}.png', label=0,
                                    class_name='cat').SerializeToString()
      for index, data in enumerate(encoded)]
  smallest = sorted(hashlib.sha256(data).hexdigest() for data in encoded)[:4]
  for seed in (1, 2):
    random.Random(seed).shuffle(serialized)
    path = str(tmp_path / f'shard{seed}')
    with tf.io.TFRecordWriter(path) as writer:
      for record in serialized:
        writer.write(record)
    split = statistics.collect_split('train', [path], samples_per_class=4,
                                     thumbnail_size=88)
    assert [sample.sha256 for sample in split.samples_of('cat')] == smallest
    assert split.class_counts == {'cat': 30}


def test_no_samples_draws_no_contact_sheet(artifact, tmp_path):
  inspect(artifact, split='train', out_dir=str(tmp_path), samples_per_class=0)
  # near_duplicates.png: the synthetic images are all near duplicates.
  assert sorted(os.listdir(tmp_path)) == [
      'classes_train.png', 'index.html', 'near_duplicates.png', 'sizes.png']


def test_class_chart_has_one_labelled_bar_per_class_first_on_top():
  figure = charts.class_chart('train', [('cat', 3), ('dog', 0), ('owl', 1)])
  axes = figure.axes[0]
  assert [bar.get_width() for bar in axes.patches] == [3, 0, 1]
  assert [label.get_text() for label in axes.get_yticklabels()] == [
      'cat', 'dog', 'owl']
  tops = [axes.transData.transform((0, bar.get_y()))[1]
          for bar in axes.patches]
  assert tops[0] > tops[1] > tops[2]  # display y grows upwards
  counts = {text.get_text(): text for text in axes.texts}
  assert sorted(counts) == ['0', '1', '3']  # printed at the bars
  assert counts['0'].get_color() != counts['3'].get_color()  # no image: red


def _text_sizes(figure):
  return [text.get_fontsize() for text in figure.findobj(mpl_text.Text)
          if text.get_visible() and text.get_text()]


def _png_size(figure, tmp_path):
  path = str(tmp_path / 'chart.png')
  charts.save_png(figure, path)
  with Image.open(path) as image:
    return image.size


def test_class_charts_are_large_enough_to_read(tmp_path):
  few = charts.class_chart('train', [('cat', 3), ('dog', 5)])
  width, height = _png_size(few, tmp_path)
  assert width >= 800 and height >= 500
  assert min(_text_sizes(few)) >= 10
  many = charts.class_chart(
      'train', [(f'class_{index:03d}', index) for index in range(80)])
  width, height = _png_size(many, tmp_path)
  # The height grows with the classes: at least 20 pixels a bar.
  assert width >= 800 and height >= 80 * 20
  assert min(_text_sizes(many)) >= 10
  assert len(many.axes[0].get_yticklabels()) == 80


def test_class_chart_of_too_many_classes_says_how_many_it_shows():
  figure = charts.class_chart(
      'train', [(f'c{index}', 1) for index in range(charts.MAX_BARS + 5)])
  axes = figure.axes[0]
  assert len(axes.patches) == charts.MAX_BARS
  assert axes.get_title() == (f'train: {charts.MAX_BARS + 5} images, '
                              f'{charts.MAX_BARS + 5} classes (the first '
                              f'{charts.MAX_BARS} shown)')


_SIZES = {
    'train': {(3024, 4032): 1, (32, 32): 30, (48, 64): 5, (24, 96): 1},
    'eval': {(32, 32): 10, (48, 64): 1},
}


def test_sizes_chart_is_log_scaled_so_one_large_photo_squeezes_nothing(
    tmp_path):
  figure = charts.sizes_chart(_SIZES)
  axes = figure.axes[0]
  assert axes.get_xscale() == axes.get_yscale() == 'log'
  assert 'width' in axes.get_xlabel() and 'height' in axes.get_ylabel()
  # 32 and 64 pixels wide are over a tenth of the axes apart, with a
  # 4032-pixel photo on the chart (on linear axes: under 1%).
  to_axes = axes.transData + axes.transAxes.inverted()
  x32, x64, x4032 = (to_axes.transform((width, 100))[0]
                     for width in (32, 64, 4032))
  assert x64 - x32 > 0.1 and 0 < x32 < x64 < x4032 < 1
  assert _png_size(figure, tmp_path) == (900, 660)
  assert min(_text_sizes(figure)) >= 10


def test_sizes_chart_disc_areas_are_proportional_to_counts_and_labelled():
  figure = charts.sizes_chart(_SIZES)
  axes = figure.axes[0]
  train, evaluation = axes.collections
  by_point = {tuple(point): area for point, area in
              zip(train.get_offsets().tolist(), train.get_sizes())}
  per_image = by_point[(32, 32)] / 30
  assert by_point[(64, 48)] == pytest.approx(5 * per_image)
  assert dict(zip(map(tuple, evaluation.get_offsets().tolist()),
                  evaluation.get_sizes()))[(32, 32)] == pytest.approx(
                      10 * per_image)
  # The counts of all splits are printed by the sizes shared by 2 or more.
  assert sorted(text.get_text() for text in axes.texts) == ['40', '6']
  assert charts.sizes_chart({'train': {}}).axes[0].get_xscale() == 'log'


def test_pictures_decode_and_the_page_shows_every_one(artifact, tmp_path):
  out = tmp_path / 'out'
  lines = inspect(artifact, out_dir=str(out))
  assert lines[-1] == f'Pictures: {out / "index.html"}'
  pngs = sorted(name for name in os.listdir(out) if name.endswith('.png'))
  assert pngs == ['classes_eval.png', 'classes_train.png',
                  'contact_sheet_eval.png', 'contact_sheet_train.png',
                  'near_duplicates.png', 'sizes.png']
  for name in pngs:
    with Image.open(out / name) as image:
      image.load()
  sources = _image_sources((out / 'index.html').read_text(encoding='utf-8'))
  assert sorted(sources) == pngs
  page = (out / 'index.html').read_text(encoding='utf-8')
  assert 'Split train: 6 images' in page
  # The full path of every file on the contact sheets, folded under them.
  assert page.count('<summary>Files on the contact sheet</summary>') == 2
  for path in ('train/cat/a.jpg', 'train/owl/f.png', 'eval/dog/h.jpg'):
    assert path in page


def test_one_split_draws_only_its_pictures(artifact, tmp_path):
  inspect(artifact, split='eval', out_dir=str(tmp_path))
  # The near-duplicate groups are the artifact's, drawn whatever the split.
  assert sorted(os.listdir(tmp_path)) == [
      'classes_eval.png', 'contact_sheet_eval.png', 'index.html',
      'near_duplicates.png', 'sizes.png']


# --- reading and decoding ----------------------------------------------------


def test_records_are_read_as_tf_data_reads_them(artifact, tmp_path):
  [shard] = os.listdir(os.path.join(artifact, 'Split-train'))
  path = os.path.join(artifact, 'Split-train', shard)
  assert path.endswith('.gz')
  expected = [record.numpy() for record in
              tf.data.TFRecordDataset(path, compression_type='GZIP')]
  assert list(records.read_records(path)) == expected and len(expected) == 6
  plain = str(tmp_path / 'plain')
  with tf.io.TFRecordWriter(plain) as writer:
    for record in expected:
      writer.write(record)
  assert list(records.read_records(plain)) == expected
  cut = str(tmp_path / 'cut')
  with open(plain, 'rb') as source, open(cut, 'wb') as target:
    target.write(source.read()[:-10])
  with pytest.raises(InspectionError, match=r'^.*cut: damaged TFRecord shard'):
    list(records.read_records(cut))


def test_thumbnails_fill_the_square_large_ones_shrunk_small_ones_enlarged():
  large = thumbnails.thumbnail(image_factory.jpeg(size=(400, 200)), 88)
  assert large.size == (88, 44) and large.mode == 'RGB'
  small = thumbnails.thumbnail(image_factory.png('P', size=(30, 20)), 88)
  assert small.size == (88, 59)
  gray16 = np.asarray(thumbnails.thumbnail(image_factory.png('I;16'), 88))
  assert 0 < gray16.mean() < 250  # scaled to 8 bits, not clipped to white
  with pytest.raises(OSError):
    thumbnails.thumbnail(b'garbage', 88)


def test_thumbnails_enlarge_tiny_images_with_nearest_neighbour_only():
  pixels, encoded = _tiny_image()
  tiny = np.asarray(thumbnails.thumbnail(encoded, 40))  # 5 x 5 blocks
  assert np.array_equal(tiny, np.repeat(np.repeat(pixels, 5, 0), 5, 1))
  # At a scale of 2 or more no new colour appears; under 2, bicubic blends.
  colours = {tuple(pixel) for pixel in pixels.reshape(-1, 3)}
  for size, nearest in ((16, True), (12, False)):
    enlarged = np.asarray(thumbnails.thumbnail(encoded, size))
    assert enlarged.shape[1] == size
    assert ({tuple(pixel) for pixel in enlarged.reshape(-1, 3)} <= colours) == (
        nearest)


# --- the notebook visualization ----------------------------------------------


class _OtherVisualization(visualizations.ArtifactVisualization):
  ARTIFACT_TYPE = standard_artifacts.Examples

  def display(self, artifact):
    return f'other: {artifact.uri}'


def test_the_registry_returns_ours_after_registering(monkeypatch):
  registry = visualizations.ArtifactVisualizationRegistry()
  monkeypatch.setattr(visualizations, '_REGISTRY', registry)
  ours = notebook.register_notebook_visualization()
  assert registry.get_visualization('Examples') is ours
  assert isinstance(ours, notebook.ImageExamplesVisualization)
  assert ours.fallback is None


def test_display_shows_counts_and_an_inline_contact_sheet(artifact,
                                                          monkeypatch):
  shown = []
  monkeypatch.setattr('IPython.display.display', shown.append)
  registry = visualizations.ArtifactVisualizationRegistry()
  ours = notebook.register_notebook_visualization(registry)
  examples = standard_artifacts.Examples()
  examples.uri = artifact
  page = ours.display(examples)
  assert [item.data for item in shown] == [page]
  assert 'Split train: 6 images' in page
  assert '  classes: cat 1, dog 1, owl 0' in page
  sources = _image_sources(page)
  assert len(sources) == 2  # one contact sheet per split
  for source in sources:
    prefix = 'data:image/png;base64,'
    assert source.startswith(prefix)
    with Image.open(io.BytesIO(
        base64.b64decode(source[len(prefix):]))) as sheet:
      assert sheet.size[1] == len(_VOCABULARY) * contact_sheet.ROW_HEIGHT


def test_other_examples_go_to_the_visualization_registered_before(tmp_path):
  registry = visualizations.ArtifactVisualizationRegistry()
  registry.register(_OtherVisualization)
  ours = notebook.register_notebook_visualization(registry)
  again = notebook.register_notebook_visualization(registry)
  assert isinstance(again.fallback, _OtherVisualization)
  examples = standard_artifacts.Examples()
  examples.uri = str(tmp_path)  # e.g. CsvExampleGen's: no ingest report
  assert again.display(examples) == f'other: {tmp_path}'
  assert ours is not again


class _ImageSources(html.parser.HTMLParser):

  def __init__(self):
    super().__init__()
    self.sources = []

  def handle_starttag(self, tag, attrs):
    if tag == 'img':
      self.sources.append(dict(attrs)['src'])


def _image_sources(page):
  parser = _ImageSources()
  parser.feed(page)
  return parser.sources


def test_one_skipped_file_is_counted_in_the_singular():
  from image_example_gen.inspection import summary  # pylint: disable=g-import-not-at-top
  lines = summary._skipped_lines(  # pylint: disable=protected-access
      [{'relative_path': 'train/dog/cut.jpg', 'reason': 'corrupt'}],
      {'corrupt': 1})
  assert lines[0] == 'Skipped 1 file (ingest_report.json): corrupt 1'
