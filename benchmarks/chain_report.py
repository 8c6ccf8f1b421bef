"""Derived figures, targets and markdown tables of chain_benchmark's runs.

Derived from the runs (a run is one images x mode x compression; failed runs
are left out), each checked against its target:
  chain_over_example_gen  per run: LocalDagRunner.run seconds over the
                          seconds of the first node, the ExampleGen
                          (target <= 2.5)
  in_process_peak         tree peak of in_process at the largest size run,
                          per compression (target <= 1.5 GB = 1536 MB)
  in_process_scaling      that peak over the one at the smallest size, per
                          compression; with two sizes or more (target <= 1.15)
  workers2_peak           tree peak of every workers2 run (target <= 3 GB)
  compression             per images x mode with both compressions: gzip and
                          none side by side (run, component and CPU seconds,
                          output MB), since every reader downstream
                          decompresses what the ExampleGen compressed
"""

from typing import Any, Dict, List, Optional, Sequence, Tuple

__all__ = ['TARGETS', 'derive', 'format_report']

TARGETS = {
    'chain_over_example_gen': 2.5,
    'in_process_peak_mb': 1.5 * 1024,
    'in_process_scaling': 1.15,
    'workers2_peak_mb': 3 * 1024,
}

Result = Dict[str, Any]


def _ok(results: Sequence[Result]) -> List[Result]:
  return [result for result in results if 'error' not in result]


def _find(results: Sequence[Result], **keys) -> Optional[Result]:
  return next((r for r in results
               if all(r[key] == value for key, value in keys.items())), None)


def _check(value: float, target: float) -> Dict[str, Any]:
  return {'value': value, 'target': target, 'passed': value <= target}


def _node_ids(results: Sequence[Result]) -> List[str]:
  """The components of the runs, in run order."""
  ids: List[str] = []
  for result in results:
    ids.extend(c['node_id'] for c in result['components']
               if c['node_id'] not in ids)
  return ids


def _component(result: Result, node_id: str) -> Optional[Dict[str, Any]]:
  return next((c for c in result['components'] if c['node_id'] == node_id),
              None)


def _memory_checks(runs: List[Result]) -> Dict[str, List[Result]]:
  sizes = sorted({r['images'] for r in runs})
  checks: Dict[str, List[Result]] = {
      'in_process_peak': [], 'in_process_scaling': [], 'workers2_peak': []}
  for compression in sorted({r['compression'] for r in runs}):
    large = _find(runs, mode='in_process', compression=compression,
                  images=sizes[-1])
    small = _find(runs, mode='in_process', compression=compression,
                  images=sizes[0])
    if large:
      checks['in_process_peak'].append(dict(
          _check(large['peak_rss_mb'], TARGETS['in_process_peak_mb']),
          images=sizes[-1], compression=compression))
    if large and small and len(sizes) > 1:
      checks['in_process_scaling'].append(dict(
          _check(large['peak_rss_mb'] / small['peak_rss_mb'],
                 TARGETS['in_process_scaling']),
          images=sizes[-1], base_images=sizes[0], compression=compression))
  checks['workers2_peak'] = [
      dict(_check(r['peak_rss_mb'], TARGETS['workers2_peak_mb']),
           images=r['images'], compression=r['compression'])
      for r in runs if r['mode'] == 'workers2']
  return checks


def _compression_pairs(runs: List[Result]) -> List[Dict[str, Any]]:
  pairs = []
  for result in runs:
    if result['compression'] != 'gzip':
      continue
    other = _find(runs, images=result['images'], mode=result['mode'],
                  compression='none')
    if not other:
      continue
    pair = {'images': result['images'], 'mode': result['mode']}
    for name, run in (('gzip', result), ('none', other)):
      pair[name] = {
          'run_seconds': run['run_seconds'],
          'cpu_seconds': run['cpu_seconds'],
          'output_mb': run['output_mb'],
          'component_seconds': {c['node_id']: c['seconds']
                                for c in run['components']},
      }
    pairs.append(pair)
  return pairs


def derive(results: Sequence[Result]) -> Dict[str, Any]:
  """The derived figures, each with its target and whether it passed."""
  runs = _ok(results)
  derived: Dict[str, Any] = {'targets': TARGETS}
  derived['chain_over_example_gen'] = [
      dict(_check(r['run_seconds'] / r['components'][0]['seconds'],
                  TARGETS['chain_over_example_gen']),
           images=r['images'], mode=r['mode'], compression=r['compression'])
      for r in runs]
  if runs:
    derived.update(_memory_checks(runs))
  derived['compression'] = _compression_pairs(runs)
  return derived


def _table(header: List[str], rows: List[List[str]]) -> str:
  lines = [header, ['---'] * len(header)] + rows
  return '\n'.join('| ' + ' | '.join(line) + ' |' for line in lines)


def _num(value: Optional[float], digits: int = 1) -> str:
  return '' if value is None else f'{value:.{digits}f}'


def _run_key(result: Result) -> List[str]:
  return [str(result['images']), result['mode'], result['compression']]


