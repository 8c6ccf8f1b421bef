"""The catalogue of ingest "ways" the benchmark compares (no heavy imports).

`benchmarks.run_way` runs one of them in its own process.
"""

import dataclasses
from typing import Any, Dict, Mapping

__all__ = [
    'IMAGE_EXAMPLE_GEN', 'OBVIOUS_EXECUTOR', 'TWO_STEP', 'WAYS', 'Way'
]

# How a way builds its pipeline.
TWO_STEP = 'two_step'
OBVIOUS_EXECUTOR = 'obvious_executor'
IMAGE_EXAMPLE_GEN = 'image_example_gen'


@dataclasses.dataclass(frozen=True)
class Way:
  name: str
  kind: str
  description: str
  ingest_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)


WAYS: Dict[str, Way] = {
    way.name: way for way in (
        Way('two_step', TWO_STEP,
            'Python loop with tf.io.TFRecordWriter (GZIP) to one file, then '
            'ImportExampleGen on it'),
        Way('obvious_executor', OBVIOUS_EXECUTOR,
            'FileBasedExampleGen with a BaseExampleGenExecutor subclass '
            '(glob, Create, Map to Example; TFX WriteSplit with Reshuffle)'),
        Way('image_example_gen', IMAGE_EXAMPLE_GEN,
            "ImageExampleGen, default options (validation='decode', "
            "compression='none')"),
        Way('image_example_gen_structure', IMAGE_EXAMPLE_GEN,
            "ImageExampleGen, validation='structure' (the opt-out)",
            {'validation': 'structure'}),
        Way('image_example_gen_gzip', IMAGE_EXAMPLE_GEN,
            "ImageExampleGen, compression='gzip'", {'compression': 'gzip'}),
        Way('image_example_gen_structure_gzip', IMAGE_EXAMPLE_GEN,
            "ImageExampleGen, validation='structure', compression='gzip' (the "
            'defaults before the decode guarantee)',
            {'validation': 'structure', 'compression': 'gzip'}),
        Way('image_example_gen_unbalanced', IMAGE_EXAMPLE_GEN,
            'ImageExampleGen, stratify=False (plain hash buckets: no digest '
            'branch before the encoding)', {'stratify': False}),
        Way('image_example_gen_no_near_duplicates', IMAGE_EXAMPLE_GEN,
            'ImageExampleGen, near_duplicates=False (no fingerprint, no '
            'grouping)', {'near_duplicates': False}),
        Way('image_example_gen_near_duplicate_split', IMAGE_EXAMPLE_GEN,
            "ImageExampleGen, split_key='near_duplicate' (the first pass "
            'decodes and fingerprints every image)',
            {'split_key': 'near_duplicate'}),
    )
}
