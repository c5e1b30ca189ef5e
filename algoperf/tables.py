"""Tables that fit the terminal they are printed on.

Each column has a priority. When a table is rendered it keeps what fits
the width it is given: first the short forms of the least important
columns, then those columns are left out, and the caption says which.
Names and numbers never wrap (a cell is shown whole or its column is left
out); only free-text columns wrap, and one marked ``below`` is printed under
the table, one line per row, when it is left out beside it. So a table
printed at 80 columns never comes out one letter per line.
"""

import dataclasses

# Between two columns: the right padding of one and the box's (blank)
# vertical line.
_GAP = 2


@dataclasses.dataclass(frozen=True)
class Column:
  header: str
  priority: int = 0  # 0: always shown; larger numbers are left out first.
  justify: str = 'left'
  wrap: bool = False  # Free text: may wrap, never narrower than min_width.
  min_width: int = 24
  below: bool = False  # Left out: each row's text goes under the table.
  short_header: str | None = None  # With the short form of its cells.
  # When its short form is used (default: just before it would be left
  # out); a column that always stays (priority 0) may still be shortened.
  shorten_priority: int | None = None


@dataclasses.dataclass(frozen=True)
class Cell:
  """A cell with a shorter form for narrow tables (``text`` in markup)."""

  text: str
  short: str

  def __str__(self) -> str:
    return self.text


class FittedTable:
  """A rich renderable: the table that fits ``options.max_width``.

  Args:
    columns: Column per column.
    rows: per row, one cell per column: markup text or a ``Cell``.
    title, caption: above and under the table.
    labels: per row, what names it under the table ('mnist trial 1').
  """

  def __init__(self, columns, rows, title: str = '', caption: str = '',
               labels=None):
    self.columns = list(columns)
    self.rows = [list(r) for r in rows]
    self.title = title
    self.caption = caption
    self.labels = list(labels) if labels is not None else [''] * len(rows)

  def __rich_console__(self, console, options):
    from rich.text import Text

    layout = self.layout(console, options.max_width)
    yield self._table(layout, options.max_width)
    for line in self._notes(layout, options.max_width):
      yield Text(line, style='dim')
    if layout.below is not None:
      for label, row in zip(self.labels, self.rows):
        text = str(row[layout.below])
        if text:
          line = Text.from_markup(f'[bold]{label}[/bold]: ' if label else '')
          line.append_text(Text.from_markup(text))
          yield line

  def layout(self, console, width: int) -> 'Layout':
    """Which columns, in which form, fit ``width``."""
    shown = [i for i, _ in enumerate(self.columns)]
    short: set[int] = set()
    for step in self._steps():
      if self._fits(console, Layout(shown, short), width):
        break
      kind, index = step
      if kind == 'short':
        short.add(index)
      else:
        shown.remove(index)
    return Layout(shown, short, self._below(shown))

  def _steps(self):
    """Shorten, then leave out, the least important columns first."""
    steps = []
    for i, column in enumerate(self.columns):
      shorten = (column.priority if column.shorten_priority is None
                 else column.shorten_priority)
      if self._has_short(i) and shorten > 0:
        steps.append((shorten, 1, i, 'short'))
      if column.priority > 0:
        steps.append((column.priority, 0, i, 'drop'))
    steps.sort(reverse=True)  # At one priority: shorten before dropping.
    return [(kind, i) for _, _, i, kind in steps] + [None]

  def _has_short(self, index: int) -> bool:
    return any(isinstance(r[index], Cell) for r in self.rows) or (
      self.columns[index].short_header is not None)

  def _below(self, shown) -> int | None:
    for i, column in enumerate(self.columns):
      if column.below and i not in shown:
        return i
    return None

  def _fits(self, console, layout: 'Layout', width: int) -> bool:
    del console
    return self._width(layout) <= width

  def _width(self, layout: 'Layout') -> int:
    """The narrowest the table can be with every name and number whole."""
    widths = [self._natural(i, i in layout.short) for i in layout.shown]
    return sum(widths) + _GAP * (len(widths) - 1)

  def _natural(self, index: int, short: bool) -> int:
    """A column's width: its widest cell (its longest word, and at least
    min_width, when it wraps)."""
    from rich.cells import cell_len
    from rich.text import Text

    column = self.columns[index]
    header = (column.short_header if short and column.short_header
              else column.header)
    texts = [Text.from_markup(_form(r[index], short)).plain
             for r in self.rows]
    if column.wrap:
      words = [w for t in texts + [header] for w in t.split()]
      return max([column.min_width] + [cell_len(w) for w in words])
    return max(cell_len(t) for t in texts + [header])

  def _widths(self, layout: 'Layout', width: int) -> dict[int, int]:
    """Each shown column's width: its natural one, and what is left of
    ``width`` shared among the wrapping columns (up to their full text)."""
    from rich.cells import cell_len
    from rich.text import Text

    widths = {i: self._natural(i, i in layout.short) for i in layout.shown}
    spare = width - self._width(layout)
    for i in (i for i in layout.shown if self.columns[i].wrap):
      full = max(cell_len(Text.from_markup(_form(r[i], False)).plain)
                 for r in self.rows) if self.rows else 0
      grow = max(min(spare, full - widths[i]), 0)
      widths[i] += grow
      spare -= grow
    return widths

  def _table(self, layout: 'Layout', width: int):
    from rich import box
    from rich.table import Table

    table = Table(title=self.title or None, box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                  title_justify='left', caption_justify='left')
    widths = self._widths(layout, width)
    for i in layout.shown:
      column = self.columns[i]
      header = (column.short_header if i in layout.short
                and column.short_header else column.header)
      # Every width fixed: names and numbers never squeezed by rich.
      table.add_column(header, justify=column.justify,
                       no_wrap=not column.wrap, overflow='fold',
                       width=widths[i])
    for row in self.rows:
      table.add_row(*(_form(row[i], i in layout.short) for i in layout.shown))
    return table

  def _notes(self, layout: 'Layout', width: int) -> list[str]:
    """The caption, and which columns were left out (and where to)."""
    left_out = [c.header for i, c in enumerate(self.columns)
                if i not in layout.shown]
    notes = [self.caption] if self.caption else []
    if left_out:
      below = (f' ({self.columns[layout.below].header} below)'
               if layout.below is not None else '')
      notes.append(f'Left out to fit {width} columns: '
                   f'{", ".join(left_out)}{below}; a wider terminal shows '
                   'them.')
    return notes


@dataclasses.dataclass(frozen=True)
class Layout:
  shown: list  # Column indices, in order.
  short: set  # Column indices shown in their short form.
  below: int | None = None  # The left-out column printed under the table.


def _form(cell, short: bool) -> str:
  if isinstance(cell, Cell):
    return cell.short if short else cell.text
  return '' if cell is None else str(cell)
