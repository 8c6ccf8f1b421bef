"""What preparing an image costs, per source format, on real photos.

    .venv/bin/python -m benchmarks.transcode_benchmark [--repeats N] [--quick]

Photos: sklearn's china.jpg and flower.jpg (640x427), also halved (320x213)
and doubled (1280x854, LANCZOS), each saved in every source format. Prints
Markdown tables (docs/formats.md holds a run):

1. `prepare_image` per source format, default options: us per image (CPU
   time of the process, median of the repeats, mean over the photos), bytes
   in and out;
2. the fast path: `needs_preparation` and `jpeg_orientation` on plain and
   oriented JPEGs, PNGs;
3. `max_side` on the 1280x854 JPEGs (DCT-scaled draft decode);
4. the choice for lossy sources: PNG or JPEG (quality, chroma subsampling),
   size and PSNR against Pillow's decode of the source, encode time; the
   source codec's own PSNR against the original photo for scale;
5. turning an oriented JPEG: re-encoding at quality 95 with 4:2:0 or 4:4:4;
6. the zlib level of the PNGs written for lossless sources.

PSNR is over all channels, 8-bit, against Pillow's decode of the source.
"""

import argparse
import io
import statistics
import sys
import time
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image
import pillow_heif
from sklearn.datasets import load_sample_image

from image_example_gen.core import transcode
from image_example_gen.core.image_probe import probe_image

SIZES = {'320x213': 0.5, '640x427': 1.0, '1280x854': 2.0}


def photos(sizes: Sequence[str]) -> Dict[str, Image.Image]:
  result = {}
  for name in ('china', 'flower'):
    photo = Image.fromarray(load_sample_image(f'{name}.jpg'))
    for size in sizes:
      scale = SIZES[size]
      resized = photo if scale == 1 else photo.resize(
          (round(photo.width * scale), round(photo.height * scale)),
          Image.Resampling.LANCZOS)
      result[f'{name} {size}'] = resized
  return result


def encode(image: Image.Image, pillow_format: str, **save_args) -> bytes:
  buffer = io.BytesIO()
  image.save(buffer, format=pillow_format, **save_args)
  return buffer.getvalue()


def exif(orientation: int) -> bytes:
  tags = Image.Exif()
  tags[0x0112] = orientation
  return tags.tobytes()


def with_alpha(image: Image.Image) -> Image.Image:
  rgba = image.convert('RGBA')
  rgba.putalpha(Image.linear_gradient('L').resize(image.size).rotate(90))
  return rgba


# Source format -> how a photo is saved in it.
SOURCES: Dict[str, Callable[[Image.Image], bytes]] = {
    'jpeg (plain, q90)': lambda im: encode(im, 'JPEG', quality=90),
    'jpeg, EXIF orientation 1': lambda im: encode(im, 'JPEG', quality=90,
                                                  exif=exif(1)),
    'jpeg, EXIF orientation 6': lambda im: encode(
        im.transpose(Image.Transpose.ROTATE_90), 'JPEG', quality=90,
        exif=exif(6)),
    'png (plain)': lambda im: encode(im, 'PNG'),
    'webp lossy (q80)': lambda im: encode(im, 'WEBP', quality=80),
    'webp lossless': lambda im: encode(im, 'WEBP', lossless=True),
    'webp lossy + alpha': lambda im: encode(with_alpha(im), 'WEBP', quality=80),
    'avif (Pillow default q)': lambda im: encode(im, 'AVIF'),
    'heic (q90)': lambda im: encode(im, 'HEIF', quality=90),
    'heic (q90), orientation 6': lambda im: encode(
        im.transpose(Image.Transpose.ROTATE_90), 'HEIF', quality=90,
        exif=exif(6)),
    'tiff lzw': lambda im: encode(im, 'TIFF', compression='tiff_lzw'),
    'tiff jpeg (q90)': lambda im: encode(im, 'TIFF', compression='jpeg',
                                         quality=90),
    'tiff 16-bit gray': lambda im: encode(
        Image.fromarray(np.asarray(im.convert('L'), np.uint16) * 257), 'TIFF'),
    'jpeg 2000': lambda im: encode(im, 'JPEG2000'),
}


def median_us(function: Callable[[], object], repeats: int) -> float:
  """Median CPU time of the process (all its threads: libheif decodes with
  several), which a busy machine disturbs less than wall time."""
  function()  # Warm-up.
  times = []
  for _ in range(repeats):
    start = time.process_time()
    function()
    times.append(time.process_time() - start)
  return statistics.median(times) * 1e6


