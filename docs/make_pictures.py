"""Remakes the README's pictures of testdata/images in docs/.

    .venv/bin/python docs/make_pictures.py      # from the repo root (any cwd works)

Runs the ingest engine (`image_example_gen.run_ingest`) with default options
on `testdata/images` into a temporary folder, inspects its
train split with `image_example_gen.inspection.inspect(..., out_dir=...)`,
prints the summary, and copies the two pictures the README shows to docs/:
`contact_sheet_train.png` and `classes_train.png`.

The output is the same on every run: the split of each image hashes its
content, and the samples are the images with the smallest sha256.
"""

import os
import shutil
import sys
import tempfile

from image_example_gen import run_ingest
from image_example_gen.inspection import inspect

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_DOCS = os.path.join(_REPO, 'docs')
_INPUT = os.path.join(_REPO, 'testdata', 'images')
_SPLIT = 'train'
_PICTURES = (f'contact_sheet_{_SPLIT}.png', f'classes_{_SPLIT}.png')


def main() -> int:
  with tempfile.TemporaryDirectory() as temp_dir:
    uri = os.path.join(temp_dir, 'examples')
    run_ingest(_INPUT, uri)
    pictures = os.path.join(temp_dir, 'pictures')
    print('\n'.join(inspect(uri, split=_SPLIT, out_dir=pictures)))
    for name in _PICTURES:
      shutil.copyfile(os.path.join(pictures, name), os.path.join(_DOCS, name))
  for name in _PICTURES:
    path = os.path.join(_DOCS, name)
    print(f'wrote {os.path.relpath(path, _REPO)} '
          f'({os.path.getsize(path) / 1024:.1f} KiB)')
  return 0


if __name__ == '__main__':
  sys.exit(main())
