"""Near-duplicates: quality on real photos, cost per image and at scale.

    .venv/bin/python -m benchmarks.near_duplicate_eval            # everything
    .venv/bin/python -m benchmarks.near_duplicate_eval --scale 0  # no 1M run
    .venv/bin/python -m benchmarks.near_duplicate_eval --json out.json

1. Quality. An evaluation set is cut from the two photos scikit-learn ships
   (china.jpg, flower.jpg, 640x427), each seen in its 8 orientations (the
   identity, mirrors, rotations, transposes); every orientation is cut into a
   grid of non-overlapping tiles of 142-213 px, 128 base photos in all, each
   saved as JPEG quality 90. Each base gets variants: resized 0.5x and 2x
   (and, reported apart, 0.75x and 1.5x), re-encoded as JPEG quality 50 to
   95, converted to PNG, cropped by 2, 3, 4 and 5% (centred, from a corner, or
   at random), brightness-shifted (x0.8, x1.2, -25, +25 levels), and, not a
   target, mirrored. Negatives: all pairs of distinct base photos (tiles of
   one scene that do not overlap; tiles of the other photo; mirrored or
   rotated views, which may share content mirrored), and every pair of images
   from two different families (bases and variants). It reports, for several
   thresholds: recall per variant kind, exactly (distance <= threshold) and
   through the banding (the pair must also share a band), whole families
   grouped together, and false merges, pairwise and after the transitive
   grouping.
2. Cost per image, in CPU microseconds (process time, best of 5 rounds), on
   typical JPEGs (random crops of the photos, 250-480 px, quality 85-95) and
   their PNG forms: the decode guarantee's 1/8 decode alone, the fingerprint
   from that decode, from the bytes, from a PNG, and imagehash.phash when
   imagehash is importable.
3. Cost at scale (a child process, for a clean peak RSS): N random 64-bit
   fingerprints plus planted near-duplicates (pairs at distances 0-12, and a
   cluster of identical and near-identical "blank" fingerprints) through
   band keys, bucket comparison and union-find, in pure Python, one band id
   at a time; time, peak RSS, and how many planted pairs were found. The
   exact pigeonhole banding for the threshold (threshold + 1 bands) is timed
   on a smaller N to show why it is not the default.
"""

import argparse
import collections
import io
import itertools
import json
import math
import os
import random
import subprocess
import sys
import time
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image
from PIL import ImageEnhance

from image_example_gen.core import near_duplicates as nd

# The scale run buckets one band id at a time from the permuted words, as
# band_keys computes them (band_keys would build 16 tuples per image at once).
# pylint: disable=protected-access
_permute = nd._permute
_band_slices = nd._band_slices
# pylint: enable=protected-access

_THRESHOLDS = (4, 6, 8, 10, 12, 14)
# (bands, tables) layouts compared at the default threshold.
_LAYOUTS = ((4, 1), (4, 2), (4, 4), (4, 8), (4, 16), (3, 8), (5, 4))
# Variant kinds and the groups that the targets name.
_TARGETS = {
    'resize': 0.95, 'reencode': 0.95, 'png': 0.95, 'crop': 0.80,
}
_KIND_OF = {
    'resize0.5x': 'resize', 'resize2x': 'resize',
    'resize0.75x': 'resize_other', 'resize1.5x': 'resize_other',
    'jpeg50': 'reencode', 'jpeg60': 'reencode', 'jpeg70': 'reencode',
    'jpeg80': 'reencode', 'jpeg95': 'reencode',
    'png': 'png',
    'crop2': 'crop', 'crop3': 'crop', 'crop4': 'crop', 'crop5': 'crop',
    'bright0.8': 'brightness', 'bright1.2': 'brightness',
    'shift-25': 'brightness', 'shift+25': 'brightness',
    'mirror': 'mirror',
}
_KINDS = ('resize', 'resize_other', 'reencode', 'png', 'crop', 'brightness',
          'mirror')
# Tile grids (columns, rows) for a landscape view; portrait views transpose.
_GRIDS = ((4, 2), (3, 2), (4, 3), (3, 2))
_SEED = 18


# ---------------------------------------------------------------------------
# The evaluation set.


def _photos() -> List[Image.Image]:
  # pylint: disable-next=g-import-not-at-top
  from sklearn.datasets import load_sample_images
  return [Image.fromarray(array) for array in load_sample_images().images]


_ORIENTATIONS = (
    ('identity', None), ('mirror', Image.Transpose.FLIP_LEFT_RIGHT),
    ('flip', Image.Transpose.FLIP_TOP_BOTTOM),
    ('rotate180', Image.Transpose.ROTATE_180),
    ('rotate90', Image.Transpose.ROTATE_90),
    ('rotate270', Image.Transpose.ROTATE_270),
    ('transpose', Image.Transpose.TRANSPOSE),
    ('transverse', Image.Transpose.TRANSVERSE),
)


