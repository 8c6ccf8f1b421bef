"""Differential fuzzing: the probe and TensorFlow's decoders judge the same
damaged images.

Sources are real photos (crops of the photos scikit-learn ships) in every
format and flavour `tf.io.decode_image` reads; each is mutated in seeded, hence
repeatable, ways (truncation, flipped bytes in the header and in the body,
spans zeroed or dropped, garbage appended). For each mutant:

- TensorFlow's verdict: the shape of `tf.io.decode_image(data,
  expand_animations=False)`, provided `channels=3` decodes too; else 'error'.
- The project's verdict: `probe_image(data, validation=...)`'s
  (height, width, channels), or the skip reason.

A *poison* is a mutant the project keeps but TensorFlow cannot decode; a
*mismatch* is one both decode but to different shapes; a *strict skip* is one
the project skips though TensorFlow decodes it. Run a larger campaign with

    python tests/differential.py --mutants-per-source 300
"""

import argparse
import collections
import dataclasses
import functools
import random
import sys
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from PIL import Image
from PIL import PngImagePlugin

import format_factory
import image_factory

__all__ = ['Verdict', 'compare', 'mutants', 'sources', 'tf_verdict']

_SIZE = (48, 36)  # (width, height) of the sources: small, so TF is quick.


@functools.lru_cache(maxsize=None)
def sources() -> Dict[str, bytes]:
  """{flavour: bytes}: every format and flavour decode_image reads."""
  crop = lambda name='flower': image_factory.crop(_SIZE, name)
  return {
      'jpeg_baseline': image_factory.jpeg(size=_SIZE),
      'jpeg_progressive': image_factory.jpeg(size=_SIZE, progressive=True),
      'jpeg_gray': image_factory.jpeg('L', size=_SIZE),
      'jpeg_cmyk': image_factory.jpeg('CMYK', size=_SIZE),
      'jpeg_restart': image_factory.encode(crop('china'), 'JPEG', quality=80,
                                           restart_marker_rows=1),
      'jpeg_exif': image_factory.jpeg(size=_SIZE, exif=_exif()),
      'png_rgb': image_factory.png(size=_SIZE),
      'png_text': image_factory.png(size=_SIZE, pnginfo=_text_chunks()),
      'png_rgba': image_factory.png('RGBA', size=_SIZE),
      'png_gray': image_factory.png('L', size=_SIZE),
      'png_gray_alpha': image_factory.png('LA', size=_SIZE),
      'png_palette': image_factory.png('P', size=_SIZE),
      'png_palette_trns': image_factory.png_with_transparency('P', _SIZE),
      'png_16bit': image_factory.png('I;16', size=_SIZE),
      'png_interlaced': image_factory.interlaced_png(_SIZE),
      'gif_still': image_factory.gif(size=_SIZE),
      'gif_animated': image_factory.animated_gif(size=_SIZE, frames=3),
      'bmp_24': image_factory.bmp(size=_SIZE),
      'bmp_32': image_factory.bmp('RGBA', size=_SIZE),
      'bmp_8_gray': image_factory.bmp('L', size=_SIZE),
  }


@functools.lru_cache(maxsize=None)
def transcoded_sources() -> Dict[str, bytes]:
  """{flavour: bytes}: files TensorFlow does not decode as they are, which
  the worker transcodes or turns upright (core.publish)."""
  files = format_factory.new_format_files(_SIZE)
  files['jpeg_oriented_6'] = format_factory.oriented_jpeg(
      6, format_factory.upright_photo(_SIZE))
  files['heic_oriented_8'] = format_factory.oriented_heic(
      8, format_factory.upright_photo(_SIZE))
  return files


def _exif() -> bytes:
  exif = Image.Exif()
  exif[0x0112] = 6  # Orientation: rotated 90 degrees.
  exif[0x010F] = 'image_example_gen'  # Make.
  return exif.tobytes()


def _text_chunks():
  info = PngImagePlugin.PngInfo()
  info.add_text('Comment', 'a dahlia, cropped')
  info.add_text('Software', 'image_example_gen tests')
  return info


