"""Plans an ingest in the launcher: which files, with which labels.

`plan_files` lists the files of every input split (core.discovery) and labels
them (core.labeling: class folders or a metadata file, one vocabulary across
splits and spans). The result is what the manifest hands to the workers.
"""

import logging
from typing import Optional, Sequence

from image_example_gen.core import config as config_lib
from image_example_gen.core import discovery
from image_example_gen.core import labeling

__all__ = ['plan_files']

_LOGGER = logging.getLogger(__name__)


def plan_files(
    input_base: str,
    input_splits: Sequence[discovery.InputSplit],
    config: config_lib.IngestConfig,
    previous_class_names: Optional[Sequence[str]] = None
) -> discovery.Discovery:
  """The files of every split, with their labels and metadata features.

  Args:
    input_base: The folder (local path or URI) holding the images.
    input_splits: The input splits and their patterns.
    config: The ingest options (labels, class_names, metadata_file).
    previous_class_names: The vocabulary of an earlier span, whose ids stay.

  Raises:
    ValueError: See discovery.discover and labeling.label_files.
  """
  found = discovery.discover(input_base, input_splits)
  found = labeling.label_files(input_base, input_splits, found, config,
                               previous_class_names)
  _LOGGER.info('Found %d files in %s; classes: %s', len(found.files),
               input_base, ', '.join(found.class_names) or '(none)')
  return found
