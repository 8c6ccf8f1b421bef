"""Records a schema's domains in statistics, for SchemaGen to infer them.

TFDV's semantic-domain generators hand a domain to schema inference through a
custom statistic named `domain_info` whose text is the domain (for example
`image_domain {}`); `tfdv.infer_schema`, which SchemaGen runs, gives the feature
that domain. Adding the same statistic for each domain of the schema the
statistics were computed with makes SchemaGen's inferred schema keep them.
"""

from tensorflow_data_validation.utils import stats_util
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_metadata.proto.v0 import statistics_pb2

from image_example_gen.components import image_schema

__all__ = ['add_domain_info']


def add_domain_info(statistics: statistics_pb2.DatasetFeatureStatisticsList,
                    schema: schema_pb2.Schema) -> int:
  """Adds a `domain_info` custom statistic to each feature the schema gives a
  domain, in every dataset; replaces one that is already there.

  Returns:
    The number of features annotated.
  """
  domains = image_schema.domain_info_by_feature(schema)
  annotated = 0
  for dataset in statistics.datasets:
    for feature in dataset.features:
      name = (feature.path.step[0]
              if len(feature.path.step) == 1 else feature.name)
      if name not in domains:
        continue
      kept = [stat for stat in feature.custom_stats
              if stat.name != stats_util.DOMAIN_INFO]
      del feature.custom_stats[:]
      feature.custom_stats.extend(kept)
      feature.custom_stats.add(name=stats_util.DOMAIN_INFO, str=domains[name])
      annotated += 1
  return annotated
