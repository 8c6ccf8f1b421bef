"""The documented set of reasons for which a file is skipped.

Every skipped file carries exactly one of these reasons, in its report entry
and in the Beam counter `image_example_gen:skipped_<reason>`.
"""

# No known image signature: a README.txt, an editor backup, a .csv.
NOT_AN_IMAGE = 'not_an_image'
# An image signature, but the file does not parse or is cut short: truncated
# download, broken header, zero bytes, damaged compressed data.
CORRUPT = 'corrupt'
# A real image in a format TensorFlow's decode_image cannot read (TIFF, WebP,
# HEIC, AVIF, ICO, PSD, JPEG 2000/XL, lossless or 12-bit JPEG, 16-bit,
# compressed or colour-palette BMP ...).
UNSUPPORTED_FORMAT = 'unsupported_format'
# Over `max_file_bytes`, or a header declaring more than `max_pixels` pixels
# (a decompression bomb is refused here, before any pixel is decoded).
TOO_LARGE = 'too_large'
# The file could not be read: permission denied, I/O error, dangling link.
UNREADABLE = 'unreadable'
# A dot-file or a file inside a dot-folder (.DS_Store, .ipynb_checkpoints/).
HIDDEN = 'hidden'
# A symbolic link that resolves outside input_base, or into a link loop.
OUTSIDE_ROOT = 'outside_root'
# With labels='folder': an image directly in a split root, in no class folder.
NO_CLASS_FOLDER = 'no_class_folder'

ALL_REASONS = (NOT_AN_IMAGE, CORRUPT, UNSUPPORTED_FORMAT, TOO_LARGE,
               UNREADABLE, HIDDEN, OUTSIDE_ROOT, NO_CLASS_FOLDER)
