"""A small Beam pipeline that shows which SDK worker processes ran it.

    python pid_pipeline.py --out DIR [--elements N] BEAM_ARGS...

Each element goes through a ParDo that records `<host>:<pid>` of the SDK
worker that ran it, a Reshuffle, and a DoFn with a tagged output (even/odd),
then the two outputs are written as text under DIR (a folder every worker
can write: the clusters here run on one machine). Functions are pickled by
value (cloudpickle), so the workers need nothing but Beam.
"""

import argparse
import sys

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions


def main(argv=None) -> int:
  parser = argparse.ArgumentParser()
  parser.add_argument('--out', required=True)
  parser.add_argument('--elements', type=int, default=2000)
  args, beam_args = parser.parse_known_args(argv)
  options = PipelineOptions(beam_args + ['--pickle_library=cloudpickle'])

  def tag_worker(element):
    import os  # pylint: disable=g-import-not-at-top,redefined-outer-name
    import socket  # pylint: disable=g-import-not-at-top
    return element, f'{socket.gethostname()}:{os.getpid()}'

  def split(element):
    import os  # pylint: disable=g-import-not-at-top
    from apache_beam import pvalue  # pylint: disable=g-import-not-at-top
    number, first_worker = element
    line = f'{number}\t{first_worker}\t{os.getpid()}'
    if number % 2:
      yield pvalue.TaggedOutput('odd', line)
    else:
      yield line

  with beam.Pipeline(options=options) as pipeline:
    outputs = (
        pipeline
        | beam.Create(list(range(args.elements)), reshuffle=False)
        | 'Spread' >> beam.Reshuffle()
        | 'TagWorker' >> beam.Map(tag_worker)
        | 'Shuffle' >> beam.Reshuffle()
        | 'Split' >> beam.FlatMap(split).with_outputs('odd', main='even'))
    _ = outputs.even | 'WriteEven' >> beam.io.WriteToText(f'{args.out}/even')
    _ = outputs.odd | 'WriteOdd' >> beam.io.WriteToText(f'{args.out}/odd')
  return 0


if __name__ == '__main__':
  sys.exit(main())