def _header_length(data: bytes) -> int:
  """Bytes before the compressed pixel data (roughly), for header mutations."""
  for marker in (b'\xff\xda', b'IDAT', b'\x2c'):
    position = data.find(marker, 2)
    if position > 0:
      return min(position + 8, len(data))
  return min(64, len(data))


def _truncate(data, rng, header):
  return data[:rng.randrange(1, len(data))]


def _flip_header(data, rng, header):
  out = bytearray(data)
  for _ in range(rng.randint(1, 3)):
    out[rng.randrange(0, header)] ^= 1 << rng.randrange(8)
  return bytes(out)


def _flip_body(data, rng, header):
  out = bytearray(data)
  for _ in range(rng.randint(1, 4)):
    out[rng.randrange(header, len(data))] ^= 1 << rng.randrange(8)
  return bytes(out)


def _zero_span(data, rng, header):
  start = rng.randrange(header, len(data))
  end = min(len(data), start + rng.randint(1, 64))
  return data[:start] + bytes(end - start) + data[end:]


def _drop_span(data, rng, header):
  start = rng.randrange(0, len(data) - 1)
  end = min(len(data), start + rng.randint(1, 64))
  return data[:start] + data[end:]


def _append_garbage(data, rng, header):
  return data + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))


MUTATIONS: Dict[str, Callable] = {
    'truncate': _truncate,
    'flip_header': _flip_header,
    'flip_body': _flip_body,
    'zero_span': _zero_span,
    'drop_span': _drop_span,
    'append_garbage': _append_garbage,
}


def mutants(per_source: int, seed: int = 0,
            originals: Optional[Dict[str, bytes]] = None
           ) -> Iterator[Tuple[str, str, bytes]]:
  """Yields (source flavour, mutation, bytes), `per_source` per flavour of
  `originals` (default: sources()), cycling through the mutations, the same
  for the same seed."""
  for flavour, data in (originals or sources()).items():
    rng = random.Random(f'{seed}:{flavour}')
    header = _header_length(data)
    names = list(MUTATIONS)
    for index in range(per_source):
      name = names[index % len(names)]
      yield flavour, name, MUTATIONS[name](data, rng, header)


@dataclasses.dataclass(frozen=True)
class Verdict:
  """A judge's verdict: `shape` (height, width, channels), or `reason` (and
  for the project, the strict `policy` its skip applies, if any)."""
  shape: Optional[Tuple[int, int, int]] = None
  reason: Optional[str] = None
  policy: Optional[str] = None

  @property
  def decodes(self) -> bool:
    return self.shape is not None


