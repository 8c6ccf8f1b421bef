"""`tf.train.Example` protobuf classes, built without importing TensorFlow.

Importing `tensorflow` costs each Beam worker ~5 s and ~0.6 GB, only to get the
Example message classes. This module declares the same messages as
`tensorflow/core/example/{example,feature}.proto` (same package, names, field
numbers and types, so the wire format is identical: TensorFlow parses what this
writes and vice versa) in a private descriptor pool, so they never clash with
TensorFlow's own classes when both are loaded in one process.
"""

from google.protobuf import descriptor_pb2
from google.protobuf import descriptor_pool
from google.protobuf import message_factory

__all__ = ['Example', 'Feature', 'Features']

_FIELD = descriptor_pb2.FieldDescriptorProto
_PACKAGE = 'tensorflow'


def _add_message(file_proto, name, fields):
  """Adds a message whose fields are (name, number, type, label, type_name)."""
  message = file_proto.message_type.add(name=name)
  for field_name, number, field_type, label, type_name in fields:
    field = message.field.add(
        name=field_name, number=number, type=field_type, label=label)
    if type_name:
      field.type_name = f'.{_PACKAGE}.{type_name}'
  return message


def _example_file_descriptor() -> descriptor_pb2.FileDescriptorProto:
  file_proto = descriptor_pb2.FileDescriptorProto(
      name='image_example_gen/tensorflow_example.proto',
      package=_PACKAGE,
      syntax='proto3')
  repeated, optional = _FIELD.LABEL_REPEATED, _FIELD.LABEL_OPTIONAL
  _add_message(file_proto, 'BytesList',
               [('value', 1, _FIELD.TYPE_BYTES, repeated, None)])
  _add_message(file_proto, 'FloatList',
               [('value', 1, _FIELD.TYPE_FLOAT, repeated, None)])
  _add_message(file_proto, 'Int64List',
               [('value', 1, _FIELD.TYPE_INT64, repeated, None)])
  feature = _add_message(file_proto, 'Feature', [
      ('bytes_list', 1, _FIELD.TYPE_MESSAGE, optional, 'BytesList'),
      ('float_list', 2, _FIELD.TYPE_MESSAGE, optional, 'FloatList'),
      ('int64_list', 3, _FIELD.TYPE_MESSAGE, optional, 'Int64List'),
  ])
  feature.oneof_decl.add(name='kind')
  for field in feature.field:
    field.oneof_index = 0
  features = _add_message(file_proto, 'Features', [
      ('feature', 1, _FIELD.TYPE_MESSAGE, repeated, 'Features.FeatureEntry')
  ])
  entry = features.nested_type.add(name='FeatureEntry')
  entry.options.map_entry = True
  entry.field.add(name='key', number=1, type=_FIELD.TYPE_STRING,
                  label=optional)
  entry.field.add(name='value', number=2, type=_FIELD.TYPE_MESSAGE,
                  label=optional, type_name=f'.{_PACKAGE}.Feature')
  _add_message(file_proto, 'Example', [
      ('features', 1, _FIELD.TYPE_MESSAGE, optional, 'Features')
  ])
  return file_proto


def _build_classes():
  pool = descriptor_pool.DescriptorPool()
  file_descriptor = pool.Add(_example_file_descriptor())
  del file_descriptor
  return tuple(
      message_factory.GetMessageClass(
          pool.FindMessageTypeByName(f'{_PACKAGE}.{name}'))
      for name in ('Example', 'Features', 'Feature'))


Example, Features, Feature = _build_classes()
