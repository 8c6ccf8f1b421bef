"""Remakes the README's pictures of testdata/images in docs/.

    .venv/bin/python docs/make_pictures.py      # from the repo root (any cwd works)

Runs ImageExampleGen's executor with default options on `testdata/images`
into a temporary folder (as `tests/executor_runner.py` does), inspects its
train split with `image_example_gen.inspection.inspect(..., out_dir=...)`,
prints the summary, and copies the two pictures the README shows to docs/:
`contact_sheet_train.png` and `classes_train.png`.

The output is the same on every run: the split of each image hashes its
path, and the samples are the images with the smallest sha256.
"""

import os
import shutil
import sys
import tempfile

from tfx.components.example_gen import utils
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from image_example_gen import Executor
from image_example_gen import IngestConfig
from image_example_gen.inspection import inspect

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_DOCS = os.path.join(_REPO, 'docs')
_INPUT = os.path.join(_REPO, 'testdata', 'images')
_SPLIT = 'train'
_PICTURES = (f'contact_sheet_{_SPLIT}.png', f'classes_{_SPLIT}.png')


def ingest(input_base: str, output_dir: str) -> str:
  """Runs Executor.Do with the component's defaults; returns the artifact URI."""
  input_config = utils.make_default_input_config()
  examples = standard_artifacts.Examples()
  examples.uri = output_dir
  executor = Executor(Executor.Context(
      tmp_dir=os.path.join(output_dir, '.tmp'), unique_id='1'))
  executor.Do({}, {standard_component_specs.EXAMPLES_KEY: [examples]}, {
      standard_component_specs.INPUT_BASE_KEY: input_base,
      standard_component_specs.INPUT_CONFIG_KEY:
          proto_utils.proto_to_json(input_config),
      standard_component_specs.OUTPUT_CONFIG_KEY: proto_utils.proto_to_json(
          utils.make_default_output_config(input_config)),
      'ingest_config': IngestConfig().to_json(),
  })
  return examples.uri


def main() -> int:
  with tempfile.TemporaryDirectory() as temp_dir:
    uri = ingest(_INPUT, os.path.join(temp_dir, 'examples'))
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
