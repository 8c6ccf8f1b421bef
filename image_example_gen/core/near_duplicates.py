"""Near-duplicate images: a perceptual fingerprint each, and their groups.

Plain functions (Pillow and numpy, no Beam, no TensorFlow). The ingest's
workers call `fingerprint_published` for `image/phash`; its Beam pipeline
finds the edges with `edge_chunks` and folds them into groups as they come
(`component_roots`, union-find in arrays; beam/near_duplicate_groups.py:
group_roots). `UnionFind`, `groups_from_edges`, `near_duplicate_groups` and
`describe_groups` are the one-process reference the tests and
benchmarks/near_duplicate_eval.py use. docs/near_duplicates.md gives the method and
its figures; `python -m benchmarks.near_duplicate_eval` measures them.

Fingerprint: a 64-bit DCT perceptual hash (pHash)
-------------------------------------------------
The image in gray is reduced, by a power of two, until its shorter side lies
in [16, 32) pixels (ceil division at each halving, as libjpeg's scaled decode
and `Image.reduce` both round up). A JPEG is reduced up to 8x inside libjpeg
(`Image.draft`: the inverse DCT keeps one value per 8x8 block), so an image
whose shorter side is at least 121 px is fingerprinted from exactly the 1/8
scale gray decode that the decode guarantee already makes
(`image_probe.jpeg`): `fingerprint(image)` reuses it. The 8x8 lowest
frequencies of a 2-D DCT-II of the reduced image (computed directly at its
size, no resampling to a square) are compared with their median: bit (v, u)
is 1 when coefficient (v, u) lies above it, row-major, most significant bit
first. That is the bit layout and hex form of `imagehash.phash` (PyPI), so
`imagehash.hex_to_hash(to_hex(fp))` reads it, and on the same 32x32 gray
pixels `fingerprint_pixels` gives imagehash's exact bits. Exactly 32 of the 64
bits are 1 (the median splits them), so distances between fingerprints are
even.

Why not imagehash itself (PyPI 4.3.2): it needs PyWavelets and scipy,
resamples every image to 32x32 with Lanczos from a full decode, and cannot
use the 1/8 decode at its resolution. Measured (benchmark, typical 250-480 px
JPEG, one run): imagehash.phash from the bytes 1,629 us, `fingerprint(image)`
from the 1/8 decode 77 us (the decode itself, already paid: 445 us). Its
recall on 4-5% crops is a little higher (0.920 against 0.891 at 10 bits);
the other kinds are the same. Powers of two rather than a resize to a fixed
size put every format on the same pixel grid: a PNG copy of a JPEG is 0.64
bits from it on average (p95 3.3), against 2.50 (p95 6) when the same decode
is resized to 32x32.

Groups: banding, bucket comparison, union-find
----------------------------------------------
Comparing all pairs costs n^2/2 (5e11 at a million images). Instead each
fingerprint is cut into `bands` bands (`band_keys`); images that share a band
value exactly land in one bucket; only the members of a bucket are compared
(`pairs_within`), and the pairs within `threshold` are the edges of a graph
whose connected components are the groups (`groups_from_edges`, union-find
over the edges only). The ingest gathers every (id, fingerprint) in one
file of 25 bytes an image (beam/duplicates.py), runs `edge_chunks` on it and
folds the edges into groups with `component_roots`; on a
runner whose shuffle spills to disk, (band key, (id, fingerprint)) per image,
a GroupByKey and `pairs_within` per bucket give the same groups, sharded.

- Pigeonhole: two fingerprints that differ in d < `bands` bits agree on at
  least one band of a table, so every pair within `bands - 1` bits is found.
- A band must stay wide for buckets to stay small: at a million images a
  16-bit band value is shared by about 15 random others, a 6-bit one by
  15,600. Guaranteeing a threshold of 10 by pigeonhole takes 11 bands of 5-6
  bits: about 1e11 comparisons at a million images (see the benchmark). So
  the default is 4 bands of 16 bits (every pair within 3 bits found for sure),
  repeated over `tables` fixed pseudo-random permutations of the bits: a pair
  within the threshold but above 3 bits is found when one of the 4 * tables
  bands is free of its differing bits (`find_probability`; the benchmark
  measures it on real variants).
- Table 0 takes the bits in zigzag order (lowest frequencies first), the
  others a fixed permutation each (splitmix64 Fisher-Yates, the same on every
  machine and Python version).
- Degenerate buckets: blank or flat images all get the same fingerprint (0
  for black, only the DC bit for any other flat gray), and similar
  low-content images crowd a few band values. `pairs_within` collapses
  identical fingerprints first (a chain of distance-0 edges, linear), and a
  bucket of more than `max_bucket` distinct fingerprints is compared in
  windows: each against its next `max_bucket - 1` in sorted order, so the cost
  stays at max_bucket per member instead of the bucket's size.
- Edges stay few: with `band` given, `pairs_within` drops a pair that also
  shares an earlier band (that band's bucket reports it), and by default a
  bucket emits a spanning forest (n - 1 edges at most for n members, however
  dense), which gives the same groups.
- `edges_from_fingerprints` does all buckets at once in numpy, for one
  process (the DirectRunner's GroupByKey would hold all 16 keys per image in
  memory): the same groups, about 3x faster than the pure-Python buckets.
"""

import functools
import io
import math
from typing import (Dict, Hashable, Iterable, Iterator, List, Mapping,
                    Optional, Sequence, Tuple, Union)

import numpy as np
from PIL import Image

