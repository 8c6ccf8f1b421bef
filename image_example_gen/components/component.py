"""ImageExampleGen: the TFX component that ingests folders of images.

Only a constructor: it checks the options, packs them into one IngestConfig,
and hands everything to FileBasedExampleGen's machinery.
"""

from typing import Any, Optional, Union

from tfx.components.example_gen import component
from tfx.components.example_gen import utils
from tfx.dsl.components.base import base_beam_component
from tfx.dsl.components.base import executor_spec
from tfx.orchestration import data_types
from tfx.proto import example_gen_pb2
from tfx.proto import range_config_pb2
from tfx.types import channel
from tfx.types import component_spec
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs

from image_example_gen.core import config as config_lib
from image_example_gen.components import driver
from image_example_gen.components import executor

__all__ = ['ImageExampleGen', 'ImageExampleGenSpec']


class ImageExampleGenSpec(standard_component_specs.FileBasedExampleGenSpec):
  """FileBasedExampleGen's spec plus the IngestConfig JSON."""
  PARAMETERS = {
      **standard_component_specs.FileBasedExampleGenSpec.PARAMETERS,
      config_lib.INGEST_CONFIG_KEY: component_spec.ExecutionParameter(type=str),
      # Filled by the driver at run time, never by the user.
      config_lib.PREVIOUS_CLASS_NAMES_KEY: component_spec.ExecutionParameter(
          type=str, optional=True),
  }


class ImageExampleGen(component.FileBasedExampleGen):
  """Ingests image folders (`<class>/<image>`) as tf.train.Examples.

  ```
  ImageExampleGen(input_base='/data/flowers')
  ImageExampleGen(input_base='/data/flowers',
                  input_config=example_gen_pb2.Input(splits=[
                      example_gen_pb2.Input.Split(name='train', pattern='train/*'),
                      example_gen_pb2.Input.Split(name='eval', pattern='eval/*')]),
                  on_bad_image='fail')
  ```

  Component `outputs` contains:
   - `examples`: Channel of type `standard_artifacts.Examples`, with
     `ingest_report.json` at the artifact's root.
  """

  SPEC_CLASS = ImageExampleGenSpec
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)
  DRIVER_CLASS = driver.ImageFolderDriver

  def __init__(
      self,
      input_base: Optional[str] = None,
      input_config: Optional[Union[example_gen_pb2.Input,
                                   data_types.RuntimeParameter]] = None,
      output_config: Optional[Union[example_gen_pb2.Output,
                                    data_types.RuntimeParameter]] = None,
      range_config: Optional[Union[range_config_pb2.RangeConfig,
                                   data_types.RuntimeParameter]] = None,
      *,
      config: Optional[config_lib.IngestConfig] = None,
      **options: Any):
    """Constructs an ImageExampleGen.

    Args:
      input_base: The folder (local path or URI) holding the images.
      input_config: Input splits and their patterns, relative to input_base.
        A pattern may match folders (walked recursively) or files. Unset: one
        split of every class folder of input_base (pattern '*').
      output_config: Output splits. Unset: with one input split, hash
        buckets train:eval 2:1; with several, the input splits are kept.
      range_config: Span range, for patterns with {SPAN} (as in TFX).
      config: All ingest options as one IngestConfig.
      **options: Or the same options as keywords (IngestConfig's fields:
        labels, class_names, metadata_file, on_bad_image, max_bad_fraction,
        compression, validation, split_key, stratify, max_file_bytes,
        max_pixels, gzip_level; see docs/options.md).

    Raises:
      TypeError: An unknown option, or both config and options.
      ValueError: An invalid option value.
    """
    if config is not None and options:
      raise TypeError(
          f'Pass either config or options {sorted(options)}, not both.')
    if config is None:
      config = config_lib.IngestConfig.from_options(**options)
    input_config = input_config or utils.make_default_input_config()
    output_config = output_config or utils.make_default_output_config(
        input_config)
    spec = ImageExampleGenSpec(
        input_base=input_base,
        input_config=input_config,
        output_config=output_config,
        range_config=range_config,
        output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
        output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
        examples=channel.Channel(type=standard_artifacts.Examples),
        **{config_lib.INGEST_CONFIG_KEY: config.to_json()})
    # FileBasedExampleGen.__init__ builds its own spec class; build ours.
    base_beam_component.BaseBeamComponent.__init__(self, spec=spec)