def psnr(a: np.ndarray, b: np.ndarray) -> float:
  a = np.asarray(a, np.float64)
  b = np.asarray(b, np.float64)
  mse = float(((a - b)**2).mean())
  return float('inf') if mse == 0 else 10 * np.log10(255**2 / mse)


def decode(data: bytes, mode: str = 'RGB') -> np.ndarray:
  with Image.open(io.BytesIO(data)) as image:
    return np.asarray(image.convert(mode))


def table(header: Sequence[str], rows: List[Sequence]) -> None:
  print('| ' + ' | '.join(header) + ' |')
  print('|' + '|'.join('---' if i == 0 else '---:'
                       for i in range(len(header))) + '|')
  for row in rows:
    print('| ' + ' | '.join(str(cell) for cell in row) + ' |')
  print()


def kib(size: float) -> str:
  return f'{size / 1024:.1f}'


def per_format(images: Dict[str, Image.Image], repeats: int) -> None:
  print('### prepare_image per source format (default options)\n')
  by_size: Dict[str, List[Tuple[str, Image.Image]]] = {}
  for name, image in images.items():
    by_size.setdefault(name.split()[1], []).append((name, image))
  rows = []
  for source, save in SOURCES.items():
    for size, group in by_size.items():
      micros, bytes_in, bytes_out, formats = [], [], [], set()
      for _, image in group:
        data = save(image)
        prepared = transcode.prepare_image(data)
        micros.append(median_us(lambda: transcode.prepare_image(data), repeats))
        bytes_in.append(len(data))
        bytes_out.append(len(prepared.data))
        formats.add(prepared.format + (' (same bytes)'
                                       if prepared.data is data else ''))
      rows.append((source, size, f'{statistics.mean(micros):,.0f}',
                   kib(statistics.mean(bytes_in)),
                   kib(statistics.mean(bytes_out)), ', '.join(sorted(formats))))
  table(('source', 'size', 'us / image', 'KiB in', 'KiB out', 'published'),
        rows)


def fast_path(images: Dict[str, Image.Image], repeats: int) -> None:
  print('### The fast path (no decode)\n')
  photo = images['china 640x427']
  cases = {
      'jpeg, no EXIF': encode(photo, 'JPEG', quality=90),
      'jpeg, EXIF orientation 1': encode(photo, 'JPEG', quality=90,
                                         exif=exif(1)),
      'jpeg, EXIF orientation 6': encode(photo, 'JPEG', quality=90,
                                         exif=exif(6)),
      'png': encode(photo, 'PNG'),
  }
  rows = []
  runs = repeats * 20
  for name, data in cases.items():
    info = probe_image(data, validation='structure')
    check = median_us(lambda: transcode.needs_preparation(data, info), runs)
    orientation = median_us(lambda: transcode.jpeg_orientation(data), runs)
    rows.append((name, f'{check:.1f}',
                 f'{orientation:.1f}' if name.startswith('jpeg') else '-',
                 transcode.needs_preparation(data, info)))
  table(('file', 'needs_preparation us', 'jpeg_orientation us', 'needs it'),
        rows)


def downscale(images: Dict[str, Image.Image], repeats: int) -> None:
  print('### max_side on 1280x854 photos\n')
  rows = []
  for source in ('jpeg (plain, q90)', 'png (plain)', 'webp lossy (q80)',
                 'heic (q90)'):
    for max_side in (128, 512):
      micros, bytes_in, bytes_out = [], [], []
      for name in ('china 1280x854', 'flower 1280x854'):
        data = SOURCES[source](images[name])
        prepared = transcode.prepare_image(data, max_side=max_side)
        micros.append(median_us(
            lambda: transcode.prepare_image(data, max_side=max_side), repeats))
        bytes_in.append(len(data))
        bytes_out.append(len(prepared.data))
      rows.append((source, max_side, f'{statistics.mean(micros):,.0f}',
                   kib(statistics.mean(bytes_in)),
                   kib(statistics.mean(bytes_out)), prepared.format))
  table(('source', 'max_side', 'us / image', 'KiB in', 'KiB out', 'published'),
        rows)


# Candidate encodings of a decoded lossy source.
TARGETS = {
    'PNG (zlib 6)': dict(format='PNG', compress_level=6),
    'PNG (zlib 1)': dict(format='PNG', compress_level=1),
    'JPEG q90 4:2:0': dict(format='JPEG', quality=90, subsampling=2),
    'JPEG q95 4:2:0': dict(format='JPEG', quality=95, subsampling=2),
    'JPEG q95 4:4:4': dict(format='JPEG', quality=95, subsampling=0),
}
LOSSY_SOURCES = ('webp lossy (q80)', 'avif (Pillow default q)', 'heic (q90)',
                 'tiff jpeg (q90)')