def base_photos() -> List[Dict]:
  """The base photos: {'photo', 'orientation', 'box', 'image'} each."""
  bases = []
  for photo_index, photo in enumerate(_photos()):
    for orientation_index, (name, transpose) in enumerate(_ORIENTATIONS):
      view = photo if transpose is None else photo.transpose(transpose)
      width, height = view.size
      columns, rows = _GRIDS[orientation_index % len(_GRIDS)]
      if height > width:
        columns, rows = rows, columns
      tile_width, tile_height = width // columns, height // rows
      for row in range(rows):
        for column in range(columns):
          box = (column * tile_width, row * tile_height,
                 (column + 1) * tile_width, (row + 1) * tile_height)
          bases.append({'photo': photo_index, 'orientation': name,
                        'box': box, 'image': view.crop(box)})
  return bases


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
  buffer = io.BytesIO()
  image.convert('RGB').save(buffer, 'JPEG', quality=quality)
  return buffer.getvalue()


def _png(image: Image.Image) -> bytes:
  buffer = io.BytesIO()
  image.save(buffer, 'PNG')
  return buffer.getvalue()


def _crop_box(width: int, height: int, fraction: float,
              rng: np.random.Generator) -> Tuple[int, int, int, int]:
  cut_x, cut_y = round(width * fraction), round(height * fraction)
  mode = rng.integers(3)
  if mode == 0:  # Centred.
    left, top = cut_x // 2, cut_y // 2
  elif mode == 1:  # From a corner.
    left, top = (cut_x, cut_y) if rng.integers(2) else (0, 0)
  else:  # At random.
    left, top = int(rng.integers(cut_x + 1)), int(rng.integers(cut_y + 1))
  return left, top, width - (cut_x - left), height - (cut_y - top)


def variants(base: bytes, rng: np.random.Generator) -> List[Tuple[str, bytes]]:
  """(variant name, bytes) of every variant of a base photo's bytes."""
  image = Image.open(io.BytesIO(base)).convert('RGB')
  width, height = image.size
  out = []
  for factor in (0.5, 2, 0.75, 1.5):
    size = (round(width * factor), round(height * factor))
    out.append((f'resize{factor}x', _jpeg(image.resize(size, Image.LANCZOS))))
  for quality in (50, 60, 70, 80, 95):
    out.append((f'jpeg{quality}', _jpeg(image, quality)))
  out.append(('png', _png(image)))
  for percent in (2, 3, 4, 5):
    box = _crop_box(width, height, percent / 100, rng)
    out.append((f'crop{percent}', _jpeg(image.crop(box))))
  for factor in (0.8, 1.2):
    out.append((f'bright{factor}',
                _jpeg(ImageEnhance.Brightness(image).enhance(factor))))
  for shift in (-25, 25):
    shifted = np.clip(np.asarray(image, dtype=np.int16) + shift, 0, 255)
    out.append((f'shift{shift:+d}', _jpeg(Image.fromarray(
        shifted.astype(np.uint8)))))
  mirror = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
  out.append(('mirror', _jpeg(mirror)))
  return out


def build_set() -> Tuple[List[Dict], List[Tuple[int, str, bytes]]]:
  """(bases, items): items are (family = base index, variant name, bytes),
  the base itself named 'base'."""
  rng = np.random.default_rng(_SEED)
  bases = base_photos()
  items = []
  for index, base in enumerate(bases):
    data = _jpeg(base['image'])
    items.append((index, 'base', data))
    items.extend((index, name, variant)
                 for name, variant in variants(data, rng))
  return bases, items


# ---------------------------------------------------------------------------
# Quality.


def _popcount_matrix(fps: np.ndarray) -> np.ndarray:
  """All pairwise Hamming distances of an array of uint64 (n x n, int8)."""
  table = np.array([bin(value).count('1') for value in range(256)], np.int8)
  out = np.zeros((len(fps), len(fps)), dtype=np.int8)
  for row, fp in enumerate(fps):
    out[row] = table[(fps ^ fp).view(np.uint8).reshape(-1, 8)].sum(1)
  return out


def _shares_band(a: int, b: int, bands: int, tables: int) -> bool:
  return nd.first_shared_band(a, b, bands, tables) is not None


def _negative_category(first: Dict, second: Dict) -> str:
  if first['photo'] != second['photo']:
    return 'other photo'
  if first['orientation'] == second['orientation']:
    return 'same scene, no overlap'
  return 'mirrored/rotated view'


