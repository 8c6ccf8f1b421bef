"""The deliberate policies under which the probe is stricter than TensorFlow.

Each names a kind of file that `tf.io.decode_image` decodes without an error
but that the probe skips, because what TensorFlow makes of it is not the
image: the skip carries the policy in `BadImageError.policy` (and the ingest
report's detail), and the differential fuzz test counts skips per policy.
"""

# An 8-bit BMP whose palette is not the identity gray ramp: TensorFlow reads
# the palette indices as gray levels, so colours come out as noise.
BMP_COLOUR_PALETTE = 'bmp_colour_palette'
# A BMP that is not plain 8/24/32-bit RGB (RLE or other compression, an OS/2
# header, 16 or odd bits per pixel): TensorFlow reads its bytes as pixels.
BMP_LAYOUT = 'bmp_layout'
# A PNG chunk whose CRC does not match: libpng silently drops a damaged
# ancillary chunk (a tRNS chunk among them, which changes the channel count).
PNG_CRC = 'png_crc'
# A GIF cut short, or with a damaged block or damaged pixel data: giflib stops
# at the damage, and TensorFlow returns the frames read so far, the last one
# padded where its data ended.
GIF_DAMAGED = 'gif_damaged'
# A JPEG whose entropy-coded data is damaged or cut short: libjpeg warns and
# fills the rest with gray or garbage, which TensorFlow returns as the image.
JPEG_DAMAGED_DATA = 'jpeg_damaged_data'

ALL_POLICIES = (BMP_COLOUR_PALETTE, BMP_LAYOUT, PNG_CRC, GIF_DAMAGED,
                JPEG_DAMAGED_DATA)