from image_example_gen.core import artifact
from image_example_gen.core import config as config_lib

__all__ = [
    'CANONICAL_SIDE', 'DEFAULT_BANDS', 'DEFAULT_MAX_BUCKET', 'DEFAULT_TABLES',
    'DEFAULT_THRESHOLD', 'FINGERPRINT_BITS', 'MIN_SIDE', 'PHASH_FEATURE',
    'UnionFind', 'band_count', 'band_keys', 'component_roots',
    'describe_groups', 'edge_chunks', 'edges_from_fingerprints', 'find_probability', 'first_shared_band',
    'fingerprint', 'fingerprint_image', 'fingerprint_pixels', 'from_hex',
    'groups_from_edges', 'guaranteed_distance', 'hamming',
    'jpeg_decode_scale', 'near_duplicate_groups', 'open_for_fingerprint', 'pairs_within',
    'reduction_factor', 'reuses_scaled_decode', 'to_hex'
]

Fingerprint = int
MemberId = Hashable
Edge = Tuple[MemberId, MemberId, int]

FINGERPRINT_BITS = 64
# The feature of the Example that holds to_hex(fingerprint), ASCII bytes.
PHASH_FEATURE = artifact.PHASH
# The shorter side of the reduced image lies in [CANONICAL_SIDE, 2x).
CANONICAL_SIDE = 16
# Images whose shorter side is below this get no fingerprint (None).
MIN_SIDE = 8
# Chosen from benchmarks/near_duplicate_eval.py (docs/near_duplicates.md).
DEFAULT_THRESHOLD = config_lib.DEFAULT_NEAR_DUPLICATE_THRESHOLD
DEFAULT_BANDS = 4
DEFAULT_TABLES = 4
DEFAULT_MAX_BUCKET = 2048

_DCT_SIZE = 8
_JPEG_MAX_SCALE = 8  # libjpeg scales the inverse DCT by 1/1 to 1/8.
_BUCKET_NUMPY = 128  # numpy compares buckets of this many or more.


# ---------------------------------------------------------------------------
# The fingerprint.


