"""A million small, distinct, real-photo JPEGs, written fast.

    python -m benchmarks.million_dataset --files 1000000 [--data-dir DIR]
    python -m benchmarks.million_dataset --files 1000000 --damaged 0.01

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

The damaged variant (`--damaged FRACTION`, `ensure_damaged`): a folder beside
the dataset (default bench_data/million-<N>-damaged) for the skip list's
benchmark (benchmarks/million_damaged.py):

    images/...                  a hard-link copy of the dataset's images (no
                                image is copied), except FRACTION of them,
                                which are new files at the same paths
    metadata.csv                a hard link to the dataset's
    damaged.csv                 relative_path,reason,kind,bytes: one row per
                                damaged file, relative_path relative to
                                images/ (as the ingest report names it),
                                reason the one the ingest reports for it
    DAMAGED.json                written last: source, files, fraction,
                                damaged, kinds, reasons and seconds; a
                                complete variant of the same dataset and
                                fraction is reused

The damaged files are spread evenly: round(files * FRACTION) of them, one in
each of that many equal runs of indices, at a position drawn from
random.Random(DAMAGE_SEED) (deterministic across Python versions), which
spreads them over every class folder. Each is one of the damage real folders
have (`DAMAGE_KINDS`): a JPEG cut short at 10-90% of its length (60%), a
zero-byte file (20%), a text file with the .jpg name (20%, an HTML error page
a failed download saved).

Linking is fast: 1,000,000 files (10,000 damaged) in 25 s, 100,000 in 2 s,
with 2 processes on 2 cores busy with another benchmark.
"""

import argparse
import collections
import csv
import io
import json
import multiprocessing
import os
import posixpath
import random
import shutil
import struct
import time
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from image_example_gen.core import reasons

