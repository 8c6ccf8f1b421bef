"""`python -m image_example_gen`: the `image-example-gen` command."""

import sys

from image_example_gen.cli import main

if __name__ == '__main__':
  sys.exit(main())