def evaluate_quality(bases, items, fps) -> Dict:
  """Every quality figure; see the module docstring."""
  base_fp = {family: fp for (family, name, _), fp in zip(items, fps)
             if name == 'base'}
  variant_pairs = [(family, name, base_fp[family], fp)
                   for (family, name, _), fp in zip(items, fps)
                   if name != 'base']
  result = {'bases': len(bases), 'images': len(items),
            'variants_per_base': len(variant_pairs) // len(bases)}

  # Distances of each variant to its base.
  distances = collections.defaultdict(list)
  for family, name, base, fp in variant_pairs:
    distances[_KIND_OF[name]].append(nd.hamming(base, fp))
  result['distance_to_base'] = {
      kind: {'mean': round(float(np.mean(values)), 2),
             'p95': float(np.percentile(values, 95)),
             'max': int(np.max(values))}
      for kind, values in ((kind, distances[kind]) for kind in _KINDS)}
  per_variant = collections.defaultdict(list)
  for family, name, base, fp in variant_pairs:
    per_variant[name].append(nd.hamming(base, fp))

  # Negatives: distinct base pairs, by category, and all cross-family pairs.
  base_list = sorted(base_fp)
  negatives = collections.defaultdict(list)
  for a, b in itertools.combinations(base_list, 2):
    category = _negative_category(bases[a], bases[b])
    negatives[category].append(nd.hamming(base_fp[a], base_fp[b]))
  all_negatives = [d for values in negatives.values() for d in values]
  fp_array = np.array(fps, dtype=np.uint64)
  family = np.array([f for f, _, _ in items])
  matrix = _popcount_matrix(fp_array)
  cross = np.triu(family[:, None] != family[None, :], 1)
  cross_distances = matrix[cross].astype(np.int64)
  cross_histogram = np.bincount(cross_distances, minlength=65)
  result['negatives'] = {
      'distinct_base_pairs': len(all_negatives),
      'by_category': {category: len(values)
                      for category, values in sorted(negatives.items())},
      'min_distance_by_category': {category: int(min(values))
                                   for category, values in
                                   sorted(negatives.items())},
      'cross_family_pairs': int(cross.sum()),
  }

  rows = []
  for threshold in _THRESHOLDS:
    row = {'threshold': threshold}
    row['recall_exact'] = {
        kind: round(float(np.mean(np.array(distances[kind]) <= threshold)), 3)
        for kind in _KINDS}
    row['recall_banded'] = {
        kind: round(float(np.mean([
            nd.hamming(base, fp) <= threshold and
            _shares_band(base, fp, nd.DEFAULT_BANDS, nd.DEFAULT_TABLES)
            for family_, name, base, fp in variant_pairs
            if _KIND_OF[name] == kind])), 3)
        for kind in _KINDS}
    row['false_merges_distinct_bases'] = sum(
        d <= threshold for d in all_negatives)
    row['false_merges_by_category'] = {
        category: sum(d <= threshold for d in values)
        for category, values in sorted(negatives.items())}
    row['false_merge_rate_distinct_bases'] = (
        row['false_merges_distinct_bases'] / len(all_negatives))
    row['cross_family_pairs_within'] = int(cross_histogram[:threshold +
                                                           1].sum())
    row['cross_family_rate'] = float(cross_histogram[:threshold + 1].sum() /
                                     cross.sum())
    row.update(_grouping(items, fps, bases, threshold))
    rows.append(row)
  result['by_threshold'] = rows
  result['per_variant_recall_exact'] = {
      name: {t: round(float(np.mean(np.array(values) <= t)), 3)
             for t in _THRESHOLDS}
      for name, values in per_variant.items()}

  layouts = []
  for bands, tables in _LAYOUTS:
    found = collections.defaultdict(list)
    for family_, name, base, fp in variant_pairs:
      found[_KIND_OF[name]].append(
          nd.hamming(base, fp) <= nd.DEFAULT_THRESHOLD and
          _shares_band(base, fp, bands, tables))
    layouts.append({
        'bands': bands, 'tables': tables, 'keys_per_image': bands * tables,
        'guaranteed_distance': bands - 1,
        'find_probability_at_threshold': round(
            nd.find_probability(nd.DEFAULT_THRESHOLD, bands, tables), 3),
        'recall_banded': {kind: round(float(np.mean(found[kind])), 3)
                          for kind in _KINDS},
        'random_comparisons_per_image_at_1m': round(
            bands * tables * 1e6 / 2 ** (64 // bands) / 2, 1),
    })
  result['layouts_at_default_threshold'] = layouts
  result['grid_ablation'] = grid_ablation(items, fps)
  return result


def _square_fingerprint(data: bytes) -> int:
  """imagehash's resampling instead of the power-of-two grid: the same
  reduced decode, resized to 32x32 with Lanczos, then the same bits."""
  image = nd.open_for_fingerprint(data).convert('L')
  return nd.fingerprint_pixels(np.asarray(image.resize((32, 32),
                                                       Image.LANCZOS)))


def grid_ablation(items, fps) -> Dict:
  """Distance to base of format and size changes: power-of-two grid (the
  fingerprint) against a resize to 32x32 from the same decode."""
  kinds = ('png', 'resize', 'resize_other', 'reencode')
  square = [_square_fingerprint(data) if name == 'base' or
            _KIND_OF[name] in kinds else None
            for _, name, data in items]
  result = {}
  for label, values in (('power_of_two_grid', fps), ('resize_to_32x32',
                                                     square)):
    base = {family: fp for (family, name, _), fp in zip(items, values)
            if name == 'base'}
    distances = collections.defaultdict(list)
    for (family, name, _), fp in zip(items, values):
      if name != 'base' and _KIND_OF[name] in kinds:
        distances[_KIND_OF[name]].append(nd.hamming(base[family], fp))
    result[label] = {kind: {'mean': round(float(np.mean(distances[kind])), 2),
                            'p95': float(np.percentile(distances[kind], 95))}
                     for kind in kinds}
  return result


def _grouping(items, fps, bases, threshold) -> Dict:
  """Groups over every image (bases and variants) with the default banding."""
  members = [(index, fp) for index, fp in enumerate(fps)]
  groups = nd.near_duplicate_groups(members, threshold)
  group_of = {}
  for number, group in enumerate(groups):
    for member in group:
      group_of[member] = number
  base_index = {family: index for index, (family, name, _) in enumerate(items)
                if name == 'base'}
  with_base = collections.defaultdict(list)
  families = collections.defaultdict(list)
  for index, (family, name, _) in enumerate(items):
    families[family].append(index)
    if name == 'base':
      continue
    grouped = (index in group_of and
               group_of.get(base_index[family]) == group_of[index])
    with_base[_KIND_OF[name]].append(grouped)
  # A family is whole when all its images but the mirror share one group.
  whole = 0
  for family, members_ in families.items():
    targets = [m for m in members_ if items[m][1] != 'mirror']
    numbers = {group_of.get(m, ('alone', m)) for m in targets}
    whole += len(numbers) == 1
  merged_bases = 0
  for group in groups:
    merged = {items[m][0] for m in group}
    merged_bases += math.comb(len(merged), 2)
  return {
      'grouped_with_base': {kind: round(float(np.mean(with_base[kind])), 3)
                            for kind in _KINDS},
      'families_whole': whole,
      'families': len(families),
      'groups': len(groups),
      'largest_group': max((len(g) for g in groups), default=0),
      'base_pairs_merged_by_groups': merged_bases,
  }


def imagehash_quality(bases, items) -> Dict:
  """The same exact-recall and negative figures for imagehash.phash (full
  decode, Lanczos to 32x32), when imagehash is importable."""
  try:
    import imagehash  # pylint: disable=g-import-not-at-top
  except ImportError:
    return {}
  fps = [int(str(imagehash.phash(Image.open(io.BytesIO(data)))), 16)
         for _, _, data in items]
  base_fp = {family: fp for (family, name, _), fp in zip(items, fps)
             if name == 'base'}
  distances = collections.defaultdict(list)
  for (family, name, _), fp in zip(items, fps):
    if name != 'base':
      distances[_KIND_OF[name]].append(nd.hamming(base_fp[family], fp))
  negatives = collections.defaultdict(list)
  for a, b in itertools.combinations(sorted(base_fp), 2):
    negatives[_negative_category(bases[a], bases[b])].append(
        nd.hamming(base_fp[a], base_fp[b]))
  family = np.array([f for f, _, _ in items])
  matrix = _popcount_matrix(np.array(fps, dtype=np.uint64))
  cross = matrix[np.triu(family[:, None] != family[None, :], 1)]
  return {
      'recall_exact': {
          threshold: {kind: round(float(np.mean(
              np.array(distances[kind]) <= threshold)), 3) for kind in _KINDS}
          for threshold in _THRESHOLDS},
      'min_distance_by_category': {category: int(min(values))
                                   for category, values in
                                   sorted(negatives.items())},
      'cross_family_pairs_within': {
          threshold: int((cross <= threshold).sum())
          for threshold in _THRESHOLDS},
  }


def _print_imagehash(figures: Dict) -> None:
  print('\nimagehash.phash on the same images (exact recall):')
  print(f'   t {" ".join(f"{kind:>12s}" for kind in _KINDS)}  cross-family')
  for threshold, recall in figures['recall_exact'].items():
    cells = ' '.join(f'{recall[kind]:12.3f}' for kind in _KINDS)
    print(f'  {threshold:2d} {cells}  '
          f'{figures["cross_family_pairs_within"][threshold]:6d}')
  print(f'  closest distinct bases: {figures["min_distance_by_category"]}')


# ---------------------------------------------------------------------------
# Cost per image.


def typical_jpegs(count: int = 200, png_count: int = 40
                 ) -> Tuple[List[bytes], List[bytes], List[bytes]]:
  """(JPEG, PNG, palette PNG) bytes of typical photos (250-480 px): `count`
  JPEGs (quality 85-95), and the first `png_count` of them as PNGs."""
  rng = np.random.default_rng(_SEED)
  photos = _photos()
  jpegs, pngs, palette_pngs = [], [], []
  for index in range(count):
    photo = photos[index % 2]
    height = int(rng.uniform(0.3, 0.87) * photo.height)
    width = int(min(photo.width, height * rng.uniform(0.67, 1.5)))
    left = int(rng.integers(0, photo.width - width + 1))
    top = int(rng.integers(0, photo.height - height + 1))
    image = photo.crop((left, top, left + width, top + height))
    scale = int(rng.integers(250, 481)) / max(width, height)
    image = image.resize((round(width * scale), round(height * scale)),
                         Image.LANCZOS)
    jpegs.append(_jpeg(image, int(rng.integers(85, 96))))
    if index < png_count:
      pngs.append(_png(image))
      palette_pngs.append(_png(image.quantize(
          256, method=Image.Quantize.FASTOCTREE)))
  return jpegs, pngs, palette_pngs


def _cpu_us(function, inputs: Sequence, rounds: int = 5) -> float:
  best = math.inf
  for _ in range(rounds):
    start = time.process_time()
    for value in inputs:
      function(value)
    best = min(best, (time.process_time() - start) / len(inputs))
  return round(best * 1e6, 1)


def _validation_decode(data: bytes) -> Image.Image:
  """What image_probe.jpeg does: gray, 1/8 scale, whole scan data."""
  image = Image.open(io.BytesIO(data))
  width, height = image.size
  image.draft('L', (max(1, width // 8), max(1, height // 8)))
  image.load()
  return image


def evaluate_cost() -> Dict:
  jpegs, pngs, palette_pngs = typical_jpegs()
  decoded = [_validation_decode(data) for data in jpegs]
  reusable = sum(nd.reuses_scaled_decode(*Image.open(io.BytesIO(d)).size)
                 for d in jpegs)
  agree = sum(nd.fingerprint(image) == nd.fingerprint(data)
              for image, data in zip(decoded, jpegs))
  result = {
      'jpeg_count': len(jpegs),
      'png_count': len(pngs),
      'jpeg_mean_kb': round(float(np.mean([len(d) for d in jpegs])) / 1e3, 1),
      'png_mean_kb': round(float(np.mean([len(d) for d in pngs])) / 1e3, 1),
      'palette_png_mean_kb': round(
          float(np.mean([len(d) for d in palette_pngs])) / 1e3, 1),
      'jpegs_reusing_the_1_8_decode': reusable,
      'same_fingerprint_from_decode_and_bytes': agree,
      'us_jpeg_validation_decode_1_8': _cpu_us(_validation_decode, jpegs),
      'us_fingerprint_from_1_8_decode': _cpu_us(nd.fingerprint, decoded),
      'us_fingerprint_jpeg_bytes': _cpu_us(nd.fingerprint, jpegs),
      'us_fingerprint_png_bytes': _cpu_us(nd.fingerprint, pngs),
      'us_fingerprint_palette_png_bytes': _cpu_us(nd.fingerprint,
                                                  palette_pngs),
      'us_full_decode_jpeg_rgb': _cpu_us(
          lambda d: Image.open(io.BytesIO(d)).load(), jpegs),
  }
  try:
    import imagehash  # pylint: disable=g-import-not-at-top
  except ImportError:
    result['imagehash'] = 'not installed'
  else:
    result['imagehash'] = imagehash.__version__ if hasattr(
        imagehash, '__version__') else 'installed'
    result['us_imagehash_phash_jpeg_bytes'] = _cpu_us(
        lambda d: imagehash.phash(Image.open(io.BytesIO(d))), jpegs)
    result['us_imagehash_phash_from_1_8_decode'] = _cpu_us(
        imagehash.phash, decoded)
    result['us_imagehash_phash_png_bytes'] = _cpu_us(
        lambda d: imagehash.phash(Image.open(io.BytesIO(d))), pngs)
  return result


# ---------------------------------------------------------------------------
# Cost at scale.

# Planted pairs at each of these distances: 1 per 1,000 random ones; the
# blank cluster: 2% identical, 0.2% within 2 bits.
_PLANTED_DISTANCES = (0, 2, 4, 6, 8, 10, 12)


def _flip_bits(fp: int, count: int, rng: random.Random) -> int:
  for position in rng.sample(range(64), count):
    fp ^= 1 << position
  return fp


def synthetic_fingerprints(count: int, seed: int = _SEED):
  """`count` random fingerprints, then the planted ones.

  Returns (items, planted): items are (id, fp); planted maps a distance to
  its planted (id_a, id_b) pairs. The blank cluster is count / 50
  copies of the flat-gray fingerprint and count / 500 within 2 bits of it.
  """
  per_distance = max(10, count // 1000)
  blank_identical, blank_near = count // 50, count // 500
  rng = random.Random(seed)
  items = [(index, rng.getrandbits(64)) for index in range(count)]
  planted = {}
  next_id = count
  for distance in _PLANTED_DISTANCES:
    pairs = []
    for _ in range(per_distance):
      fp = rng.getrandbits(64)
      items.append((next_id, fp))
      items.append((next_id + 1, _flip_bits(fp, distance, rng)))
      pairs.append((next_id, next_id + 1))
      next_id += 2
    planted[distance] = pairs
  blank = 1 << 63
  for _ in range(blank_identical):
    items.append((next_id, blank))
    next_id += 1
  for _ in range(blank_near):
    items.append((next_id, _flip_bits(blank, 2, rng)))
    next_id += 1
  return items, planted


def _memory_mb(field: str) -> float:
  """VmRSS (now) or VmHWM (peak) of this process, MB (fresh at exec)."""
  with open('/proc/self/status', encoding='ascii') as status:
    for line in status:
      if line.startswith(field + ':'):
        return int(line.split()[1]) / 1024
  return float('nan')


def _python_edges(items, threshold: int, bands: int, tables: int,
                  stats: collections.Counter):
  """What the Beam wiring runs, in pure Python: per band id, bucket the
  items by band value (one band id at a time, as a GroupByKey sharded by
  key holds one bucket per call), then pairs_within on every bucket."""
  slices = _band_slices(bands)
  for table in range(tables):
    tick = time.perf_counter()
    permuted = [_permute(fp, table) for _, fp in items]
    stats['seconds_band_keys'] += time.perf_counter() - tick
    for band, (shift, mask) in enumerate(slices):
      band_id = table * bands + band
      tick = time.perf_counter()
      buckets = {}
      for item, word in zip(items, permuted):
        buckets.setdefault((word >> shift) & mask, []).append(item)
      stats['seconds_band_keys'] += time.perf_counter() - tick
      for bucket in buckets.values():
        size = len(bucket)
        if size < 2:
          continue
        stats['buckets_compared'] += 1
        stats['largest_bucket'] = max(stats['largest_bucket'], size)
        distinct = len({fp for _, fp in bucket})
        if distinct > nd.DEFAULT_MAX_BUCKET:
          stats['capped_buckets'] += 1
          stats['comparisons'] += distinct * (nd.DEFAULT_MAX_BUCKET - 1)
        else:
          stats['comparisons'] += distinct * (distinct - 1) // 2
        for edge in nd.pairs_within(bucket, threshold, band=band_id,
                                    bands=bands, tables=tables):
          yield edge
      del buckets
    del permuted


def scale_run(count: int, threshold: int, bands: int, tables: int,
              engine: str) -> Dict:
  """One grouping run in this process; see the module docstring."""
  rss_start = _memory_mb('VmRSS')
  items, planted = synthetic_fingerprints(count)
  rss_items = _memory_mb('VmRSS')
  stats = collections.Counter()
  start = time.perf_counter()
  cpu_start = time.process_time()
  if engine == 'python':
    union_find = nd.UnionFind()
    for a, b, _ in _python_edges(items, threshold, bands, tables, stats):
      stats['edges'] += 1
      union_find.union(a, b)
    groups = union_find.groups()
    stats['union_find_ids'] = len(union_find)
  else:
    fps = np.array([fp for _, fp in items], dtype=np.uint64)
    edges = nd.edges_from_fingerprints(fps, threshold, bands=bands,
                                       tables=tables)
    stats['edges'] = len(edges)
    groups = nd.groups_from_edges(edges[:, :2].tolist())
  grouping = time.perf_counter() - start
  grouping_cpu = time.process_time() - cpu_start
  group_of = {}
  for number, group in enumerate(groups):
    for member in group:
      group_of[member] = number
  found = {
      distance: sum(group_of.get(a, -1) == group_of.get(b, -2)
                    for a, b in pairs) / len(pairs)
      for distance, pairs in planted.items()
  }
  sizes = collections.Counter(len(group) for group in groups)
  result = {
      'engine': engine,
      'random_fingerprints': count,
      'items': len(items),
      'threshold': threshold, 'bands': bands, 'tables': tables,
      'keys_emitted': len(items) * bands * tables,
      'seconds_grouping': round(grouping, 1),
      'cpu_seconds_grouping': round(grouping_cpu, 1),
      'cpu_us_per_image': round(grouping_cpu / len(items) * 1e6, 1),
      'peak_rss_mb': round(_memory_mb('VmHWM'), 1),
      'rss_mb_at_start': round(rss_start, 1),
      'rss_mb_with_items': round(rss_items, 1),
      'edges': stats['edges'],
      'groups': len(groups),
      'largest_group': max(sizes, default=0),
      'groups_of_two': sizes.get(2, 0),
      'planted_found_by_distance': {d: round(f, 4) for d, f in found.items()},
      'find_probability_by_distance': {
          d: round(nd.find_probability(d, bands, tables), 4)
          for d in planted},
  }
  if engine == 'python':
    result.update({
        'seconds_band_keys_and_bucketing': round(stats['seconds_band_keys'],
                                                 1),
        'comparisons': stats['comparisons'],
        'buckets_compared': stats['buckets_compared'],
        'largest_bucket': stats['largest_bucket'],
        'capped_buckets': stats['capped_buckets'],
        'union_find_ids': stats['union_find_ids'],
    })
  return result


def _child_scale_run(count: int, threshold: int, bands: int, tables: int,
                     engine: str) -> Dict:
  command = [sys.executable, '-m', 'benchmarks.near_duplicate_eval',
             '--scale-child', str(count), '--threshold', str(threshold),
             '--bands', str(bands), '--tables', str(tables),
             '--engine', engine]
  output = subprocess.run(command, check=True, capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(
                              os.path.abspath(__file__))))
  return json.loads(output.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------
# Printing.


def _print_quality(quality: Dict) -> None:
  print(f'\n== Quality: {quality["bases"]} base photos, {quality["images"]} '
        f'images ({quality["variants_per_base"]} variants each)')
  negatives = quality['negatives']
  print(f'distinct base pairs: {negatives["distinct_base_pairs"]} '
        f'{negatives["by_category"]}; closest per category: '
        f'{negatives["min_distance_by_category"]}; cross-family pairs: '
        f'{negatives["cross_family_pairs"]}')
  print('distance to base (mean / p95 / max):')
  for kind, stats in quality['distance_to_base'].items():
    print(f'  {kind:13s} {stats["mean"]:5.2f} / {stats["p95"]:4.1f} / '
          f'{stats["max"]}')
  header = ' '.join(f'{kind:>12s}' for kind in _KINDS)
  for title, field in (('recall, exact (distance <= t)', 'recall_exact'),
                       ('recall through the default banding '
                        f'({nd.DEFAULT_BANDS} bands x {nd.DEFAULT_TABLES} '
                        'tables)', 'recall_banded'),
                       ('grouped with its base (transitive groups over all '
                        'images)', 'grouped_with_base')):
    print(f'\n{title}:\n   t {header}')
    for row in quality['by_threshold']:
      cells = ' '.join(f'{row[field][kind]:12.3f}' for kind in _KINDS)
      print(f'  {row["threshold"]:2d} {cells}')
  print('\nfalse merges:')
  print('   t  distinct-base-pairs  rate      by category                 '
        '            cross-family (rate)        groups: families whole, '
        'base pairs merged, largest')
  for row in quality['by_threshold']:
    print(f'  {row["threshold"]:2d}  {row["false_merges_distinct_bases"]:5d}'
          f'               {row["false_merge_rate_distinct_bases"]:.5f}  '
          f'{json.dumps(row["false_merges_by_category"]):44s} '
          f'{row["cross_family_pairs_within"]:6d} '
          f'({row["cross_family_rate"]:.1e})   '
          f'{row["families_whole"]}/{row["families"]}, '
          f'{row["base_pairs_merged_by_groups"]}, {row["largest_group"]}')
  print('\ndistance to base (mean / p95), power-of-two grid vs resize to '
        '32x32 from the same decode:')
  ablation = quality['grid_ablation']
  for kind, stats in ablation['power_of_two_grid'].items():
    other = ablation['resize_to_32x32'][kind]
    print(f'  {kind:13s} {stats["mean"]:5.2f} / {stats["p95"]:4.1f}   vs   '
          f'{other["mean"]:5.2f} / {other["p95"]:4.1f}')
  print(f'\nbanding layouts at t={nd.DEFAULT_THRESHOLD} (recall through the '
        'banding):')
  print(f'  bands tables keys sure<=  P(find t) cmp/img@1M {header}')
  for layout in quality['layouts_at_default_threshold']:
    cells = ' '.join(f'{layout["recall_banded"][kind]:12.3f}'
                     for kind in _KINDS)
    print(f'  {layout["bands"]:5d} {layout["tables"]:6d} '
          f'{layout["keys_per_image"]:4d} {layout["guaranteed_distance"]:5d}'
          f'  {layout["find_probability_at_threshold"]:9.3f} '
          f'{layout["random_comparisons_per_image_at_1m"]:10.1f} {cells}')


def _print_cost(cost: Dict) -> None:
  print(f'\n== Cost per image (CPU us, best of 5; {cost["jpeg_count"]} JPEGs '
        f'of 250-480 px, mean {cost["jpeg_mean_kb"]} KB; {cost["png_count"]} '
        f'of them as PNG, {cost["png_mean_kb"]} KB, and palette PNG '
        f'{cost["palette_png_mean_kb"]} KB)')
  for key, value in cost.items():
    if key.startswith('us_'):
      print(f'  {key[3:]:40s} {value:8.1f}')
  print(f'  JPEGs whose 1/8 decode is reused: '
        f'{cost["jpegs_reusing_the_1_8_decode"]}/{cost["jpeg_count"]}; same '
        f'fingerprint from that decode as from the bytes: '
        f'{cost["same_fingerprint_from_decode_and_bytes"]}/'
        f'{cost["jpeg_count"]}; imagehash: {cost["imagehash"]}')


def _print_scale(run: Dict) -> None:
  print(f'\n== Scale ({run["engine"]}): {run["random_fingerprints"]:,} random '
        f'fingerprints + planted ({run["items"]:,} items), '
        f't={run["threshold"]}, {run["bands"]} bands x {run["tables"]} tables')
  for key in ('seconds_grouping', 'cpu_seconds_grouping',
              'seconds_band_keys_and_bucketing', 'cpu_us_per_image',
              'peak_rss_mb', 'rss_mb_at_start', 'rss_mb_with_items',
              'keys_emitted', 'comparisons', 'largest_bucket',
              'capped_buckets', 'edges', 'union_find_ids', 'groups',
              'largest_group', 'groups_of_two'):
    if key in run:
      print(f'  {key:34s} {run[key]:,}' if isinstance(run[key], int) else
            f'  {key:34s} {run[key]}')
  print(f'  planted pairs found, by distance: '
        f'{run["planted_found_by_distance"]}')
  print(f'  find_probability, by distance:    '
        f'{run["find_probability_by_distance"]}')


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--scale', type=int, default=1_000_000,
                      help='random fingerprints for the scale run (0: skip)')
  parser.add_argument('--exact-scale', type=int, default=10_000,
                      help='random fingerprints for the exact pigeonhole '
                      'banding (threshold + 1 bands; 0: skip)')
  parser.add_argument('--skip-quality', action='store_true')
  parser.add_argument('--skip-cost', action='store_true')
  parser.add_argument('--json', help='also write every figure to this file')
  parser.add_argument('--scale-child', type=int, help=argparse.SUPPRESS)
  parser.add_argument('--threshold', type=int, default=nd.DEFAULT_THRESHOLD)
  parser.add_argument('--bands', type=int, default=nd.DEFAULT_BANDS)
  parser.add_argument('--tables', type=int, default=nd.DEFAULT_TABLES)
  parser.add_argument('--engine', choices=('python', 'numpy'),
                      default='python', help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.scale_child is not None:
    print(json.dumps(scale_run(args.scale_child, args.threshold, args.bands,
                               args.tables, args.engine)))
    return
  figures = {'defaults': {'threshold': nd.DEFAULT_THRESHOLD,
                          'bands': nd.DEFAULT_BANDS,
                          'tables': nd.DEFAULT_TABLES,
                          'max_bucket': nd.DEFAULT_MAX_BUCKET}}
  print(f'defaults: {figures["defaults"]}')
  started = time.perf_counter()
  if not args.skip_quality:
    tick = time.perf_counter()
    bases, items = build_set()
    fps = [nd.fingerprint(data) for _, _, data in items]
    quality = evaluate_quality(bases, items, fps)
    quality['seconds'] = round(time.perf_counter() - tick, 1)
    figures['quality'] = quality
    _print_quality(quality)
    figures['quality_imagehash'] = imagehash_quality(bases, items)
    if figures['quality_imagehash']:
      _print_imagehash(figures['quality_imagehash'])
    print(f'(quality: {quality["seconds"]} s)')
    default = next(row for row in quality['by_threshold']
                   if row['threshold'] == nd.DEFAULT_THRESHOLD)
    print(f'\ntargets at the default t={nd.DEFAULT_THRESHOLD} '
          '(through the banding / grouped with base):')
    for kind, target in _TARGETS.items():
      banded = default['recall_banded'][kind]
      grouped = default['grouped_with_base'][kind]
      print(f'  {kind:9s} >= {target:.2f}: {banded:.3f} / {grouped:.3f} '
            f'{"ok" if min(banded, grouped) >= target else "MISSED"}')
    rate = default['false_merge_rate_distinct_bases']
    print(f'  false merges <= 0.001 of distinct pairs: {rate:.5f} '
          f'{"ok" if rate <= 0.001 else "MISSED"}')
  if not args.skip_cost:
    tick = time.perf_counter()
    figures['cost'] = evaluate_cost()
    _print_cost(figures['cost'])
    print(f'(cost: {time.perf_counter() - tick:.1f} s)')
  if args.scale:
    for engine in ('python', 'numpy'):
      tick = time.perf_counter()
      run = _child_scale_run(args.scale, args.threshold, args.bands,
                             args.tables, engine)
      run['seconds_child'] = round(time.perf_counter() - tick, 1)
      figures[f'scale_{engine}'] = run
      _print_scale(run)
  if args.exact_scale:
    exact = _child_scale_run(args.exact_scale, args.threshold,
                             args.threshold + 1, 1, 'python')
    figures['scale_exact_pigeonhole'] = exact
    _print_scale(exact)
    default_small = _child_scale_run(args.exact_scale, args.threshold,
                                     args.bands, args.tables, 'python')
    figures['scale_default_small'] = default_small
    factor = (1_000_000 / args.exact_scale) ** 2
    print(f'  the default layout on the same {args.exact_scale:,}: '
          f'{default_small["seconds_grouping"]} s, '
          f'{default_small["comparisons"]:,} comparisons; the exact layout\'s '
          f'{exact["comparisons"]:,} comparisons grow as n^2: about '
          f'{exact["comparisons"] * factor:.1e} at 1,000,000')
  print(f'\ntotal {time.perf_counter() - started:.0f} s')
  if args.json:
    with open(args.json, 'w', encoding='utf-8') as file:
      json.dump(figures, file, indent=1, sort_keys=True)


if __name__ == '__main__':
  main()
