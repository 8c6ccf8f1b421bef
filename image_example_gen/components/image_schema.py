"""The image-aware TFDV schema of the Examples that ImageExampleGen writes.

Given to TFDV (as `StatsOptions.schema`), it makes statistics treat the
Examples as images:

- `image/encoded` has an `image_domain`: TFDV computes byte-size statistics
  for it instead of top-k values and unique counts over every image's bytes.
- `image/filename` and `image/key/sha256` are strings that are not categorical
  (`CATEGORICAL_NO`): no vocabulary, no top-k (with TFDV's sketch-based top-k,
  which honours that flag).
- `image/class/label` is a categorical integer in [0, number of classes), and
  `image/class/text` has the class names as its string domain.
- `image/height`, `image/width` and `image/channels` are integers with the
  bounds an ingested image respects; `image/format` is one of the four formats.

`domain_info_by_feature` renders each feature's domain as the text that TFDV's
`domain_info` custom statistic carries, which schema inference (SchemaGen)
turns back into the same domain.

Imports only tensorflow_metadata's protos: no TensorFlow, no TFX.
"""

from typing import Dict, Optional, Sequence

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from image_example_gen.core import config as config_lib
from image_example_gen.core import artifact
from image_example_gen.core import image_probe
from image_example_gen.core import transcode

__all__ = ['domain_info_by_feature', 'image_schema']

# No side of an ingested image is longer than its pixel count allows.
_MAX_SIDE = config_lib.DEFAULT_MAX_PIXELS
# tf.io.decode_image yields gray, gray+alpha, RGB or RGBA.
_MAX_CHANNELS = 4


def image_schema(class_names: Optional[Sequence[str]],
                 *,
                 multi_label: bool = False,
                 near_duplicates: bool = True) -> schema_pb2.Schema:
  """The schema of ImageExampleGen's Examples.

  Args:
    class_names: The label vocabulary (label i is class_names[i]); empty or
      None for an unlabeled ingest, whose Examples have no `image/class/*`.
    multi_label: Images have any number of labels (0 or more) each: the
      `image/class/*` features have no fixed shape and may be empty.
    near_duplicates: The Examples carry `image/phash` (the ingest ran with
      near_duplicates=True).

  Returns:
    A Schema with one feature per Example feature, each present in every
    Example with exactly one value.
  """
  schema = schema_pb2.Schema()

  def add(name: str, feature_type: int, *, one_value: bool = True
          ) -> schema_pb2.Feature:
    feature = schema.feature.add(name=name, type=feature_type)
    if one_value:
      feature.presence.min_fraction = 1.0
      feature.shape.dim.add(size=1)
    return feature

  add(artifact.ENCODED, schema_pb2.BYTES).image_domain.SetInParent()
  add(artifact.FORMAT, schema_pb2.BYTES).string_domain.value.extend(
      image_probe.FORMATS)
  add(artifact.SOURCE_FORMAT, schema_pb2.BYTES).string_domain.value.extend(
      transcode.TF_FORMATS + transcode.TRANSCODED_FORMATS)
  for name in (artifact.HEIGHT, artifact.WIDTH, artifact.ORIGINAL_HEIGHT,
               artifact.ORIGINAL_WIDTH):
    domain = add(name, schema_pb2.INT).int_domain
    domain.min, domain.max = 1, _MAX_SIDE
  domain = add(artifact.CHANNELS, schema_pb2.INT).int_domain
  domain.min, domain.max = 1, _MAX_CHANNELS
  names = [artifact.FILENAME, artifact.SHA256]
  if near_duplicates:
    names.append(artifact.PHASH)
  for name in names:
    add(name, schema_pb2.BYTES).string_domain.is_categorical = (
        schema_pb2.StringDomain.CATEGORICAL_NO)
  if class_names:
    domain = add(artifact.LABEL, schema_pb2.INT,
                 one_value=not multi_label).int_domain
    domain.min, domain.max = 0, len(class_names) - 1
    domain.is_categorical = True
    add(artifact.CLASS_TEXT, schema_pb2.BYTES,
        one_value=not multi_label).string_domain.value.extend(class_names)
  return schema


def domain_info_by_feature(schema: schema_pb2.Schema) -> Dict[str, str]:
  """{feature name: its domain as text, e.g. 'image_domain {}'}.

  Top-level features with a domain are listed, a reference to one of the
  schema's shared string domains (`domain: "name"`) resolved to that domain.
  The text is the format of TFDV's `domain_info` custom statistic.
  """
  shared = {domain.name: domain for domain in schema.string_domain}
  domains = {}
  for feature in schema.feature:
    kind = feature.WhichOneof('domain_info')
    if kind is None:
      continue
    if kind == 'domain':
      if feature.domain not in shared:
        continue
      kind, domain = 'string_domain', schema_pb2.StringDomain()
      domain.CopyFrom(shared[feature.domain])
      domain.ClearField('name')
    else:
      domain = getattr(feature, kind)
    body = text_format.MessageToString(domain, as_one_line=True)
    domains[feature.name] = f'{kind} {{{body}}}'
  return domains
