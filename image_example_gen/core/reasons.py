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

# Metadata files (see image_example_gen/metadata): a row that does not parse;
# a file_name that leaves the metadata file's folder (../, absolute, a URI);
# several rows for one file (none is used); a row naming a file that is not
# there; an image that has no row; a label not in an explicit class_names,
# or, for labels='metadata' with a `label` column, a row without a label.
UNPARSABLE_METADATA_ROW = 'unparsable_metadata_row'
UNSAFE_FILE_NAME = 'unsafe_file_name'
DUPLICATE_METADATA_ROW = 'duplicate_metadata_row'
METADATA_ROW_WITHOUT_FILE = 'metadata_row_without_file'
NO_METADATA_ROW = 'no_metadata_row'
UNKNOWN_LABEL = 'unknown_label'
NO_LABEL = 'no_label'

ALL_REASONS = (NOT_AN_IMAGE, CORRUPT, UNSUPPORTED_FORMAT, TOO_LARGE,
               UNREADABLE, HIDDEN, OUTSIDE_ROOT, NO_CLASS_FOLDER,
               UNPARSABLE_METADATA_ROW, UNSAFE_FILE_NAME,
               DUPLICATE_METADATA_ROW, METADATA_ROW_WITHOUT_FILE,
               NO_METADATA_ROW, UNKNOWN_LABEL, NO_LABEL)