def tf_verdict(data: bytes) -> Verdict:
  """TensorFlow's verdict; both decodes run, as a Trainer may ask either."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  try:
    image = tf.io.decode_image(data, expand_animations=False)
    tf.io.decode_image(data, channels=3, expand_animations=False)
  except (tf.errors.InvalidArgumentError, tf.errors.UnknownError,
          tf.errors.OutOfRangeError) as error:
    message = error.message.split('}} ')[-1]
    return Verdict(reason=message.splitlines()[0][:100])
  return Verdict(shape=tuple(image.shape.as_list()))


def project_verdict(data: bytes, validation: str) -> Verdict:
  from image_example_gen.core import image_probe  # pylint: disable=g-import-not-at-top
  try:
    info = image_probe.probe_image(data, validation=validation)
  except image_probe.BadImageError as error:
    return Verdict(reason=f'{error.reason}: {error.detail}',
                   policy=error.policy)
  return Verdict(shape=(info.height, info.width, info.channels))


@dataclasses.dataclass
class Comparison:
  """What one campaign found, for one validation policy."""
  mutants: int = 0
  poison: List[Tuple[str, str, str]] = dataclasses.field(default_factory=list)
  mismatch: List[Tuple[str, str, Tuple, Tuple]] = dataclasses.field(
      default_factory=list)
  # Skips of mutants TensorFlow decodes, per strict policy; a skip without a
  # policy counts under 'unexplained:<flavour>'.
  strict_skips: collections.Counter = dataclasses.field(
      default_factory=collections.Counter)
  unexplained: List[Tuple[str, str, str]] = dataclasses.field(
      default_factory=list)
  crashes: List[Tuple[str, str, str]] = dataclasses.field(default_factory=list)

  def summary(self) -> str:
    return (f'{self.mutants} mutants: {len(self.poison)} poison, '
            f'{len(self.mismatch)} shape mismatches, '
            f'{sum(self.strict_skips.values())} strict skips '
            f'{dict(sorted(self.strict_skips.items()))}, '
            f'{len(self.crashes)} crashes')


def compare(per_source: int, validations: Sequence[str],
            seed: int = 0) -> Dict[str, Comparison]:
  """{validation: what it found}: every mutant judged by TensorFlow once and
  by the project under each validation; see the module docstring."""
  results = {validation: Comparison() for validation in validations}
  for flavour, mutation, data in mutants(per_source, seed):
    expected = tf_verdict(data)
    for validation, result in results.items():
      result.mutants += 1
      try:
        actual = project_verdict(data, validation)
      except Exception as error:  # pylint: disable=broad-except
        result.crashes.append((flavour, mutation, repr(error)))
        continue
      if actual.decodes and not expected.decodes:
        result.poison.append((flavour, mutation, expected.reason))
      elif actual.decodes and actual.shape != expected.shape:
        result.mismatch.append(
            (flavour, mutation, actual.shape, expected.shape))
      elif not actual.decodes and expected.decodes:
        if actual.policy:
          result.strict_skips[actual.policy] += 1
        else:
          result.strict_skips[f'unexplained:{flavour}'] += 1
          result.unexplained.append((flavour, mutation, actual.reason))
  return results


def jpeg_decode_paths_differ(per_source: int, seed: int = 0
                             ) -> Tuple[int, List[Tuple[str, str]]]:
  """The JPEG check decodes through simplejpeg and falls back to Pillow for
  what it refuses (image_probe/jpeg.py). Returns (number of JPEG mutants,
  [(flavour, mutation) whose verdict or preview pixels differ with
  simplejpeg turned off]): none is expected."""
  from image_example_gen.core.image_probe import BadImageError  # pylint: disable=g-import-not-at-top
  from image_example_gen.core.image_probe import jpeg  # pylint: disable=g-import-not-at-top
  from image_example_gen.core.image_probe import probe_image  # pylint: disable=g-import-not-at-top

  def verdict(data):
    try:
      info = probe_image(data, validation='decode')
    except BadImageError as error:
      return (error.reason, error.detail, error.policy)
    return (info, info.preview_scale, info.preview.shape,
            info.preview.tobytes())

  def refuse(*unused_args, **unused_kwargs):
    raise ValueError('simplejpeg turned off')

  jpeg_mutants = [(flavour, mutation, data) for flavour, mutation, data
                  in mutants(per_source, seed) if flavour.startswith('jpeg')]
  both = [verdict(data) for _, _, data in jpeg_mutants]
  decode = jpeg.simplejpeg.decode_jpeg
  jpeg.simplejpeg.decode_jpeg = refuse
  try:
    pillow = [verdict(data) for _, _, data in jpeg_mutants]
  finally:
    jpeg.simplejpeg.decode_jpeg = decode
  return len(jpeg_mutants), [
      (flavour, mutation) for (flavour, mutation, _), a, b
      in zip(jpeg_mutants, both, pillow) if a != b]


def main(argv: List[str]) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--mutants-per-source', type=int, default=300)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--validation', nargs='+',
                      default=['structure', 'decode'])
  parser.add_argument('--verbose', action='store_true')
  parser.add_argument(
      '--jpeg-decode-paths', action='store_true',
      help='instead, compare the JPEG check with and without simplejpeg')
  args = parser.parse_args(argv)
  if args.jpeg_decode_paths:
    count, differ = jpeg_decode_paths_differ(args.mutants_per_source,
                                             args.seed)
    print(f'{count} JPEG mutants: {len(differ)} differ with simplejpeg '
          f'turned off {differ[:10]}')
    return 1 if differ else 0
  results = compare(args.mutants_per_source, args.validation, args.seed)
  for validation, result in results.items():
    print(f'validation={validation}: {result.summary()}')
    if args.verbose:
      for item in (result.poison + result.mismatch + result.crashes +
                   result.unexplained):
        print('  ', item)
  return 0


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
