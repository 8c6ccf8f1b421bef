"""The core: what an ingest does to the file list and to one file, in plain Python.

  config          IngestConfig, every option, one typed object
  discovery       lists the files of each input split, and their class folders
  labeling        labels them: class folders or a metadata file, one vocabulary
  metadata/       reads metadata.csv / metadata.jsonl
  plan            discovery + labeling: the launcher's plan of an ingest
  stratify        stratified split assignment
  image_probe/    the decode guarantee: header, structure and pixel checks
  example_encoder builds one tf.train.Example (example_proto: its classes)
  reasons         the skip reasons
  ingest_report   the report of an ingest
  artifact        the Examples artifact's format: layout, files, feature keys,
                  MLMD property names (the only module that knows them)
  files           the one file API (local paths and gs:// alike)

May import: the standard library, Pillow (and pillow-heif), numpy, protobuf,
isal, and Beam's file systems (`apache_beam.io.filesystems`, for URIs). Never
TensorFlow, TFX, or Beam's pipeline API: Beam workers import this layer, and
stay light.
"""
