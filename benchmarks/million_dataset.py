"""A million small, distinct, real-photo JPEGs, written fast.

    python -m benchmarks.million_dataset --files 1000000 [--data-dir DIR]

Layout, under the dataset folder (default bench_data/million-<N> in the
repository, which .gitignore leaves out):

    images/class_03/p017/img_0170043.jpg   the images: class = index % 10,
                                           p = index // 10,000, so at 1,000,000
                                           files 10 classes x 100 folders of
                                           1,000 files
    metadata.csv                           file_name,label,crop: one row per
                                           image, file_name relative to the
                                           dataset folder ('images/class_03/
                                           ...'), label its class folder's name,
                                           crop its library crop's id; ingest
                                           it with labels='metadata',
                                           metadata_file=<this file>
    COMPLETE.json                          written last: files, bytes, library
                                           size and the generator's speed; a
                                           complete dataset of the same size
                                           and library is reused

Every image is real-photo content: a crop of scikit-learn's china.jpg or
flower.jpg (`sklearn.datasets.load_sample_images`), 80-200 px square, scaled to
96x96 and encoded once as a baseline JPEG (quality 85, about 2.7 KB).

How it is fast: encoding a crop costs about 450 us here, writing a file much
less, so the crops are a library encoded once (`--library`, default 65,536
distinct crops, about 30 s of the 2 cores), and file i is crop
(i * 40,503) mod library with a JPEG COM segment (FF FE, 'img <i>') inserted
after the JFIF APP0 segment. The COM segment makes every file's bytes, and so
its SHA-256, unique while the file stays a valid JPEG that decodes to the
crop's pixels (decoders skip COM segments).

Why 65,536 crops: exact-duplicate detection (a digest of the bytes) sees
1,000,000 distinct files; near-duplicate detection (on pixels) sees the copies
of one crop as near-duplicates: at 1,000,000 files each crop is used 15 or 16
times (groups of about 15), at 100,000 once or twice, at 20,000 never more than
once. Distinct pixels for all 1,000,000 files would cost about 450 s of CPU
(about 4 more minutes on 2 cores); a 65,536-crop library costs 30 s and keeps
exact-duplicate groups empty. Pass `--library N` (N >= files) for all-distinct
pixels.

Files are written by 2 processes (`--processes`), in chunks of 10,000 indices.
"""

import argparse
import io
import json
import multiprocessing
import os
import shutil
import struct
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

__all__ = [
    'DEFAULT_LIBRARY', 'NUM_CLASSES', 'default_data_dir', 'ensure_dataset',
    'file_name', 'images_dir', 'metadata_path', 'read_marker', 'unique_jpeg'
]

NUM_CLASSES = 10
DEFAULT_LIBRARY = 65_536
_FOLDER_SPAN = 10_000  # Indices per p-folder.
_CHUNK = 10_000  # Indices per task of the writing processes.
_LIBRARY_CHUNK = 2_048
_SIDE = 96
_CROP_SIDE = (80, 200)
_QUALITY = 85
_STRIDE = 40_503  # Odd, so i -> i * stride mod 2^k is a permutation.
_SEED = 1_000_000
_MARKER = 'COMPLETE.json'
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_photos: List[np.ndarray] = []
_library: List[bytes] = []  # Set in the parent before the writers fork.


def default_data_dir(num_files: int) -> str:
  return os.path.join(_REPO_ROOT, 'bench_data', f'million-{num_files}')


def images_dir(data_dir: str) -> str:
  """The input_base of an ingest: the class folders."""
  return os.path.join(data_dir, 'images')


def metadata_path(data_dir: str) -> str:
  return os.path.join(data_dir, 'metadata.csv')


def class_name(index: int) -> str:
  return f'class_{index % NUM_CLASSES:02d}'


def file_name(index: int) -> str:
  """Path of image `index` relative to the dataset folder."""
  return (f'images/{class_name(index)}/p{index // _FOLDER_SPAN:03d}/'
          f'img_{index:07d}.jpg')


def crop_of(index: int, library_size: int) -> int:
  return index * _STRIDE % library_size


def read_marker(data_dir: str) -> Optional[Dict[str, object]]:
  try:
    with open(os.path.join(data_dir, _MARKER), encoding='utf-8') as file:
      return json.load(file)
  except (FileNotFoundError, json.JSONDecodeError):
    return None


def unique_jpeg(jpeg: bytes, index: int) -> bytes:
  """The JPEG with a COM segment naming `index` after SOI and APP0 (JFIF).

  The pixels are unchanged; the bytes (and their digest) differ per index.
  """
  if jpeg[:2] != b'\xff\xd8':
    raise ValueError('not a JPEG')
  at = 2
  if jpeg[2:4] == b'\xff\xe0':  # Keep JFIF's APP0 first, as its spec wants.
    at = 4 + struct.unpack('>H', jpeg[4:6])[0]
  payload = b'img %d' % index
  segment = b'\xff\xfe' + struct.pack('>H', len(payload) + 2) + payload
  return jpeg[:at] + segment + jpeg[at:]


