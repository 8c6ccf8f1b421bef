"""Where the repository's bundled files are, for tests that use them."""

import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
# Small real images and layouts, documented by testdata/README.md.
TESTDATA = REPO_ROOT / 'testdata'
