"""The Beam layer: the streaming pipeline of an ingest, and the engine.

  engine     run_ingest: plan, run the pipeline, write the artifact; what every
             entry point (executor, command, tests, benchmarks) calls
  transform  ImageFolderToExamples / EncodeImages: the PTransforms (DoFns run
             on the workers)
  manifest   the file list the launcher writes and the workers read
  sink       the streaming TFRecord writer
  progress   workers' progress files and the launcher's monitor

May import: core and apache_beam. Never TensorFlow or TFX.
"""
