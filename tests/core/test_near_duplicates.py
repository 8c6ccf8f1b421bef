"""Tests of core/near_duplicates: fingerprints, banding, buckets, groups."""

import collections
import io
import itertools
import random

import numpy as np
from PIL import Image
from PIL import ImageEnhance
import pytest

from image_example_gen.core import near_duplicates as nd


def _jpeg(image, quality=90):
  buffer = io.BytesIO()
  image.convert('RGB').save(buffer, 'JPEG', quality=quality)
  return buffer.getvalue()


def _png(image):
  buffer = io.BytesIO()
  image.save(buffer, 'PNG')
  return buffer.getvalue()


@pytest.fixture(scope='module', name='tiles')
def tiles_fixture():
  """12 non-overlapping 213x213 tiles of the two sklearn photos, as JPEG."""
  sklearn_datasets = pytest.importorskip('sklearn.datasets')
  tiles = []
  for photo in sklearn_datasets.load_sample_images().images:
    image = Image.fromarray(photo)
    for row, column in itertools.product(range(2), range(3)):
      box = (column * 213, row * 213, column * 213 + 213, row * 213 + 213)
      tiles.append(_jpeg(image.crop(box)))
  return tiles


def _variants(data):
  image = Image.open(io.BytesIO(data)).convert('RGB')
  width, height = image.size
  return {
      'resize0.5x': _jpeg(image.resize((width // 2, height // 2),
                                       Image.LANCZOS)),
      'resize2x': _jpeg(image.resize((width * 2, height * 2), Image.LANCZOS)),
      'jpeg50': _jpeg(image, 50),
      'jpeg95': _jpeg(image, 95),
      'png': _png(image),
      'brightness1.2': _jpeg(ImageEnhance.Brightness(image).enhance(1.2)),
      'crop2%': _jpeg(image.crop((2, 2, width - 2, height - 2))),
  }


def _flip_bits(fp, count, rng):
  for position in rng.sample(range(64), count):
    fp ^= 1 << position
  return fp


def _bucket_edges(items, threshold, bands, tables, **kwargs):
  """band_keys -> GroupByKey -> pairs_within, as the Beam wiring runs it."""
  buckets = collections.defaultdict(list)
  for member, fp in items:
    for key in nd.band_keys(fp, bands, tables):
      buckets[key].append((member, fp))
  edges = []
  for (band, _), members in sorted(buckets.items()):
    edges.extend(nd.pairs_within(members, threshold, band=band, bands=bands,
                                 tables=tables, **kwargs))
  return edges


def _components(nodes, pairs):
  """Connected components (2+ members) by breadth-first search."""
  neighbours = collections.defaultdict(set)
  for a, b in pairs:
    neighbours[a].add(b)
    neighbours[b].add(a)
  seen, groups = set(), []
  for node in nodes:
    if node in seen or node not in neighbours:
      continue
    queue, group = [node], []
    seen.add(node)
    while queue:
      current = queue.pop()
      group.append(current)
      for other in neighbours[current] - seen:
        seen.add(other)
        queue.append(other)
    groups.append(sorted(group))
  return sorted(groups, key=lambda group: (-len(group), group[0]))


# ---------------------------------------------------------------------------
# The fingerprint.


def test_fingerprint_is_stable_and_64_bits(tiles):
  for data in tiles:
    first = nd.fingerprint(data)
    assert first == nd.fingerprint(data) == nd.fingerprint(bytearray(data))
    assert 0 <= first < 1 << 64
    # The median splits the 64 coefficients: exactly 32 bits are set.
    assert first.bit_count() == 32


def test_fingerprint_golden_value():
  """A lossless synthetic image: the bits do not depend on any codec."""
  y, x = np.mgrid[0:96, 0:128]
  pixels = (127 + 60 * np.sin(x / 9.0) * np.cos(y / 13.0) + 0.5 * x -
            0.3 * y).clip(0, 255).astype(np.uint8)
  fp = nd.fingerprint(_png(Image.fromarray(pixels)))
  assert nd.to_hex(fp) == nd.to_hex(nd.fingerprint(Image.fromarray(pixels)))
  assert nd.to_hex(fp) == 'a887f8f807f807b8'


def test_fingerprint_pixels_matches_imagehash_phash_on_32x32():
  """On the same 32x32 gray pixels, imagehash.phash's algorithm (scipy DCT
  of both axes, 8x8 low block, above the median) gives the same bits."""
  fftpack = pytest.importorskip('scipy.fftpack')
  rng = np.random.default_rng(0)
  for _ in range(20):
    pixels = rng.integers(0, 256, (32, 32)).astype(np.float64)
    low = fftpack.dct(fftpack.dct(pixels, axis=0), axis=1)[:8, :8]
    bits = ''.join('1' if value else '0'
                   for value in (low > np.median(low)).ravel())
    assert nd.fingerprint_pixels(pixels) == int(bits, 2)


def test_fingerprint_reuses_the_jpeg_1_8_decode(tiles):
  """The decode guarantee's gray 1/8 decode gives the same fingerprint."""
  for data in tiles:
    image = Image.open(io.BytesIO(data))
    width, height = image.size
    assert nd.reuses_scaled_decode(width, height)
    image.draft('L', (width // 8, height // 8))
    image.load()
    assert image.size == (27, 27)
    assert nd.fingerprint(image) == nd.fingerprint(data)


def test_reuses_scaled_decode_threshold():
  assert not nd.reuses_scaled_decode(120, 400)
  assert nd.reuses_scaled_decode(121, 400)
  assert nd.reuses_scaled_decode(61, 400, scale=4)
  assert not nd.reuses_scaled_decode(60, 400, scale=4)


def test_too_small_scaled_decode_is_refused():
  data = _jpeg(Image.new('RGB', (100, 80), (200, 30, 30)))
  image = Image.open(io.BytesIO(data))
  image.draft('L', (100 // 8, 80 // 8))
  with pytest.raises(ValueError, match='pass the image bytes'):
    nd.fingerprint(image)
  assert nd.fingerprint(data) is not None


def test_reduction_lands_every_size_on_16_to_31_px():
  for width, height in ((16, 16), (31, 200), (32, 32), (121, 500),
                        (250, 190), (4000, 3000), (33, 17)):
    factor = nd.reduction_factor(width, height)
    short = -(-min(width, height) // factor)
    assert 16 <= short < 32 or (factor == 1 and short < 32)


def test_small_flat_and_wide_images():
  assert nd.fingerprint(Image.new('L', (7, 100))) is None
  assert nd.fingerprint(Image.new('L', (8, 8), 0)) == 0
  # Any flat gray: only the DC bit (coefficient (0, 0)) above the median.
  for value in (1, 128, 255):
    assert nd.fingerprint(Image.new('L', (300, 200), value)) == 1 << 63
  assert nd.fingerprint(Image.new('RGB', (64, 64), (10, 200, 30))) == 1 << 63


def test_sixteen_bit_and_palette_images(tiles):
  image = Image.open(io.BytesIO(tiles[0])).convert('L')
  pixels = np.asarray(image).astype(np.uint16) * 257
  sixteen = Image.fromarray(pixels)
  assert sixteen.mode.startswith('I;16')
  eight = nd.fingerprint(image)
  assert nd.hamming(nd.fingerprint(sixteen), eight) <= 2
  palette = Image.open(io.BytesIO(tiles[0])).convert('RGB').quantize(256)
  assert nd.hamming(nd.fingerprint(_png(palette)), eight) <= 6


def test_hex_round_trip_and_hamming():
  rng = random.Random(3)
  for _ in range(100):
    fp = rng.getrandbits(64)
    text = nd.to_hex(fp)
    assert len(text) == 16 and text == text.lower()
    assert nd.from_hex(text) == fp == nd.from_hex(text.encode('ascii'))
  assert nd.to_hex(1) == '0000000000000001'
  with pytest.raises(ValueError):
    nd.from_hex('abc')
  assert nd.hamming(0, (1 << 64) - 1) == 64
  assert nd.hamming(0b1011, 0b0001) == 2


def test_variants_are_within_the_threshold(tiles):
  for data in tiles:
    base = nd.fingerprint(data)
    for name, variant in _variants(data).items():
      distance = nd.hamming(base, nd.fingerprint(variant))
      assert distance <= nd.DEFAULT_THRESHOLD, (name, distance)


def test_distinct_photos_are_beyond_the_threshold(tiles):
  fps = [nd.fingerprint(data) for data in tiles]
  for a, b in itertools.combinations(fps, 2):
    assert nd.hamming(a, b) > nd.DEFAULT_THRESHOLD + 4


def test_variant_families_group_and_photos_stay_apart(tiles):
  items, family = [], {}
  for index, data in enumerate(tiles):
    for name, variant in [('base', data)] + list(_variants(data).items()):
      member = f'{index:02d}/{name}'
      items.append((member, nd.fingerprint(variant)))
      family[member] = index
  edges = _bucket_edges(items, nd.DEFAULT_THRESHOLD, nd.DEFAULT_BANDS,
                        nd.DEFAULT_TABLES)
  groups = nd.groups_from_edges(edges)
  assert len(groups) == len(tiles)
  for group in groups:
    assert len({family[member] for member in group}) == 1
    assert len(group) == 1 + len(_variants(tiles[0]))
  assert groups == nd.near_duplicate_groups(items)


# ---------------------------------------------------------------------------
# Banding.


def test_band_keys_layout():
  keys = nd.band_keys(0x0123456789ABCDEF, bands=4, tables=3)
  assert [band for band, _ in keys] == list(range(12))
  assert all(0 <= value < 1 << 16 for _, value in keys)
  assert nd.band_count(4, 3) == 12
  # Table 0 takes the bits in zigzag order: DCT (0,0), (0,1), (1,0), ...
  assert nd.band_keys(1 << 63, 4, 1)[0] == (0, 1 << 15)
  assert nd.band_keys(1 << 62, 4, 1)[0] == (0, 1 << 14)
  assert nd.band_keys(1 << 55, 4, 1)[0] == (0, 1 << 13)
  # Uneven widths: 11 bands of 6 (9 of them) and 5 bits.
  keys = nd.band_keys((1 << 64) - 1, bands=11, tables=1)
  assert [value for _, value in keys] == [63] * 9 + [31] * 2
  # Fixed permutations: the same on every machine and Python version.
  assert nd.band_keys(0x0123456789ABCDEF, 4, 2)[4:] == [
      (4, 23939), (5, 28238), (6, 27629), (7, 114)]


def test_band_keys_are_a_permutation_of_the_bits():
  rng = random.Random(5)
  for tables in (1, 4):
    for _ in range(50):
      fp = rng.getrandbits(64)
      keys = nd.band_keys(fp, 4, tables)
      for table in range(tables):
        assert sum(value.bit_count()
                   for _, value in keys[4 * table:4 * table + 4]) == \
            fp.bit_count()


@pytest.mark.parametrize('bands,tables', [(4, 1), (4, 4), (11, 1), (6, 2)])
def test_banding_finds_every_pair_within_the_guarantee(bands, tables):
  """Property test against brute force: every pair within bands - 1 bits
  shares a band key (pigeonhole), among random and planted fingerprints."""
  rng = random.Random(bands * 100 + tables)
  guarantee = nd.guaranteed_distance(bands)
  assert guarantee == bands - 1
  fps = [rng.getrandbits(64) for _ in range(300)]
  for _ in range(300):
    fps.append(_flip_bits(rng.choice(fps), rng.randint(0, guarantee), rng))
  keys = [set(nd.band_keys(fp, bands, tables)) for fp in fps]
  for i, j in itertools.combinations(range(len(fps)), 2):
    if nd.hamming(fps[i], fps[j]) <= guarantee:
      assert keys[i] & keys[j], (hex(fps[i]), hex(fps[j]))


def test_exact_layout_gives_every_pair_within_the_threshold():
  """With threshold + 1 bands, the buckets' pairs are exactly the
  brute-force pairs within the threshold, each once."""
  threshold = 6
  rng = random.Random(11)
  fps = [rng.getrandbits(64) for _ in range(200)]
  for _ in range(400):
    fps.append(_flip_bits(rng.choice(fps), rng.randint(0, threshold + 2),
                          rng))
  items = list(enumerate(fps))
  edges = _bucket_edges(items, threshold, threshold + 1, 1, spanning=False)
  pairs = [(a, b) for a, b, _ in edges]
  brute = {(i, j) for i, j in itertools.combinations(range(len(fps)), 2)
           if fps[i] != fps[j] and nd.hamming(fps[i], fps[j]) <= threshold}
  # Identical fingerprints come as chains; the others as single pairs.
  distinct_pairs = [(a, b) for a, b in pairs if fps[a] != fps[b]]
  assert len(distinct_pairs) == len(set(distinct_pairs))
  distinct_first_ids = {(a, b) for a, b in distinct_pairs}
  expected = set()
  first_id = {}
  for index, fp in items:
    first_id.setdefault(fp, index)
  for i, j in brute:
    a, b = first_id[fps[i]], first_id[fps[j]]
    expected.add((a, b) if fps[a] < fps[b] else (b, a))
  assert {(a, b) if fps[a] < fps[b] else (b, a)
          for a, b in distinct_first_ids} == expected
  all_brute = [(i, j) for i, j in itertools.combinations(range(len(fps)), 2)
               if nd.hamming(fps[i], fps[j]) <= threshold]
  assert nd.groups_from_edges(edges) == _components(range(len(fps)),
                                                    all_brute)


@pytest.mark.slow
def test_default_banding_groups_equal_brute_force_over_shared_bands():
  rng = random.Random(7)
  fps = [rng.getrandbits(64) for _ in range(1500)]
  for _ in range(500):
    fps.append(_flip_bits(rng.choice(fps), rng.choice((0, 2, 4, 6, 8, 10)),
                          rng))
  fps += [1 << 63] * 30 + [_flip_bits(1 << 63, 2, rng) for _ in range(40)]
  items = list(enumerate(fps))
  edges = _bucket_edges(items, nd.DEFAULT_THRESHOLD, nd.DEFAULT_BANDS,
                        nd.DEFAULT_TABLES)
  brute = [(i, j) for i, j in itertools.combinations(range(len(fps)), 2)
           if nd.hamming(fps[i], fps[j]) <= nd.DEFAULT_THRESHOLD and
           set(nd.band_keys(fps[i])) & set(nd.band_keys(fps[j]))]
  expected = _components(range(len(fps)), brute)
  assert nd.groups_from_edges(edges) == expected
  # The numpy batch path finds the same groups.
  assert nd.near_duplicate_groups(items) == expected
  # Every pair within the guarantee is in one group.
  group_of = {m: g for g, group in enumerate(expected) for m in group}
  for i, j in itertools.combinations(range(len(fps)), 2):
    if nd.hamming(fps[i], fps[j]) <= nd.guaranteed_distance():
      assert group_of[i] == group_of[j]


def test_find_probability_matches_monte_carlo():
  rng = random.Random(13)
  for distance in (4, 6, 8, 10):
    hits = 0
    trials = 3000
    for _ in range(trials):
      fp = rng.getrandbits(64)
      other = _flip_bits(fp, distance, rng)
      hits += bool(set(nd.band_keys(fp, 4, 1)) & set(nd.band_keys(other, 4,
                                                                    1)))
    assert abs(hits / trials - nd.find_probability(distance, 4, 1)) < 0.03
  assert nd.find_probability(3, 4, 4) == 1.0
  assert nd.find_probability(10, 11, 1) == 1.0
  assert 0.5 < nd.find_probability(10, 4, 4) < 0.55


# ---------------------------------------------------------------------------
# One bucket.


def test_pairs_within_all_pairs_spanning_and_identical_chains():
  members = [('a', 0b0000), ('b', 0b0001), ('c', 0b0011), ('d', 0b0111),
             ('e', 0b0000), ('f', 0b0000), ('z', (1 << 64) - 1)]
  every = list(nd.pairs_within(members, 2, spanning=False))
  assert ('a', 'e', 0) in every and ('e', 'f', 0) in every
  assert {(a, b) for a, b, _ in every if a not in 'ef' and b not in 'ef'} == {
      ('a', 'b'), ('a', 'c'), ('b', 'c'), ('b', 'd'), ('c', 'd')}
  spanning = list(nd.pairs_within(members, 2))
  assert len(spanning) == 5  # 6 connected members, 'z' alone.
  assert nd.groups_from_edges(spanning) == nd.groups_from_edges(every) == [
      ['a', 'b', 'c', 'd', 'e', 'f']]
  assert list(nd.pairs_within([('x', 5)], 2)) == []


def test_pairs_within_reports_each_pair_in_its_first_shared_band():
  rng = random.Random(17)
  fps = [rng.getrandbits(64) for _ in range(50)]
  fps += [_flip_bits(fp, 2, rng) for fp in fps[:30]] + fps[:5]
  edges = _bucket_edges(list(enumerate(fps)), nd.DEFAULT_THRESHOLD,
                        nd.DEFAULT_BANDS, nd.DEFAULT_TABLES, spanning=False)
  pairs = [tuple(sorted((a, b))) for a, b, _ in edges]
  assert len(pairs) == len(set(pairs))
  assert len(set(pairs)) == 35


def test_huge_bucket_is_capped_to_a_window():
  rng = random.Random(19)
  blank = 1 << 63
  members = [(f'blank{i:05d}', blank) for i in range(5000)]
  members += [(f'near{i:04d}', _flip_bits(blank, 2, rng)) for i in range(300)]
  edges = list(nd.pairs_within(members, 10, max_bucket=50))
  # 5,000 identical: a chain of 4,999; the near ones join by spanning edges.
  assert sum(1 for _, _, d in edges if d == 0) >= 4999
  assert len(edges) < 5000 + 300
  assert len(nd.groups_from_edges(edges)) == 1
  # The window bounds the comparisons: in sorted order, x and x ^ (1 << 63)
  # lie about half the bucket apart, so a window of 10 does not compare them.
  spread = [(i, rng.getrandbits(64)) for i in range(1000)]
  spread.append((5000, spread[0][1] ^ (1 << 63)))
  def linked(edges):
    return any({a, b} == {0, 5000} for a, b, _ in edges)
  assert linked(nd.pairs_within(spread, 2, max_bucket=None))
  assert not linked(nd.pairs_within(spread, 2, max_bucket=10))


# ---------------------------------------------------------------------------
# Groups.


def test_union_find_is_transitive():
  groups = nd.groups_from_edges([('a', 'b'), ('c', 'd'), ('b', 'c', 4),
                                 ('x', 'y'), ('y', 'x')])
  assert groups == [['a', 'b', 'c', 'd'], ['x', 'y']]
  union_find = nd.UnionFind()
  union_find.union(1, 2)
  union_find.union(3, 4)
  assert union_find.find(1) != union_find.find(3)
  union_find.union(2, 3)
  assert len({union_find.find(n) for n in (1, 2, 3, 4)}) == 1
  assert len(union_find) == 4
  assert nd.groups_from_edges([]) == []


def test_union_find_matches_breadth_first_search_on_random_graphs():
  rng = random.Random(23)
  for _ in range(20):
    nodes = list(range(200))
    edges = [(rng.randrange(200), rng.randrange(200)) for _ in range(150)]
    edges = [(a, b) for a, b in edges if a != b]
    assert nd.groups_from_edges(edges) == _components(nodes, edges)


def _groups_of_roots(roots):
  members = collections.defaultdict(list)
  for node, root in enumerate(roots.tolist()):
    members[root].append(node)
  return sorted((group for group in members.values() if len(group) > 1),
                key=lambda group: (-len(group), group[0]))


@pytest.mark.parametrize('batch,flatten_slice', [
    (1, 1 << 18), (7, 1 << 18), (1 << 18, 1 << 18), (7, 1), (1 << 18, 17)])
def test_component_roots_match_breadth_first_search(monkeypatch, batch,
                                                    flatten_slice):
  """Array union-find (hooking rounds), folded in batches of `batch` edges
  and flattened `flatten_slice` nodes at a time, against a breadth-first
  search; with chains given largest node first, whose pairs all hook in
  one round."""
  monkeypatch.setattr(nd, '_UNION_BATCH', batch)
  monkeypatch.setattr(nd, '_FLATTEN_SLICE', flatten_slice)
  rng = random.Random(31)
  for trial in range(20):
    nodes = list(range(300))
    edges = [(rng.randrange(300), rng.randrange(300)) for _ in range(200)]
    if trial % 2:
      edges += [(node, node - 1) for node in range(299, 250, -1)]
    edges = [(a, b) for a, b in edges if a != b]
    chunks = [np.array(edges[start:start + 13], dtype=np.int64)
              for start in range(0, len(edges), 13)]
    roots = nd.component_roots(len(nodes), chunks)
    assert _groups_of_roots(roots) == _components(nodes, edges)
    # Every root is its component's smallest node.
    assert all(roots[node] <= node for node in nodes)
  assert nd.component_roots(3, []).tolist() == [0, 1, 2]


@pytest.mark.parametrize('flatten_slice', [1, 2, 5, 1 << 18])
def test_flatten_points_every_node_at_its_root(monkeypatch, flatten_slice):
  """Deep paths, each node's parent anywhere below it, flattened in slices
  that read parents earlier slices have moved."""
  monkeypatch.setattr(nd, '_FLATTEN_SLICE', flatten_slice)
  rng = np.random.default_rng(5)
  for _ in range(20):
    parent = np.zeros(60, dtype=np.int32)
    for node in range(1, 60):
      parent[node] = rng.integers(0, node + 1)
    roots = parent.copy()
    for node in range(60):  # Walk each path up by hand.
      while roots[node] != parent[roots[node]]:
        roots[node] = parent[roots[node]]
    nd._flatten(parent)  # pylint: disable=protected-access
    assert parent.tolist() == roots.tolist()


def test_edge_chunks_cut_a_long_chain_into_bounded_chunks(monkeypatch):
  monkeypatch.setattr(nd, '_UNION_BATCH', 10)
  fps = [0x00000000FFFFFFFF] * 35 + [0x0F0F0F0F0F0F0F0F]
  chunks = list(nd.edge_chunks(fps, 4))
  assert max(len(chunk) for chunk in chunks) == 10
  assert _groups_of_roots(nd.component_roots(len(fps), chunks)) == [
      list(range(35))]


@pytest.mark.parametrize('threshold', [0, 4, 10])
def test_edge_chunks_give_the_same_edges_in_parts_of_any_size(threshold):
  """Parts split a band only between two of its values: the edges do not
  depend on the part size (clusters of near copies, identical blanks, and
  unrelated fingerprints)."""
  rng = np.random.default_rng(7)
  base = rng.integers(0, 2**63, 400, dtype=np.int64).astype(np.uint64)
  flips = [np.uint64(1) << rng.integers(0, 64, 400).astype(np.uint64)
           for _ in range(3)]
  fps = np.concatenate([base] + [base ^ flip for flip in flips] + [
      np.zeros(50, np.uint64),
      rng.integers(0, 2**63, 600, dtype=np.int64).astype(np.uint64)])
  rng.shuffle(fps)

  def edges(part_size):
    found = np.concatenate(list(nd.edge_chunks(fps, threshold,
                                               part_size=part_size)))
    return sorted(map(tuple, found.tolist()))

  whole = edges(len(fps))
  assert len(whole) >= (49 if threshold == 0 else 1000)  # 50 blanks chain.
  assert edges(1) == whole
  assert edges(100) == whole
  # Sorting the caller's array in place (no copy) gives the same edges.
  overwritten = fps.copy()
  in_place = np.concatenate(list(nd.edge_chunks(
      overwritten, threshold, part_size=100, overwrite_input=True)))
  assert sorted(map(tuple, in_place.tolist())) == whole
  assert overwritten.tolist() == sorted(fps.tolist())


def test_describe_groups():
  groups = [['a', 'b', 'c'], ['d', 'e']]
  labels = {'a': 'cat', 'b': 'cat', 'c': 'dog', 'd': 'cat', 'e': 'cat'}
  splits = {'a': 'train', 'b': 'eval', 'c': 'train', 'd': 'train',
            'e': 'train'}
  summary = nd.describe_groups(groups, labels, splits)
  assert summary['groups'] == 2
  assert summary['images_in_groups'] == 5
  assert summary['size_histogram'] == {2: 1, 3: 1}
  assert summary['largest'][0] == ['a', 'b', 'c']
  assert summary['groups_spanning_labels'] == 1
  assert summary['spanning_labels'] == [['a', 'b', 'c']]
  assert summary['groups_straddling_splits'] == 1
  assert summary['images_in_straddling_groups'] == 3


@pytest.mark.parametrize('size', [(24, 24), (40, 30), (300, 200), (1000, 700)])
def test_fingerprint_gray_is_fingerprint_image_of_the_same_pixels(tiles, size):
  for tile in tiles[:5]:
    image = Image.open(io.BytesIO(tile)).convert('L').resize(size)
    assert nd.fingerprint_gray(np.asarray(image)) == nd.fingerprint_image(image)