def lossy_choice(images: Dict[str, Image.Image], repeats: int) -> None:
  print('### Lossy sources: PNG or JPEG (all photos and sizes)\n')
  rows = []
  for source in LOSSY_SOURCES:
    sources = {name: SOURCES[source](image) for name, image in images.items()}
    decoded = {name: decode(data) for name, data in sources.items()}
    codec_psnr = statistics.mean(
        psnr(decoded[name], np.asarray(images[name])) for name in images)
    for target, settings in TARGETS.items():
      settings = dict(settings)
      pillow_format = settings.pop('format')
      ratios, psnrs, micros = [], [], []
      for name, pixels in decoded.items():
        image = Image.fromarray(pixels)
        out = encode(image, pillow_format, **settings)
        ratios.append(len(out) / len(sources[name]))
        psnrs.append(psnr(decode(out), pixels))
        micros.append(median_us(
            lambda: encode(image, pillow_format, **settings),
            max(1, repeats // 3)))
      finite = [p for p in psnrs if p != float('inf')]
      rows.append((source, f'{codec_psnr:.1f}', target,
                   f'{statistics.mean(ratios):.2f}',
                   f'{min(finite):.1f} / {statistics.mean(finite):.1f}'
                   if finite else 'inf (exact)',
                   f'{statistics.mean(micros):,.0f}'))
  table(('source', 'source vs photo dB', 'published as', 'bytes out / in',
         'PSNR min / mean dB', 'encode us'), rows)


def rotation(images: Dict[str, Image.Image], repeats: int) -> None:
  print('### Turning an oriented JPEG (orientation 6, q90 4:2:0 source)\n')
  rows = []
  for subsampling, label in ((2, '4:2:0 (kept)'), (0, '4:4:4')):
    ratios, psnrs, micros = [], [], []
    for name, image in images.items():
      data = encode(image.transpose(Image.Transpose.ROTATE_90), 'JPEG',
                    quality=90, exif=exif(6))
      upright = np.asarray(
          Image.fromarray(decode(data)).transpose(Image.Transpose.ROTATE_270))

      def turn():
        with Image.open(io.BytesIO(data)) as stored:
          return encode(stored.transpose(Image.Transpose.ROTATE_270), 'JPEG',
                        quality=transcode.JPEG_QUALITY,
                        subsampling=subsampling)

      out = turn()
      ratios.append(len(out) / len(data))
      psnrs.append(psnr(decode(out), upright))
      micros.append(median_us(turn, repeats))
    rows.append((label, f'{statistics.mean(ratios):.2f}',
                 f'{min(psnrs):.1f} / {statistics.mean(psnrs):.1f}',
                 f'{statistics.mean(micros):,.0f}'))
  table(('re-encoded q95', 'bytes out / in', 'PSNR min / mean dB',
         'us / image'), rows)


def png_levels(images: Dict[str, Image.Image], repeats: int) -> None:
  print('### zlib level of the PNGs written (decoded photos, RGB)\n')
  rows = []
  for level in (1, 3, 6, 9):
    sizes, micros = [], []
    for image in images.values():
      sizes.append(len(encode(image, 'PNG', compress_level=level)))
      micros.append(median_us(
          lambda: encode(image, 'PNG', compress_level=level),
          max(1, repeats // 3)))
    rows.append((level, kib(statistics.mean(sizes)),
                 f'{statistics.mean(micros):,.0f}'))
  table(('compress_level', 'KiB', 'encode us'), rows)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--repeats', type=int, default=9,
                      help='timed runs per image (the median is kept)')
  parser.add_argument('--quick', action='store_true',
                      help='640x427 photos only, 3 repeats')
  args = parser.parse_args(argv)
  sizes = ['640x427'] if args.quick else list(SIZES)
  repeats = 3 if args.quick else args.repeats
  images = photos(sizes)
  if args.quick:
    images.update(photos(['1280x854']))
  print(f'Pillow {Image.__version__}, pillow-heif '
        f'{pillow_heif.__version__}, Python '
        f'{sys.version.split()[0]}; {len(images)} photos; median of {repeats} '
        'runs\n')
  per_format({k: v for k, v in images.items() if k.split()[1] in sizes},
             repeats)
  fast_path(images, repeats)
  downscale(images, repeats)
  lossy_choice({k: v for k, v in images.items() if k.split()[1] in sizes},
               repeats)
  rotation({k: v for k, v in images.items() if k.split()[1] in sizes},
           repeats)
  png_levels({k: v for k, v in images.items() if k.split()[1] in sizes},
             repeats)
  return 0


if __name__ == '__main__':
  sys.exit(main())