def ensure_dataset(data_dir: str, num_files: int, *,
                   library_size: int = DEFAULT_LIBRARY,
                   processes: int = 2,
                   log=print) -> Dict[str, object]:
  """Generates the dataset unless a complete one of that size is there.

  Returns:
    The marker: files, bytes, library, seconds, files_per_second (of the
    generation that made it) and reused (True when nothing was written now).
  """
  marker = read_marker(data_dir)
  if (marker and marker['files'] == num_files and
      marker['library'] == library_size):
    return dict(marker, reused=True)
  shutil.rmtree(data_dir, ignore_errors=True)
  os.makedirs(data_dir)
  start = time.perf_counter()
  distinct = min(library_size, max(num_files, 1))
  _build_library(distinct, processes)
  library_seconds = time.perf_counter() - start
  log(f'  library of {distinct} crops: {library_seconds:.1f} s')
  for folder in sorted({os.path.dirname(file_name(index))
                        for start_index in range(0, num_files, _FOLDER_SPAN)
                        for index in range(start_index, min(
                            start_index + NUM_CLASSES, num_files))}):
    os.makedirs(os.path.join(data_dir, folder))
  chunks = [(data_dir, start_index, min(start_index + _CHUNK, num_files))
            for start_index in range(0, num_files, _CHUNK)]
  total_bytes = written = 0
  with multiprocessing.get_context('fork').Pool(processes) as pool:
    for chunk_bytes, chunk_files in pool.imap_unordered(_write_chunk, chunks):
      total_bytes += chunk_bytes
      written += chunk_files
      elapsed = time.perf_counter() - start
      if written % 100_000 < _CHUNK or written == num_files:
        log(f'  {written} files, {elapsed:.0f} s, '
            f'{written / elapsed:.0f} files/s')
  _write_metadata(data_dir, num_files, distinct)
  seconds = time.perf_counter() - start
  marker = {'files': num_files, 'bytes': total_bytes, 'library': library_size,
            'distinct_crops': distinct, 'classes': NUM_CLASSES, 'library_seconds': library_seconds,
            'seconds': seconds, 'files_per_second': num_files / seconds}
  with open(os.path.join(data_dir, _MARKER), 'w', encoding='utf-8') as file:
    json.dump(marker, file)
  _library.clear()
  return dict(marker, reused=False)


def _build_library(library_size: int, processes: int) -> None:
  _library.clear()
  chunks = [range(start, min(start + _LIBRARY_CHUNK, library_size))
            for start in range(0, library_size, _LIBRARY_CHUNK)]
  with multiprocessing.get_context('fork').Pool(
      processes, initializer=_load_photos) as pool:
    for crops in pool.imap(_encode_crops, chunks):
      _library.extend(crops)


def _load_photos() -> None:
  from sklearn.datasets import load_sample_images  # pylint: disable=g-import-not-at-top
  _photos.extend(load_sample_images().images)


def _encode_crops(indices: Sequence[int]) -> List[bytes]:
  crops = []
  for crop_id in indices:
    rng = np.random.default_rng([_SEED, crop_id])
    photo = _photos[crop_id % len(_photos)]
    height, width = photo.shape[:2]
    side = int(rng.integers(_CROP_SIDE[0], _CROP_SIDE[1] + 1))
    top = int(rng.integers(0, height - side + 1))
    left = int(rng.integers(0, width - side + 1))
    image = Image.fromarray(photo[top:top + side, left:left + side]).resize(
        (_SIDE, _SIDE), Image.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, 'JPEG', quality=_QUALITY)
    crops.append(buffer.getvalue())
  return crops


def _write_chunk(chunk: Tuple[str, int, int]) -> Tuple[int, int]:
  data_dir, start, end = chunk
  total = 0
  for index in range(start, end):
    data = unique_jpeg(_library[crop_of(index, len(_library))], index)
    with open(os.path.join(data_dir, file_name(index)), 'wb') as file:
      file.write(data)
    total += len(data)
  return total, end - start


def _write_metadata(data_dir: str, num_files: int, library_size: int) -> None:
  with open(metadata_path(data_dir), 'w', encoding='utf-8') as file:
    file.write('file_name,label,crop\n')
    for start in range(0, num_files, _CHUNK):
      file.write(''.join(
          f'{file_name(index)},{class_name(index)},'
          f'{crop_of(index, library_size)}\n'
          for index in range(start, min(start + _CHUNK, num_files))))


def main(argv: Optional[Sequence[str]] = None) -> None:
  parser = argparse.ArgumentParser(prog='python -m benchmarks.million_dataset')
  parser.add_argument('--files', type=int, default=1_000_000)
  parser.add_argument('--data-dir', default=None,
                      help='Default: bench_data/million-<files>.')
  parser.add_argument('--library', type=int, default=DEFAULT_LIBRARY,
                      help='Distinct crops (default %(default)s).')
  parser.add_argument('--processes', type=int, default=2)
  args = parser.parse_args(argv)
  data_dir = args.data_dir or default_data_dir(args.files)
  print(f'Dataset {data_dir}: {args.files} files ...', flush=True)
  marker = ensure_dataset(data_dir, args.files, library_size=args.library,
                          processes=args.processes,
                          log=lambda line: print(line, flush=True))
  print(json.dumps(marker))


if __name__ == '__main__':
  main()
