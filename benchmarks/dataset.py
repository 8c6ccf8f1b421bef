"""A deterministic benchmark dataset of real-photo JPEG and PNG files.

Every image is a random crop of one of the two photos scikit-learn ships
(`china.jpg`, `flower.jpg`, 640x427), rescaled so that each side is 250-480 px.
About 85% are JPEG (quality 85-95); about 15% are PNG, quantized to a 256-colour
palette as most web PNGs are (a full-colour PNG of a photo would weigh ~140 KB
and dominate the total). The mix averages about 31 KB per image, so 20,000
images make about 620 MB.

Image i depends only on i, so a dataset is the same for a given size on every
machine. Layout, under the dataset folder:

    images/class_00/img_000000.jpg ...   the images, 10 class folders
    COMPLETE.json                        written last; its presence marks a
                                         complete dataset, which is reused
"""

import io
import json
import multiprocessing
import os
import shutil
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image

__all__ = ['NUM_CLASSES', 'ensure_dataset', 'images_dir', 'list_images']

NUM_CLASSES = 10
_SEED = 20_000
_MARKER = 'COMPLETE.json'
_SIDE_RANGE = (250, 480)
_CROP_HEIGHT_FRACTION = (0.18, 0.87)
_CROP_ASPECT = (0.67, 1.5)
_JPEG_QUALITY = (85, 95)
_PNG_FRACTION = 0.15
_CHUNK = 500

_photos: List[Image.Image] = []


def images_dir(data_dir: str) -> str:
  """The folder of class folders (the ExampleGens' input_base)."""
  return os.path.join(data_dir, 'images')


def list_images(data_dir: str) -> List[str]:
  """Paths of all images of a dataset, sorted."""
  root = images_dir(data_dir)
  return sorted(
      os.path.join(root, name, file_name)
      for name in os.listdir(root)
      for file_name in os.listdir(os.path.join(root, name)))


def ensure_dataset(data_dir: str, num_images: int,
                   processes: int = 2) -> Dict[str, int]:
  """Generates the dataset unless a complete one of that size is there.

  Returns:
    The marker's content: {'images': count, 'bytes': total size of the files}.
  """
  marker = _read_marker(data_dir)
  if marker and marker['images'] == num_images:
    return marker
  shutil.rmtree(data_dir, ignore_errors=True)
  for class_index in range(NUM_CLASSES):
    os.makedirs(os.path.join(images_dir(data_dir), _class_name(class_index)))
  chunks = [(data_dir, range(start, min(start + _CHUNK, num_images)))
            for start in range(0, num_images, _CHUNK)]
  with multiprocessing.Pool(processes, initializer=_load_photos) as pool:
    total_bytes = sum(pool.imap_unordered(_write_chunk, chunks))
  marker = {'images': num_images, 'bytes': total_bytes}
  with open(os.path.join(data_dir, _MARKER), 'w', encoding='utf-8') as file:
    json.dump(marker, file)
  return marker


def prepare(data_dir: str, num_images: int) -> Tuple[Dict[str, int], List[str]]:
  """ensure_dataset, then checks it: returns (marker, sorted image paths)."""
  print(f'Dataset {data_dir}: {num_images} images ...', flush=True)
  marker = ensure_dataset(data_dir, num_images)
  paths = list_images(data_dir)
  if len(paths) != num_images:
    raise RuntimeError(f'{data_dir} holds {len(paths)} images, not '
                       f'{num_images}; delete it to regenerate.')
  return marker, paths


def _read_marker(data_dir: str):
  try:
    with open(os.path.join(data_dir, _MARKER), encoding='utf-8') as file:
      return json.load(file)
  except FileNotFoundError:
    return None


def _class_name(class_index: int) -> str:
  return f'class_{class_index:02d}'


def _load_photos() -> None:
  from sklearn.datasets import load_sample_image  # pylint: disable=g-import-not-at-top
  _photos.extend(Image.fromarray(load_sample_image(name))
                 for name in ('china.jpg', 'flower.jpg'))


def _write_chunk(chunk: Tuple[str, Sequence[int]]) -> int:
  """Writes the images of a range of indices; returns their total bytes."""
  data_dir, indices = chunk
  total = 0
  for index in indices:
    extension, data = _make_image(index)
    path = os.path.join(images_dir(data_dir), _class_name(index % NUM_CLASSES),
                        f'img_{index:06d}.{extension}')
    with open(path, 'wb') as file:
      file.write(data)
    total += len(data)
  return total


def _make_image(index: int) -> Tuple[str, bytes]:
  """Image `index`: (file extension, encoded bytes)."""
  rng = np.random.default_rng([_SEED, index])
  photo = _photos[rng.integers(len(_photos))]
  width, height = photo.size
  crop_height = int(height * rng.uniform(*_CROP_HEIGHT_FRACTION))
  crop_width = min(width, int(crop_height * rng.uniform(*_CROP_ASPECT)))
  left = int(rng.integers(0, width - crop_width + 1))
  top = int(rng.integers(0, height - crop_height + 1))
  crop = photo.crop((left, top, left + crop_width, top + crop_height))
  out_width = int(rng.integers(_SIDE_RANGE[0], _SIDE_RANGE[1] + 1))
  out_height = int(np.clip(out_width * crop_height / crop_width, *_SIDE_RANGE))
  image = crop.resize((out_width, out_height), Image.BILINEAR)
  buffer = io.BytesIO()
  if rng.random() < _PNG_FRACTION:
    image.quantize(256, method=Image.Quantize.FASTOCTREE).save(buffer, 'PNG')
    return 'png', buffer.getvalue()
  quality = int(rng.integers(_JPEG_QUALITY[0], _JPEG_QUALITY[1] + 1))
  image.save(buffer, 'JPEG', quality=quality)
  return 'jpg', buffer.getvalue()