def _time_table(results: Sequence[Result], node_ids: List[str]) -> str:
  header = (['images', 'mode', 'compression', 'run s'] +
            [f'{node_id} s' for node_id in node_ids] +
            ['chain / ExampleGen', 'CPU s', "others' CPU s", 'output MB',
             'stats examples', 'examples ok'])
  rows = []
  for r in results:
    if 'error' in r:
      rows.append(_run_key(r) + ['FAILED: ' + r['error']] +
                  [''] * (len(header) - 4))
      continue
    counts = ' / '.join(f'{split} {count}' for split, count
                        in sorted(r['statistics_examples'].items()))
    rows.append(
        _run_key(r) + [_num(r['run_seconds'])] +
        [_num((_component(r, n) or {}).get('seconds')) for n in node_ids] +
        [f"{r['run_seconds'] / r['components'][0]['seconds']:.2f}x",
         _num(r['cpu_seconds']), _num(r['others_cpu_seconds']),
         _num(r['output_mb']), counts,
         'yes' if r['examples_ok'] else 'NO'])
  return _table(header, rows)


def _memory_table(runs: List[Result], node_ids: List[str]) -> str:
  header = (['images', 'mode', 'compression', 'tree peak MB', 'peak during',
             'at run start MB'] +
            [f'peak in {node_id} MB' for node_id in node_ids] +
            ['largest process MB'])
  rows = [
      _run_key(r) + [_num(r['peak_rss_mb'], 0), r['peak_at'],
                     _num(r['rss_at_run_start_mb'], 0)] +
      [_num((_component(r, n) or {}).get('peak_rss_mb'), 0)
       for n in node_ids] + [_num(r['peak_process_rss_mb'], 0)]
      for r in runs]
  return _table(header, rows)


def _compression_table(pairs: List[Dict[str, Any]],
                       node_ids: List[str]) -> str:
  header = (['images', 'mode', 'run s', 'none vs gzip'] +
            [f'{node_id} s' for node_id in node_ids] +
            ['CPU s', 'output MB'])
  rows = []
  for pair in pairs:
    gzip, none = pair['gzip'], pair['none']

    def both(get, digits: int = 1) -> str:
      return f'{_num(get(gzip), digits)} / {_num(get(none), digits)}'

    change = none['run_seconds'] / gzip['run_seconds'] - 1
    rows.append(
        [str(pair['images']), pair['mode'], both(lambda s: s['run_seconds']),
         f'{change:+.0%}'] +
        [both(lambda s, n=n: s['component_seconds'].get(n)) for n in node_ids] +
        [both(lambda s: s['cpu_seconds']), both(lambda s: s['output_mb'])])
  return _table(header, rows)


def _targets_block(derived: Dict[str, Any]) -> str:
  def line(label: str, check: Dict[str, Any], text: str) -> str:
    verdict = 'PASS' if check['passed'] else 'FAIL'
    return f'  {label:<32} {text:>10}  {verdict}'

  lines = ['Targets']
  # (key in derived, title, check -> (label, value text))
  sections: List[Tuple[str, str, Any]] = [
      ('chain_over_example_gen',
       f"chain s / ExampleGen s <= {TARGETS['chain_over_example_gen']}",
       lambda c: (f"{c['images']} {c['mode']} {c['compression']}",
                  f"{c['value']:.2f}x")),
      ('in_process_peak',
       f"in_process tree peak <= {TARGETS['in_process_peak_mb']:.0f} MB",
       lambda c: (f"{c['images']} {c['compression']}",
                  f"{c['value']:.0f} MB")),
      ('in_process_scaling',
       f"in_process tree peak growth <= {TARGETS['in_process_scaling']}",
       lambda c: (f"{c['images']} / {c['base_images']} {c['compression']}",
                  f"{c['value']:.2f}")),
      ('workers2_peak',
       f"workers2 tree peak <= {TARGETS['workers2_peak_mb']:.0f} MB",
       lambda c: (f"{c['images']} {c['compression']}",
                  f"{c['value']:.0f} MB")),
  ]
  passed = total = 0
  for key, title, describe in sections:
    checks = derived.get(key, [])
    lines.append(title + ('' if checks else ': not measured in this run'))
    for check in checks:
      label, text = describe(check)
      lines.append(line(label, check, text))
      passed += check['passed']
      total += 1
  lines.append(f'{passed} of {total} checks pass')
  return '```\n' + '\n'.join(lines) + '\n```'


def format_report(results: Sequence[Result], derived: Dict[str, Any]) -> str:
  """The time, memory and compression tables, then the targets block."""
  runs = _ok(results)
  node_ids = _node_ids(runs)
  parts = ['Time (seconds per component from LocalDagRunner\'s start / finish '
           'log records)', '', _time_table(results, node_ids)]
  if runs:
    parts += ['', 'Memory (RSS of the child + all Beam workers, sampled '
              'every 50 ms; blank: no sample in a window that short)', '',
              _memory_table(runs, node_ids)]
  if derived['compression']:
    parts += ['', 'Compression: gzip / none', '',
              _compression_table(derived['compression'], node_ids)]
  parts += ['', _targets_block(derived)]
  return '\n'.join(parts)
