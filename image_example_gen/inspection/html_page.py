"""The index.html page: the summary text and every picture, in one file.

The page needs no server: pictures are `<img>` elements whose `src` is the
PNG's file name, relative to the page, in the same folder.
"""

import html
from typing import Mapping, Optional, Sequence, Tuple
from urllib import parse

__all__ = ['render_page']

_STYLE = ('body{font-family:sans-serif;margin:1.5em;color:#222}'
          'pre{background:#f4f4f4;padding:1em;overflow-x:auto}'
          'img{max-width:100%;border:1px solid #ddd;margin:0 1em 1em 0;'
          'vertical-align:top}')


def render_page(
    title: str, lines: Sequence[str],
    sections: Sequence[Tuple[str, Sequence[str]]],
    details: Optional[Mapping[str, Tuple[str, Sequence[str]]]] = None) -> str:
  """The page's HTML.

  Args:
    title: The page title and heading.
    lines: The summary lines, shown as preformatted text.
    sections: (heading, [PNG file names]) in page order.
    details: {section heading: (summary, lines)}: text shown folded (a
      `<details>` element) under that section's pictures.
  """
  details = details or {}
  parts = [
      '<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
      f'<title>{html.escape(title)}</title>', f'<style>{_STYLE}</style>',
      '</head>', '<body>', f'<h1>{html.escape(title)}</h1>',
      '<pre>' + html.escape('\n'.join(lines)) + '</pre>'
  ]
  for heading, pictures in sections:
    parts.append(f'<h2>{html.escape(heading)}</h2>')
    parts.append('<div>' + ''.join(
        f'<img src="{html.escape(parse.quote(name))}" '
        f'alt="{html.escape(name)}">' for name in pictures) + '</div>')
    if heading in details:
      summary, text = details[heading]
      parts.append(f'<details><summary>{html.escape(summary)}</summary><pre>'
                   + html.escape('\n'.join(text)) + '</pre></details>')
  parts += ['</body>', '</html>', '']
  return '\n'.join(parts)