def _ceil_div(a: int, b: int) -> int:
  return -(-a // b)


def reduction_factor(width: int, height: int) -> int:
  """The power of two f with ceil(shorter side / f) in [16, 32) (1 below 32)."""
  short = min(width, height)
  factor = 1
  while _ceil_div(short, 2 * factor) >= CANONICAL_SIDE:
    factor *= 2
  return factor


def reuses_scaled_decode(width: int, height: int,
                         scale: int = _JPEG_MAX_SCALE) -> bool:
  """Whether a 1/scale decode of a width x height image can be fingerprinted.

  True when the reduced image is still at least CANONICAL_SIDE on its shorter
  side (at 1/8: a shorter side of at least 121 px); otherwise pass the bytes
  to `fingerprint`, which decodes at the scale it needs.
  """
  return scale <= reduction_factor(width, height)


def jpeg_decode_scale(width: int, height: int) -> int:
  """The 1/scale at which libjpeg decodes a JPEG for its fingerprint: the
  reduction it needs, at most 1/8 (the decode check decodes at it too, so
  that the fingerprint reuses the check's decode)."""
  return min(reduction_factor(width, height), _JPEG_MAX_SCALE)


def open_for_fingerprint(data: bytes) -> Image.Image:
  """Opens image bytes; a JPEG is set to decode gray at the reduced scale."""
  image = Image.open(io.BytesIO(data))
  if image.format == 'JPEG':
    width, height = image.size
    scale = jpeg_decode_scale(width, height)
    if scale > 1:
      # Floor sizes make Pillow choose exactly `scale` (it takes the largest
      # of 8, 4, 2, 1 not above min(width // w, height // h)).
      image.draft('L', (width // scale, height // scale))
  return image


@functools.lru_cache(maxsize=4096)
def _dct_basis(size: int) -> np.ndarray:
  """The first 8 DCT-II basis vectors over `size` samples, as rows."""
  positions = np.arange(size)
  frequencies = np.arange(_DCT_SIZE)
  return np.cos(np.pi * (2 * positions[None, :] + 1) * frequencies[:, None] /
                (2 * size))


def fingerprint_pixels(pixels: np.ndarray) -> Optional[Fingerprint]:
  """The fingerprint of a 2-D array of gray values, at the size given.

  The 8x8 lowest frequencies of the array's DCT-II against their median.
  None when a side is below MIN_SIDE.
  """
  pixels = np.asarray(pixels)
  if pixels.ndim != 2:
    raise ValueError(f'expected a 2-D gray array, got shape {pixels.shape}')
  height, width = pixels.shape
  if min(height, width) < MIN_SIDE:
    return None
  coefficients = (_dct_basis(height) @ pixels @ _dct_basis(width).T).ravel()
  # Where the exact value is 0 (a flat image; a mirror-symmetric one's odd
  # frequencies), float rounding leaves ~1e-16 of the sum of the pixels:
  # snap it, so that such images get fixed bits, not rounding noise.
  tolerance = 1e-9 * (abs(coefficients[0]) + 1.0)
  coefficients[np.abs(coefficients) < tolerance] = 0.0
  low, high = np.partition(coefficients, (31, 32))[31:33]
  bits = coefficients > (low + high) / 2
  return int.from_bytes(np.packbits(bits).tobytes(), 'big')


def _reduce_array(pixels: np.ndarray, factor: int) -> np.ndarray:
  """Box-reduces by factor, rounding the size up as Image.reduce does."""
  height, width = pixels.shape
  pad_y, pad_x = (-height) % factor, (-width) % factor
  sums = np.pad(pixels.astype(np.float64), ((0, pad_y), (0, pad_x)))
  counts = np.pad(np.ones((height, width)), ((0, pad_y), (0, pad_x)))
  shape = (sums.shape[0] // factor, factor, sums.shape[1] // factor, factor)
  return sums.reshape(shape).sum((1, 3)) / counts.reshape(shape).sum((1, 3))


def fingerprint_image(image: Image.Image) -> Optional[Fingerprint]:
  """The fingerprint of an opened image: full size, or a reduced JPEG decode.

  A JPEG opened with `draft()` is used as it is, provided its shorter side is
  still at least CANONICAL_SIDE (`reuses_scaled_decode`); else ValueError:
  pass the bytes instead. Give it the pixels you publish: if the ingest turns
  images upright, turn the (reduced) image the same way first.
  """
  scale = _decoded_scale(image)
  if scale > 1 and min(image.size) < CANONICAL_SIDE:
    raise ValueError(
        f'a 1/{scale} decode of {image.size[0]}x{image.size[1]} px is too '
        'small to fingerprint; pass the image bytes to fingerprint()')
  factor = reduction_factor(*image.size)
  if image.mode in ('I', 'F') or image.mode.startswith('I;16'):
    # 16-bit and float gray: Pillow's convert('L') would clip them.
    pixels = np.asarray(image, dtype=np.float64)
    if factor > 1:
      pixels = _reduce_array(pixels, factor)
    return fingerprint_pixels(pixels)
  if image.mode != 'L':
    image = image.convert('L')
  if factor > 1:
    image = image.reduce(factor)
  return fingerprint_pixels(np.asarray(image))


def fingerprint_gray(pixels: np.ndarray) -> Optional[Fingerprint]:
  """The fingerprint of 8-bit gray pixels (a 2-D uint8 array) at full size,
  as `fingerprint_image` gives for the same pixels in an 'L' image."""
  height, width = pixels.shape
  if reduction_factor(width, height) > 1:
    return fingerprint_image(Image.fromarray(pixels))  # Pillow's reduce().
  return fingerprint_pixels(pixels)


def fingerprint(source: Union[bytes, bytearray, memoryview, Image.Image]
               ) -> Optional[Fingerprint]:
  """The 64-bit fingerprint of image bytes or of an opened image.

  Bytes are decoded at the reduced scale the fingerprint needs (a JPEG in
  gray, 1/2 to 1/8 inside libjpeg). An image: see `fingerprint_image`.
  None when the image's shorter side is below MIN_SIDE px.
  """
  if isinstance(source, Image.Image):
    return fingerprint_image(source)
  return fingerprint_image(open_for_fingerprint(bytes(source)))


def fingerprint_published(data: bytes,
                          preview: Optional[np.ndarray] = None,
                          size: Optional[Tuple[int, int]] = None,
                          preview_scale: int = 1
                          ) -> Optional[Fingerprint]:
  """The fingerprint of the bytes an Example publishes (checked, upright).

  Args:
    data: The published image bytes (JPEG, PNG, GIF or BMP).
    preview: The check's reduced gray decode (`ImageInfo.preview`), reused
      when it is fine enough (`reuses_scaled_decode`): a typical JPEG then
      costs about 51 us instead of 463 us (docs/near_duplicates.md).
    size: (width, height) of the full image, with `preview`.
    preview_scale: The 1/scale `preview` was decoded at
      (`ImageInfo.preview_scale`).

  Returns None when the image is too small to fingerprint (under MIN_SIDE px)
  or Pillow cannot reduce it; the caller counts such images.
  """
  try:
    if preview is not None and size and reuses_scaled_decode(
        *size, scale=preview_scale):
      return fingerprint_gray(preview)
    return fingerprint(data)
  except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
    return None


def _decoded_scale(image: Image.Image) -> int:
  """The 1/scale a JPEG was decoded at through draft() (1 without it)."""
  return (getattr(image, 'decoderconfig', None) or (1,))[0]


def to_hex(fp: Fingerprint) -> str:
  """16 lowercase hex digits (imagehash's str() of a phash)."""
  return f'{fp:016x}'


def from_hex(text: Union[str, bytes]) -> Fingerprint:
  if isinstance(text, bytes):
    text = text.decode('ascii')
  if len(text) != FINGERPRINT_BITS // 4:
    raise ValueError(f'expected {FINGERPRINT_BITS // 4} hex digits: {text!r}')
  return int(text, 16)


def hamming(a: Fingerprint, b: Fingerprint) -> int:
  """The number of bits in which two fingerprints differ."""
  return (a ^ b).bit_count()


# ---------------------------------------------------------------------------
# Banding.


def _splitmix64(state: int) -> Tuple[int, int]:
  state = (state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
  z = state
  z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
  z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
  return state, z ^ (z >> 31)


def _zigzag() -> List[int]:
  """Bit positions (0 = most significant = DCT (0, 0)) in zigzag order."""
  order = []
  for total in range(2 * _DCT_SIZE - 1):
    cells = [(v, total - v) for v in range(_DCT_SIZE)
             if 0 <= total - v < _DCT_SIZE]
    if total % 2 == 0:
      cells.reverse()
    order.extend(v * _DCT_SIZE + u for v, u in cells)
  return order


@functools.lru_cache(maxsize=None)
def _bit_order(table: int) -> Tuple[int, ...]:
  """The bit positions of table `table`, in the order its bands take them."""
  if table == 0:
    return tuple(_zigzag())
  order = list(range(FINGERPRINT_BITS))
  state = table
  for i in range(FINGERPRINT_BITS - 1, 0, -1):
    state, random = _splitmix64(state)
    j = random % (i + 1)
    order[i], order[j] = order[j], order[i]
  return tuple(order)


def _band_widths(bands: int) -> List[int]:
  if not 1 <= bands <= FINGERPRINT_BITS:
    raise ValueError(f'bands must be 1 to {FINGERPRINT_BITS}: {bands}')
  base, extra = divmod(FINGERPRINT_BITS, bands)
  return [base + (1 if band < extra else 0) for band in range(bands)]


@functools.lru_cache(maxsize=None)
def _table_lookup(table: int) -> Tuple[Tuple[int, ...], ...]:
  """8 tables (one per byte of the fingerprint, most significant first) of
  256 entries: the byte's bits moved to their place in the permuted word."""
  order = _bit_order(table)
  target = [0] * FINGERPRINT_BITS  # source position -> permuted position
  for permuted, source in enumerate(order):
    target[source] = permuted
  lookups = []
  for byte in range(8):
    entries = []
    for value in range(256):
      word = 0
      for bit in range(8):
        if value & (0x80 >> bit):
          word |= 1 << (FINGERPRINT_BITS - 1 - target[byte * 8 + bit])
      entries.append(word)
    lookups.append(tuple(entries))
  return tuple(lookups)


def _permute(fp: Fingerprint, table: int) -> int:
  l0, l1, l2, l3, l4, l5, l6, l7 = _table_lookup(table)
  return (l0[fp >> 56] | l1[(fp >> 48) & 255] | l2[(fp >> 40) & 255] |
          l3[(fp >> 32) & 255] | l4[(fp >> 24) & 255] |
          l5[(fp >> 16) & 255] | l6[(fp >> 8) & 255] | l7[fp & 255])


@functools.lru_cache(maxsize=None)
def _band_slices(bands: int) -> Tuple[Tuple[int, int], ...]:
  """(shift, mask) of each band in a permuted word."""
  slices, start = [], 0
  for width in _band_widths(bands):
    start += width
    slices.append((FINGERPRINT_BITS - start, (1 << width) - 1))
  return tuple(slices)


def band_count(bands: int = DEFAULT_BANDS, tables: int = DEFAULT_TABLES) -> int:
  """How many band keys each fingerprint emits."""
  return bands * tables


def band_keys(fp: Fingerprint, bands: int = DEFAULT_BANDS,
              tables: int = DEFAULT_TABLES) -> List[Tuple[int, int]]:
  """The (band id, band value) keys of a fingerprint, band id 0 first.

  Table t (0 <= t < tables) permutes the 64 bits (table 0: zigzag order) and
  cuts them into `bands` bands (widths differ by at most one bit); band id =
  t * bands + band. Two fingerprints within `bands - 1` bits share at least
  one key of every table.
  """
  slices = _band_slices(bands)
  keys = []
  for table in range(tables):
    word = _permute(fp, table)
    offset = table * bands
    keys.extend((offset + band, (word >> shift) & mask)
                for band, (shift, mask) in enumerate(slices))
  return keys


def first_shared_band(a: Fingerprint, b: Fingerprint,
                      bands: int = DEFAULT_BANDS,
                      tables: int = DEFAULT_TABLES) -> Optional[int]:
  """The lowest band id on which a and b agree, or None (never bucketed
  together). pairs_within reports a pair only in that band's bucket."""
  slices = _band_slices(bands)
  for table in range(tables):
    difference = _permute(a ^ b, table)
    for band, (shift, mask) in enumerate(slices):
      if not (difference >> shift) & mask:
        return table * bands + band
  return None


def guaranteed_distance(bands: int = DEFAULT_BANDS) -> int:
  """Pairs within this many bits are always found (pigeonhole)."""
  return bands - 1


def find_probability(distance: int, bands: int = DEFAULT_BANDS,
                     tables: int = DEFAULT_TABLES) -> float:
  """P(a pair `distance` bits apart shares a band), bits at random places.

  Within one table, by inclusion-exclusion over the sets of bands left free
  of differing bits; tables are taken as independent (they are fixed
  permutations, so this is the average over pairs, not a bound per pair).
  """
  if not 0 <= distance <= FINGERPRINT_BITS:
    raise ValueError(f'distance must be 0 to {FINGERPRINT_BITS}: {distance}')
  if distance < bands:
    return 1.0
  widths = _band_widths(bands)
  total = math.comb(FINGERPRINT_BITS, distance)
  miss = 0.0  # P(every band of the table holds a differing bit)
  # Bands differ in width by at most one bit: count subsets by how many of
  # each width they hold.
  wide, narrow = widths.count(widths[0]), bands - widths.count(widths[0])
  for i in range(wide + 1):
    for j in range(narrow + 1):
      free_bits = FINGERPRINT_BITS - i * widths[0] - j * widths[-1]
      ways = math.comb(wide, i) * math.comb(narrow, j)
      miss += (-1) ** (i + j) * ways * math.comb(free_bits, distance) / total
  return 1.0 - max(miss, 0.0) ** tables


# ---------------------------------------------------------------------------
# Comparing a bucket.


@functools.lru_cache(maxsize=1)
def _popcount16() -> np.ndarray:
  values = np.arange(1 << 16, dtype=np.uint32)
  counts = np.zeros(1 << 16, dtype=np.uint8)
  for bit in range(16):
    counts += ((values >> bit) & 1).astype(np.uint8)
  return counts


def _popcount(words: np.ndarray) -> np.ndarray:
  table = _popcount16()
  parts = words.view(np.uint16).reshape(-1, 4)
  return (table[parts[:, 0]].astype(np.int32) + table[parts[:, 1]] +
          table[parts[:, 2]] + table[parts[:, 3]])


def _close_index_pairs(fps: Sequence[Fingerprint], threshold: int,
                       window: Optional[int]) -> Iterator[Tuple[int, int, int]]:
  """(i, j, distance), i < j, of the sorted distinct fps within threshold;
  with a window, only j - i < window."""
  count = len(fps)
  if count < _BUCKET_NUMPY:
    for i in range(count):
      a = fps[i]
      stop = count if window is None else min(count, i + window)
      for j in range(i + 1, stop):
        distance = (a ^ fps[j]).bit_count()
        if distance <= threshold:
          yield i, j, distance
    return
  words = np.array(fps, dtype=np.uint64)
  if window is None:
    for i in range(count - 1):
      distances = _popcount(words[i + 1:] ^ words[i])
      for offset in np.flatnonzero(distances <= threshold):
        yield i, i + 1 + int(offset), int(distances[offset])
  else:
    for step in range(1, min(window, count)):
      distances = _popcount(words[step:] ^ words[:-step])
      for i in np.flatnonzero(distances <= threshold):
        yield int(i), int(i) + step, int(distances[i])


def pairs_within(members: Iterable[Tuple[MemberId, Fingerprint]],
                 threshold: int = DEFAULT_THRESHOLD,
                 *,
                 band: Optional[int] = None,
                 bands: int = DEFAULT_BANDS,
                 tables: int = DEFAULT_TABLES,
                 max_bucket: Optional[int] = DEFAULT_MAX_BUCKET,
                 spanning: bool = True) -> Iterator[Edge]:
  """The edges (id_a, id_b, distance) of one bucket: pairs within threshold.

  Args:
    members: (member id, fingerprint) of each image in the bucket. Ids must
      be orderable (e.g. the content sha256, the path, or an index).
    threshold: The largest Hamming distance that makes an edge.
    band: The bucket's band id. When given, a pair that also shares an
      earlier band id is left out: its bucket there reports it, so over all
      buckets each pair comes once.
    bands, tables: The band_keys layout (needed with `band`).
    max_bucket: Above this many distinct fingerprints, each is compared only
      with the next max_bucket - 1 in sorted order (None: no cap).
    spanning: Emit only the edges that join two members not yet connected
      in this bucket: a spanning forest, with the same groups, and at most
      (members - 1) edges however dense the bucket (False: every pair).

  Identical fingerprints are linked by a chain of distance-0 edges between
  their sorted ids; distinct fingerprints by the edge between the first id
  of each. Edges come in a deterministic order.
  """
  by_fp: Dict[Fingerprint, List[MemberId]] = {}
  for member, fp in members:
    by_fp.setdefault(fp, []).append(member)
  fps = sorted(by_fp)
  ids = [sorted(by_fp[fp]) for fp in fps]

  def reported_here(a: Fingerprint, b: Fingerprint) -> bool:
    return band is None or first_shared_band(a, b, bands, tables) == band

  for fp, same in zip(fps, ids):
    if len(same) > 1 and reported_here(fp, fp):
      for first, second in zip(same, same[1:]):
        yield first, second, 0
  window = None
  if max_bucket is not None and len(fps) > max_bucket:
    window = max(2, max_bucket)
  parent = list(range(len(fps)))

  def root(i: int) -> int:
    while parent[i] != i:
      parent[i] = parent[parent[i]]
      i = parent[i]
    return i

  for i, j, distance in _close_index_pairs(fps, threshold, window):
    if spanning:
      root_i, root_j = root(i), root(j)
      if root_i == root_j:
        continue
    if reported_here(fps[i], fps[j]):
      if spanning:
        parent[root_j] = root_i
      yield ids[i][0], ids[j][0], distance


# ---------------------------------------------------------------------------
# All buckets at once, vectorized (one process; the same edges' groups).

_SMALL_BUCKET = 64  # Buckets up to this many distinct fps are vectorized.


@functools.lru_cache(maxsize=None)
def _table_lookup_array(table: int) -> np.ndarray:
  return np.array(_table_lookup(table), dtype=np.uint64)


def _permute_array(fps: np.ndarray, table: int) -> np.ndarray:
  lookup = _table_lookup_array(table)
  out = np.zeros_like(fps)
  for byte in range(8):
    shift = np.uint64(8 * (7 - byte))
    out |= lookup[byte][(fps >> shift) & np.uint64(255)]
  return out


def _earlier_band_shared(difference: np.ndarray, band_id: int, bands: int
                        ) -> np.ndarray:
  """Whether each XOR of a pair is zero on some band id below band_id (one
  permutation per table)."""
  shared = np.zeros(len(difference), dtype=bool)
  slices = _band_slices(bands)
  for table in range((band_id + bands - 1) // bands):
    word = _permute_array(difference, table)
    for band in range(min(bands, band_id - table * bands)):
      shift, mask = slices[band]
      shared |= ((word >> np.uint64(shift)) & np.uint64(mask)) == 0
  return shared


def edges_from_fingerprints(fps: Union[Sequence[Fingerprint], np.ndarray],
                            threshold: int = DEFAULT_THRESHOLD,
                            *,
                            bands: int = DEFAULT_BANDS,
                            tables: int = DEFAULT_TABLES,
                            max_bucket: Optional[int] = DEFAULT_MAX_BUCKET
                            ) -> np.ndarray:
  """Every bucket of every band id at once, in numpy: an (edges, 3) array of
  (index a, index b, distance), indices into `fps`: `edge_chunks`, joined.

  The groups of these edges equal those of `pairs_within` over the buckets
  of `band_keys` (same banding, same first-band rule, same cap); only the
  edge lists differ (small buckets give every pair, not a spanning forest).
  """
  found = list(edge_chunks(fps, threshold, bands=bands, tables=tables,
                           max_bucket=max_bucket))
  if not found:
    return np.zeros((0, 3), dtype=np.int64)
  return np.concatenate(found).astype(np.int64, copy=False)


def edge_chunks(fps: Union[Sequence[Fingerprint], np.ndarray],
                threshold: int = DEFAULT_THRESHOLD,
                *,
                bands: int = DEFAULT_BANDS,
                tables: int = DEFAULT_TABLES,
                max_bucket: Optional[int] = DEFAULT_MAX_BUCKET,
                part_size: int = 1 << 17,
                overwrite_input: bool = False
                ) -> Iterator[np.ndarray]:
  """The edges of `edges_from_fingerprints`, as (k, 3) integer arrays of at
  most _UNION_BATCH rows (int32 below 2^31 images, where they can), so that
  a caller can fold them into its groups (`component_roots`) without
  holding them all.

  Memory: besides `fps`, a copy in sorted order (none with
  `overwrite_input`: `fps`, a uint64 array, is then sorted in place) and
  its sort order (argsort's 8 bytes an image while `fps` is sorted, then
  4 below 2^31 images), one band's values (2 bytes), and the arrays of one
  part of the band at a time: the images whose band values lie in one
  range, about `part_size` of them. On the million fingerprints of the
  million-file benchmark, the grouping (near_duplicate_groups.group_roots:
  `component_roots` of these edges) peaked 52 MB above the loaded
  fingerprints when each band was put in order whole; by value range,
  sorted in place, 39 MB (RSS sampled every 3 ms); with the sort in place
  by np.sort and the union-find's smaller steps (3f4aef4), 20 MB traced by
  tracemalloc (docs/scale.md). The edges are the same, in the same order.
  """
  fps = np.asarray(fps, dtype='<u8')
  index_type = np.int32 if len(fps) < 2**31 else np.int64
  # Sorted once by (fingerprint, index); a stable sort of each part's band
  # values then gives the (band value, fingerprint, index) order, which a
  # lexsort of the three took per band. Band values fit 16 (or 32) bits, and
  # the stable sort of those is a radix sort. On the 1,000,000 fingerprints
  # of the million-file benchmark the grouping took 2.6 s instead of 8.9 s.
  # In place, `fps` is sorted by np.sort's own in-place sort (no copy; equal
  # fingerprints are equal words, so any sort gives the same array), while
  # argsort's int64 indices are alive, before their int32 copy: the
  # gathered copy `fps[by_fingerprint]` took 8 bytes an image more.
  by_fingerprint = np.argsort(fps, kind='stable')
  if overwrite_input and fps.flags.c_contiguous and fps.flags.writeable:
    fps.sort()
    sorted_fps = fps
  else:
    sorted_fps = fps[by_fingerprint]
  by_fingerprint = by_fingerprint.astype(index_type, copy=False)
  # Byte k of each fingerprint, most significant first, without a copy.
  byte_columns = sorted_fps.view(np.uint8).reshape(-1, 8)[:, ::-1]
  small_limit = _SMALL_BUCKET if max_bucket is None else min(_SMALL_BUCKET,
                                                               max_bucket)
  for band_id in range(tables * bands):
    values = _band_values(byte_columns, band_id, bands)
    for members in _parts(values, part_size, index_type):
      yield from _bucket_edges(values[members], sorted_fps[members],
                               by_fingerprint[members], threshold, band_id,
                               bands, tables, max_bucket, small_limit)


def _band_values(byte_columns: np.ndarray, band_id: int,
                 bands: int) -> np.ndarray:
  """Band `band_id`'s value of each fingerprint (uint16, or uint32 for
  bands wider than 16 bits): its table's permutation, looked up a byte at a
  time for that band's bits only."""
  table, band = divmod(band_id, bands)
  shift, mask = _band_slices(bands)[band]
  value_type = np.uint16 if mask <= 0xFFFF else np.uint32
  lookup = ((_table_lookup_array(table) >> np.uint64(shift)) &
            np.uint64(mask)).astype(value_type)
  values = np.zeros(len(byte_columns), dtype=value_type)
  for byte in range(8):
    values |= lookup[byte][byte_columns[:, byte]]
  return values


def _parts(values: np.ndarray, part_size: int,
           index_type: type) -> Iterator[np.ndarray]:
  """The indices of `values` in parts of about `part_size`, each part the
  images whose values lie in one range (so that no bucket is split), in
  order of value (stably: in index order within a value)."""
  if len(values) <= part_size:
    yield np.argsort(values, kind='stable').astype(index_type)
    return
  for low, high in _value_ranges(values, part_size):
    members = np.flatnonzero((values >= low) & (values <= high)).astype(
        index_type)
    yield members[np.argsort(values[members], kind='stable')]


def _value_ranges(values: np.ndarray,
                  part_size: int) -> List[Tuple[int, int]]:
  """[low, high] ranges of `values`, each of about `part_size` of them, cut
  only between two values."""
  ordered = np.sort(values, kind='stable')
  ranges, start = [], 0
  while start < len(ordered):
    end = start + part_size
    if end < len(ordered):
      # To the end of the run of the value at end - 1.
      end = int(np.searchsorted(ordered, ordered[end - 1], side='right'))
    end = min(end, len(ordered))
    ranges.append((ordered[start], ordered[end - 1]))
    start = end
  return ranges


def _bucket_edges(values: np.ndarray, words: np.ndarray, ids: np.ndarray,
                  threshold: int, band_id: int, bands: int, tables: int,
                  max_bucket: Optional[int],
                  small_limit: int) -> Iterator[np.ndarray]:
  """The edges of the buckets of one band in (value, fingerprint, index)
  order: identical fingerprints chained in band 0, then every pair within
  `threshold` in buckets of up to `small_limit` distinct fingerprints
  (vectorized, one offset at a time), and `pairs_within` for larger ones;
  a pair that shares an earlier band is left to it."""
  count = len(values)
  # One array at a time, each let go before the next is made.
  identical = (values[1:] == values[:-1]) & (words[1:] == words[:-1])
  if band_id == 0 and identical.any():
    yield from _edges(ids, np.flatnonzero(identical), 1)
  first = np.ones(count, dtype=bool)
  first[1:] = ~identical
  del identical
  values = values[first]
  words = words[first]
  ids = ids[first]
  del first
  starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
  sizes = np.diff(np.r_[starts, len(values)])
  small = np.repeat(sizes <= small_limit, sizes)
  for start, size in zip(starts[sizes > small_limit],
                         sizes[sizes > small_limit]):
    members = list(zip(ids[start:start + size].tolist(),
                       words[start:start + size].tolist()))
    edges = list(pairs_within(members, threshold, band=band_id,
                              bands=bands, tables=tables,
                              max_bucket=max_bucket))
    for begin in range(0, len(edges), _UNION_BATCH):
      yield np.array(edges[begin:begin + _UNION_BATCH],
                     dtype=np.int64).reshape(-1, 3)
  for step in range(1, min(small_limit, len(values))):
    same = (values[step:] == values[:-step]) & small[step:]
    if not same.any():
      break
    left = np.flatnonzero(same)
    distances = _popcount(words[left] ^ words[left + step])
    close = distances <= threshold
    left, distances = left[close], distances[close]
    if band_id:
      keep = ~_earlier_band_shared(words[left] ^ words[left + step],
                                   band_id, bands)
      left, distances = left[keep], distances[keep]
    if len(left):
      yield from _edges(ids, left, step, distances)


def _edges(ids: np.ndarray, left: np.ndarray, step: int,
           distances: Optional[np.ndarray] = None) -> Iterator[np.ndarray]:
  """The edges (ids[left], ids[left + step], distance; 0 without
  `distances`) as (k, 3) arrays of `ids`' type, of at most _UNION_BATCH
  rows, made one at a time: a million identical images make one chain of a
  million edges. (int32 ids: a chunk of 2^16 edges takes 0.75 MB, not 1.5.)"""
  for start in range(0, len(left), _UNION_BATCH):
    part = left[start:start + _UNION_BATCH]
    edges = np.zeros((len(part), 3), dtype=ids.dtype)
    edges[:, 0] = ids[part]
    edges[:, 1] = ids[part + step]
    if distances is not None:
      edges[:, 2] = distances[start:start + _UNION_BATCH]
    yield edges


def component_roots(count: int, chunks: Iterable[np.ndarray]) -> np.ndarray:
  """Connected components of `count` nodes, in arrays: each node's root (the
  smallest index of its component), from edge chunks ((k, 2+) arrays of
  node indices) folded in _UNION_BATCH edges at a time, so that the edges
  are never all held.

  On the million-file benchmark's 1,000,000 fingerprints it replaces a scipy
  graph of all 1.24 million edges (benchmarks/copies_profile.py,
  docs/scale.md).
  """
  index_type = np.int32 if count < 2**31 else np.int64
  parent = None  # Made at the first chunk: after edge_chunks' sort.
  pending, size = [], 0
  for chunk in chunks:
    if parent is None:
      parent = np.arange(count, dtype=index_type)
    pending.append(chunk[:, :2].astype(index_type))
    size += len(chunk)
    if size >= _UNION_BATCH:
      pairs, pending, size = np.concatenate(pending), [], 0
      _unite(parent, pairs)
      del pairs
  if parent is None:
    return np.arange(count, dtype=index_type)
  if pending:
    _unite(parent, np.concatenate(pending))
  return parent


# Edges folded into the roots at a time: each fold passes over every node a
# few times, so folding each step's edges (about 1,000 steps at a million
# images) would cost seconds. 2^16 pairs of int32 take 0.5 MB; 2^18 (before
# 3f4aef4) put the grouping's peak 5 MB higher at a million images, for
# 0.24 s less (4.11 s against 4.35 s).
_UNION_BATCH = 1 << 16


def _unite(parent: np.ndarray, pairs: np.ndarray) -> None:
  """Union-find by hooking, in place on a flat `parent` (every node points
  at its root): each round takes every pair's two roots, hooks the larger to
  the smaller (`np.minimum.at`: of several hooks on one root the smallest
  wins, and the pairs that lost try again next round), then flattens every
  path. A parent is never above its node, so no cycle forms; every round
  hooks at least one root, so the rounds end."""
  a, b = pairs[:, 0], pairs[:, 1]
  while len(a):
    a, b = parent[a], parent[b]
    differ = a != b
    a, b = a[differ], b[differ]
    if not len(a):
      break
    low, high = np.minimum(a, b), np.maximum(a, b)
    np.minimum.at(parent, high, low)
    _flatten(parent)
    a, b = low, high


# Nodes whose parents _flatten moves at a time: 1 MB of int32 beside
# `parent`, where a whole copy of it took 4 MB at a million images.
_FLATTEN_SLICE = 1 << 18


def _flatten(parent: np.ndarray) -> None:
  """Points every node at its root, in place, a slice of nodes at a time.

  Each pass moves every node to its grandparent, reading parents that
  earlier slices of the pass may have moved already: still an ancestor, so
  still on the node's path to its root. A pass that moves no node leaves
  every parent a root (its own parent)."""
  while True:
    moved = False
    for start in range(0, len(parent), _FLATTEN_SLICE):
      nodes = parent[start:start + _FLATTEN_SLICE]
      grand = parent[nodes]
      if not moved and not np.array_equal(grand, nodes):
        moved = True
      nodes[:] = grand
      del grand
    if not moved:
      return


# ---------------------------------------------------------------------------
# Groups.


class UnionFind:
  """Disjoint sets over hashable ids; only ids that were united are held."""

  def __init__(self):
    self._parent: Dict[MemberId, MemberId] = {}
    self._size: Dict[MemberId, int] = {}

  def find(self, member: MemberId) -> MemberId:
    parent = self._parent
    root = member
    while parent.get(root, root) != root:
      root = parent[root]
    while member != root:  # Path compression.
      parent[member], member = root, parent[member]
    return root

  def union(self, a: MemberId, b: MemberId) -> MemberId:
    for member in (a, b):
      if member not in self._parent:
        self._parent[member] = member
        self._size[member] = 1
    root_a, root_b = self.find(a), self.find(b)
    if root_a == root_b:
      return root_a
    if self._size[root_a] < self._size[root_b]:
      root_a, root_b = root_b, root_a
    self._parent[root_b] = root_a
    self._size[root_a] += self._size.pop(root_b)
    return root_a

  def __len__(self) -> int:
    return len(self._parent)

  def groups(self) -> List[List[MemberId]]:
    """Every set of two or more ids, each sorted, largest set first."""
    by_root: Dict[MemberId, List[MemberId]] = {}
    for member in self._parent:
      by_root.setdefault(self.find(member), []).append(member)
    groups = [sorted(group) for group in by_root.values() if len(group) > 1]
    groups.sort(key=lambda group: (-len(group), group[0]))
    return groups


def groups_from_edges(edges: Iterable[Sequence]) -> List[List[MemberId]]:
  """The connected components (2+ members) of the graph of the edges.

  Edges are (a, b) or (a, b, distance); memory grows with the ids that
  appear in an edge, not with all images. Groups are sorted, largest first.
  """
  union_find = UnionFind()
  for edge in edges:
    union_find.union(edge[0], edge[1])
  return union_find.groups()


def near_duplicate_groups(items: Iterable[Tuple[MemberId, Fingerprint]],
                          threshold: int = DEFAULT_THRESHOLD,
                          *,
                          bands: int = DEFAULT_BANDS,
                          tables: int = DEFAULT_TABLES,
                          max_bucket: Optional[int] = DEFAULT_MAX_BUCKET
                          ) -> List[List[MemberId]]:
  """The groups of (id, fingerprint) items, in one process.

  `edges_from_fingerprints` (numpy) finds the edges, union-find the groups;
  the same groups as band_keys -> GroupByKey -> pairs_within ->
  groups_from_edges. Items whose fingerprint is None are left out.
  """
  items = [(member, fp) for member, fp in items if fp is not None]
  edges = edges_from_fingerprints([fp for _, fp in items], threshold,
                                  bands=bands, tables=tables,
                                  max_bucket=max_bucket)
  ids = [member for member, _ in items]
  return groups_from_edges((ids[a], ids[b]) for a, b in edges[:, :2].tolist())


def describe_groups(groups: Sequence[Sequence[MemberId]],
                    label_of: Optional[Mapping[MemberId, Hashable]] = None,
                    split_of: Optional[Mapping[MemberId, str]] = None,
                    largest: int = 10) -> Dict[str, object]:
  """What the ingest report says of the groups.

  Returns: groups, images_in_groups, size_histogram ({size: count}),
  largest (the `largest` biggest groups), and with labels:
  groups_spanning_labels (likely labelling errors) and their members; with
  splits: groups_straddling_splits and images_in_straddling_groups (the
  leak that split_key='near_duplicate' removes).
  """
  histogram: Dict[int, int] = {}
  for group in groups:
    histogram[len(group)] = histogram.get(len(group), 0) + 1
  ordered = sorted(groups, key=lambda group: (-len(group), min(group)))
  summary: Dict[str, object] = {
      'groups': len(groups),
      'images_in_groups': sum(len(group) for group in groups),
      'size_histogram': dict(sorted(histogram.items())),
      'largest': [list(group) for group in ordered[:largest]],
  }
  if label_of is not None:
    spanning = [list(group) for group in ordered
                if len({label_of.get(member) for member in group}) > 1]
    summary['groups_spanning_labels'] = len(spanning)
    summary['spanning_labels'] = spanning[:largest]
  if split_of is not None:
    straddling = [group for group in ordered
                  if len({split_of.get(member) for member in group}) > 1]
    summary['groups_straddling_splits'] = len(straddling)
    summary['images_in_straddling_groups'] = sum(
        len(group) for group in straddling)
  return summary
