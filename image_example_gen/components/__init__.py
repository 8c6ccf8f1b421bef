"""The TFX layer: ImageExampleGen and ImageStatisticsGen.

  component        ImageExampleGen: checks options, packs the IngestConfig
  driver           span/version, recursive fingerprint, previous vocabulary
  executor         Executor.Do: runs beam.engine.run_ingest, records on MLMD
  image_schema     the image-aware schema of a vocabulary
  statistics_gen/  StatisticsGen with that schema

May import: core, beam, TFX (and so TensorFlow).
"""
