"""GIF: the block walk, then the first frame's pixel data decoded.

The walk goes from the header to the trailer over every block and reads the
size TensorFlow decodes to: the largest frame width and height over all
frames, not the logical screen size. A GIF cut short or with a damaged block
is skipped (`strict_policies.GIF_DAMAGED`), although giflib reads the frames
before the damage and TensorFlow returns them, padded. With `decode=True`, Pillow LZW-decodes
the first frame (the one `decode_image(expand_animations=False)` returns),
and its colour indices are checked against the colour table giflib maps them
through.
"""

from image_example_gen.core import reasons
from image_example_gen.core.image_probe import strict_policies
from image_example_gen.core.image_probe._common import BadImageError
from image_example_gen.core.image_probe._common import ImageInfo
from image_example_gen.core.image_probe._common import check_pixels
from image_example_gen.core.image_probe._common import open_with_pillow

__all__ = ['probe']


def probe(data: bytes, *, decode: bool, max_pixels: int) -> ImageInfo:
  """Returns what decode_image makes of the GIF, or raises BadImageError."""
  height, width, first_table_size = _walk_blocks(data)
  check_pixels(width, height, max_pixels)
  if decode:
    _decode_first_frame(data, first_table_size)
  return ImageInfo('gif', height, width, 3)  # TensorFlow decodes GIF to RGB.


def _le16(data: bytes, start: int) -> int:
  return int.from_bytes(data[start:start + 2], 'little')


def _colour_table_entries(flags: int) -> int:
  return 2 ** ((flags & 7) + 1) if flags & 0x80 else 0


def _skip_sub_blocks(data: bytes, position: int) -> int:
  size = len(data)
  while position < size:
    block_size = data[position]
    position += 1
    if block_size == 0:
      return position
    position += block_size
  raise BadImageError(
      reasons.CORRUPT,
      'GIF: truncated or damaged (a data block runs past the end)',
      strict_policies.GIF_DAMAGED)


def _walk_blocks(data: bytes):
  """Returns (height, width, colour table entries of the first frame)."""
  size = len(data)
  if size < 13:
    raise BadImageError(reasons.CORRUPT, f'GIF header cut at {size} bytes')
  global_table = _colour_table_entries(data[10])
  position = 13 + 3 * global_table
  height = width = frames = 0
  first_table = 0
  while position < size:
    block = data[position]
    if block == 0x3B:  # Trailer.
      break
    if block == 0x21:  # Extension: label, then data sub-blocks.
      position = _skip_sub_blocks(data, position + 2)
    elif block == 0x2C:  # Image descriptor.
      if position + 11 > size:
        raise BadImageError(reasons.CORRUPT,
                            'GIF: truncated inside an image descriptor',
                            strict_policies.GIF_DAMAGED)
      width = max(width, _le16(data, position + 5))
      height = max(height, _le16(data, position + 7))
      local_table = _colour_table_entries(data[position + 9])
      if not frames:
        first_table = local_table or global_table
      frames += 1
      position += 10 + 3 * local_table + 1  # + LZW minimum code size.
      position = _skip_sub_blocks(data, position)
    else:
      raise BadImageError(
          reasons.CORRUPT, f'GIF: unknown block 0x{block:02x} at byte '
          f'{position}', strict_policies.GIF_DAMAGED)
  else:
    raise BadImageError(reasons.CORRUPT,
                        'GIF: truncated or damaged (no trailer found)',
                        strict_policies.GIF_DAMAGED)
  if not frames:
    raise BadImageError(reasons.CORRUPT, 'GIF: no image in the file')
  return height, width, first_table


def _decode_first_frame(data: bytes, table_entries: int) -> None:
  if not table_entries:
    raise BadImageError(reasons.CORRUPT, 'GIF: first frame has no colour table')
  # giflib reads any 'GIF8' version; Pillow only 87a and 89a.
  image = open_with_pillow(b'GIF89a' + data[6:], 'GIF')
  try:
    image.load()
  except Exception as error:  # pylint: disable=broad-except
    raise BadImageError(
        reasons.CORRUPT, f'GIF: first frame does not decode: {error}',
        strict_policies.GIF_DAMAGED) from None
  if image.mode in ('P', 'L'):
    _, highest = image.getextrema()
    if highest >= table_entries:
      raise BadImageError(
          reasons.CORRUPT, f'GIF: colour index {highest} outside its '
          f'{table_entries}-colour table')