__all__ = [
    'DAMAGE_KINDS', 'DAMAGE_SEED', 'DEFAULT_DAMAGED_FRACTION',
    'DEFAULT_LIBRARY', 'EMPTY', 'EXPECTED_REASONS', 'NUM_CLASSES', 'TEXT',
    'TRUNCATED', 'Damage', 'damage_plan', 'damaged_bytes', 'damaged_csv_path',
    'damaged_data_dir', 'default_data_dir', 'ensure_damaged', 'ensure_dataset',
    'file_name', 'images_dir', 'metadata_path', 'read_damaged_list',
    'read_damaged_marker', 'read_marker', 'relative_path', 'unique_jpeg'
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

# The damaged variant.
DEFAULT_DAMAGED_FRACTION = 0.01
DAMAGE_SEED = 16
TRUNCATED, EMPTY, TEXT = 'truncated', 'empty', 'text'
# Each kind and its share of the damaged files.
DAMAGE_KINDS: Dict[str, float] = {TRUNCATED: 0.6, EMPTY: 0.2, TEXT: 0.2}
# The reason the ingest reports for each kind. Measured, not assumed:
# run_ingest (default options) on one dataset file cut at each of 1%, 2%
# ... 99% of its length, on zero-byte and on text files named .jpg reported
# every cut 'corrupt' ('JPEG: truncated before the image data' or 'JPEG:
# truncated (no end-of-image marker)'), every zero-byte file 'corrupt'
# ('empty file (0 bytes)') and every text file 'not_an_image' ('no JPEG,
# PNG, GIF or BMP signature'); tests/benchmarks/test_million_damaged.py
# checks them on a real ingest.
EXPECTED_REASONS: Dict[str, str] = {TRUNCATED: reasons.CORRUPT,
                                    EMPTY: reasons.CORRUPT,
                                    TEXT: reasons.NOT_AN_IMAGE}
_CUT_RANGE = (0.1, 0.9)  # A truncated file keeps this share of its bytes.
_JPEG_SIGNATURE_BYTES = 2  # A cut keeps at least FF D8: still a JPEG.
_DAMAGED_MARKER = 'DAMAGED.json'
_DAMAGED_CSV = 'damaged.csv'
_DAMAGED_CSV_HEADER = 'relative_path,reason,kind,bytes\n'

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
  _make_image_folders(data_dir, num_files)
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


def _make_image_folders(data_dir: str, num_files: int) -> None:
  """Creates every folder of images/ that a dataset of num_files fills."""
  for folder in sorted({os.path.dirname(file_name(index))
                        for start_index in range(0, num_files, _FOLDER_SPAN)
                        for index in range(start_index, min(
                            start_index + NUM_CLASSES, num_files))}):
    os.makedirs(os.path.join(data_dir, folder))


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


class Damage(NamedTuple):
  """One file of the damaged variant: its index, kind and, when truncated,
  the share of its bytes it keeps."""
  index: int
  kind: str
  kept: float


def damaged_data_dir(data_dir: str) -> str:
  """The default folder of a dataset's damaged variant: beside it."""
  return os.path.normpath(data_dir) + '-damaged'


def damaged_csv_path(damaged_dir: str) -> str:
  return os.path.join(damaged_dir, _DAMAGED_CSV)


def relative_path(index: int) -> str:
  """Path of image `index` relative to images/, the ingest's input_base."""
  return posixpath.relpath(file_name(index), 'images')


def read_damaged_marker(damaged_dir: str) -> Optional[Dict[str, object]]:
  try:
    with open(os.path.join(damaged_dir, _DAMAGED_MARKER),
              encoding='utf-8') as file:
      return json.load(file)
  except (FileNotFoundError, json.JSONDecodeError):
    return None


def read_damaged_list(damaged_dir: str) -> Dict[str, str]:
  """damaged.csv as {relative_path: expected reason}."""
  with open(damaged_csv_path(damaged_dir), encoding='utf-8',
            newline='') as file:
    return {row['relative_path']: row['reason']
            for row in csv.DictReader(file)}


def damage_plan(num_files: int, fraction: float) -> List[Damage]:
  """The files to damage, in index order: round(num_files * fraction) of
  them, the k-th in the k-th of that many equal runs of indices.

  Its place in the run, its kind (by DAMAGE_KINDS' shares) and the share a
  cut keeps (in _CUT_RANGE) are drawn from random.Random(DAMAGE_SEED).

  Raises:
    ValueError: fraction outside [0, 1].
  """
  if not 0 <= fraction <= 1:
    raise ValueError(f'fraction={fraction!r}; expected 0 to 1')
  count = round(num_files * fraction)
  rng = random.Random(DAMAGE_SEED)
  plan = []
  for run in range(count):
    start, end = run * num_files // count, (run + 1) * num_files // count
    index = start + int(rng.random() * (end - start))
    kind = _kind_of(rng.random())
    kept = _CUT_RANGE[0] + rng.random() * (_CUT_RANGE[1] - _CUT_RANGE[0])
    plan.append(Damage(index, kind, kept))
  return plan


def _kind_of(draw: float) -> str:
  """The damage kind whose share of [0, 1) holds draw."""
  for kind, share in DAMAGE_KINDS.items():
    if draw < share:
      return kind
    draw -= share
  return next(reversed(DAMAGE_KINDS))  # Rounding left draw past the end.


def damaged_bytes(original: bytes, damage: Damage) -> bytes:
  """The bytes of the damaged file that replaces `original`."""
  if damage.kind == TRUNCATED:
    return original[:max(_JPEG_SIGNATURE_BYTES,
                         int(len(original) * damage.kept))]
  if damage.kind == EMPTY:
    return b''
  return (b'<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>'
          b'\n<body><h1>Not Found</h1><p>img_%07d.jpg was not found on '
          b'this server.</p></body></html>\n' % damage.index)


def ensure_damaged(data_dir: str,
                   fraction: float = DEFAULT_DAMAGED_FRACTION, *,
                   damaged_dir: Optional[str] = None,
                   processes: int = 2,
                   log=print) -> Dict[str, object]:
  """Makes the damaged variant of the complete dataset at data_dir, unless
  one of the same dataset and fraction is there.

  Every image of the variant is a hard link to the dataset's, except the
  damage_plan's files: new files, written in their place (the dataset's
  files are never written to).

  Args:
    data_dir: A complete dataset (ensure_dataset's).
    fraction: The share of files to damage.
    damaged_dir: The variant's folder; default damaged_data_dir(data_dir).
      Removed and rebuilt unless it holds a complete variant of this dataset
      and fraction.
    processes: Processes linking and writing the files.
    log: Called with progress lines.

  Returns:
    The marker: source (data_dir, absolute), source_marker (its marker),
    files, fraction, damaged, kinds and reasons (damaged files per kind and
    per expected reason), seconds, files_per_second (of the run that made
    it) and reused (True when nothing was written now).

  Raises:
    FileNotFoundError: No complete dataset at data_dir.
    ValueError: fraction outside [0, 1], or damaged_dir inside data_dir or
      holding it (rebuilding would remove the dataset's files).
  """
  source_marker = read_marker(data_dir)
  if source_marker is None:
    raise FileNotFoundError(
        f'No complete dataset in {data_dir} (no {_MARKER}): generate it '
        'first (python -m benchmarks.million_dataset --files N)')
  damaged_dir = damaged_dir or damaged_data_dir(data_dir)
  _check_apart(data_dir, damaged_dir)
  marker = read_damaged_marker(damaged_dir)
  if (marker and marker['source'] == os.path.abspath(data_dir) and
      marker['source_marker'] == source_marker and
      marker['fraction'] == fraction):
    return dict(marker, reused=True)
  num_files = int(source_marker['files'])
  plan = damage_plan(num_files, fraction)
  shutil.rmtree(damaged_dir, ignore_errors=True)
  start = time.perf_counter()
  _make_image_folders(damaged_dir, num_files)
  sizes = _link_and_damage(data_dir, damaged_dir, num_files, plan, processes,
                           start, log)
  os.link(metadata_path(data_dir), metadata_path(damaged_dir))
  _write_damaged_csv(damaged_dir, plan, sizes)
  seconds = time.perf_counter() - start
  marker = {
      'source': os.path.abspath(data_dir), 'source_marker': source_marker,
      'files': num_files, 'fraction': fraction, 'damaged': len(plan),
      'kinds': dict(collections.Counter(damage.kind for damage in plan)),
      'reasons': dict(collections.Counter(
          EXPECTED_REASONS[damage.kind] for damage in plan)),
      'seconds': seconds, 'files_per_second': num_files / seconds}
  with open(os.path.join(damaged_dir, _DAMAGED_MARKER), 'w',
            encoding='utf-8') as file:
    json.dump(marker, file)
  return dict(marker, reused=False)


def _check_apart(data_dir: str, damaged_dir: str) -> None:
  """Raises ValueError unless neither folder is inside the other."""
  data, damaged = os.path.realpath(data_dir), os.path.realpath(damaged_dir)
  if os.path.commonpath([data, damaged]) in (data, damaged):
    raise ValueError(f'The damaged variant {damaged_dir} must be outside the '
                     f'dataset {data_dir}, and hold no part of it')


def _link_and_damage(data_dir: str, damaged_dir: str, num_files: int,
                     plan: Sequence[Damage], processes: int, start: float,
                     log) -> Dict[int, int]:
  """Fills damaged_dir/images; returns {damaged index: its size}."""
  by_chunk: Dict[int, Dict[int, Damage]] = collections.defaultdict(dict)
  for damage in plan:
    by_chunk[damage.index // _CHUNK][damage.index] = damage
  chunks = [(data_dir, damaged_dir, chunk_start,
             min(chunk_start + _CHUNK, num_files),
             by_chunk[chunk_start // _CHUNK])
            for chunk_start in range(0, num_files, _CHUNK)]
  sizes: Dict[int, int] = {}
  done = 0
  with multiprocessing.get_context('fork').Pool(processes) as pool:
    for chunk_sizes, chunk_files in pool.imap_unordered(
        _link_and_damage_chunk, chunks):
      sizes.update(chunk_sizes)
      done += chunk_files
      if done % 100_000 < _CHUNK or done == num_files:
        elapsed = time.perf_counter() - start
        log(f'  {done} files, {elapsed:.0f} s, {done / elapsed:.0f} files/s')
  return sizes


def _link_and_damage_chunk(
    chunk: Tuple[str, str, int, int, Dict[int, Damage]]
) -> Tuple[Dict[int, int], int]:
  data_dir, damaged_dir, start, end, damages = chunk
  sizes = {}
  for index in range(start, end):
    source = os.path.join(data_dir, file_name(index))
    target = os.path.join(damaged_dir, file_name(index))
    if index in damages:
      sizes[index] = _write_damaged(source, target, damages[index])
    else:
      os.link(source, target)
  return sizes, end - start


def _write_damaged(source: str, target: str, damage: Damage) -> int:
  """Writes the damaged version of source as a new file; returns its size."""
  with open(source, 'rb') as file:
    data = damaged_bytes(file.read(), damage)
  with open(target, 'xb') as file:  # A new file, never a link's original.
    file.write(data)
  return len(data)


def _write_damaged_csv(damaged_dir: str, plan: Sequence[Damage],
                       sizes: Dict[int, int]) -> None:
  with open(damaged_csv_path(damaged_dir), 'w', encoding='utf-8',
            newline='') as file:
    file.write(_DAMAGED_CSV_HEADER)
    file.write(''.join(
        f'{relative_path(damage.index)},{EXPECTED_REASONS[damage.kind]},'
        f'{damage.kind},{sizes[damage.index]}\n' for damage in plan))


def main(argv: Optional[Sequence[str]] = None) -> None:
  parser = argparse.ArgumentParser(prog='python -m benchmarks.million_dataset')
  parser.add_argument('--files', type=int, default=1_000_000)
  parser.add_argument('--data-dir', default=None,
                      help='Default: bench_data/million-<files>.')
  parser.add_argument('--library', type=int, default=DEFAULT_LIBRARY,
                      help='Distinct crops (default %(default)s).')
  parser.add_argument('--processes', type=int, default=2)
  parser.add_argument('--damaged', type=float, default=None,
                      metavar='FRACTION',
                      help='Also make the damaged variant, FRACTION of its '
                      'files damaged (0.01: 1%%).')
  parser.add_argument('--damaged-dir', default=None,
                      help='Default: <data-dir>-damaged.')
  args = parser.parse_args(argv)
  data_dir = args.data_dir or default_data_dir(args.files)
  log = lambda line: print(line, flush=True)
  print(f'Dataset {data_dir}: {args.files} files ...', flush=True)
  marker = ensure_dataset(data_dir, args.files, library_size=args.library,
                          processes=args.processes, log=log)
  print(json.dumps(marker))
  if args.damaged is not None:
    damaged_dir = args.damaged_dir or damaged_data_dir(data_dir)
    print(f'Damaged variant {damaged_dir}: {args.damaged:.2%} of the files '
          '...', flush=True)
    damaged = ensure_damaged(data_dir, args.damaged, damaged_dir=damaged_dir,
                             processes=args.processes, log=log)
    print(json.dumps(damaged))


if __name__ == '__main__':
  main()
