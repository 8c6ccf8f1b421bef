"""benchmarks/stage_timeline.py: stage names from the runner's log, phases."""

from benchmarks import stage_timeline

_PREFIX = 'Running bundle for stage '


def test_stage_name_is_the_first_applied_transform():
  message = (
      _PREFIX + '((((ref_PCollection_PCollection_8/Read)+(ref_AppliedPTransfo'
      'rm_EncodeImages-ReadAndEncode-ParDo-_EncodeImagesDoFn-_57))+(ref_Appl'
      'iedPTransform_WriteSplit-train-Write-WriteImpl-WindowInto_131))\n'
      '\tExpected outputs: {} timers: {}')
  assert stage_timeline._stage_name(message) == (
      'EncodeImages/ReadAndEncode/ParDo/_EncodeImagesDoFn')


def test_stage_name_of_a_grouping_read_alone():
  message = _PREFIX + '(EncodeImages/CountPerClass/Group/Read)\n\tExpected'
  assert stage_timeline._stage_name(message) == (
      'EncodeImages/CountPerClass/Group')


def test_rows_last_until_the_next_event_and_flag_the_ends():
  events = [(0.2, stage_timeline._PLANNED), (1.0, 'first'), (2.0, 'middle'),
            (5.0, 'last'), (6.0, stage_timeline._REPORTED)]
  rows = stage_timeline._rows(events, total=6.5)
  assert [(began, round(seconds, 6), is_stage)
          for began, seconds, _, is_stage in rows] == [
              (0.0, 0.2, False), (0.2, 0.8, False), (1.0, 1.0, False),
              (2.0, 3.0, True), (5.0, 1.0, False), (6.0, 0.5, False)]
  names = [name for _, _, name, _ in rows]
  assert names[2].startswith('first (with the runner starting')
  assert names[3] == 'middle'
  assert names[4].startswith("last (with the pipeline's end")
  assert names[5] == "the artifact's files"
