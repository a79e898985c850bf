"""Jupyter notebooks: cells in, one program out; positions in the program back to cells.

A pure adapter: it never lints. The engine lints the program and hands the findings
back here to be placed in their cells.

A notebook is run top to bottom as one namespace, so its code cells are joined, in cell
order, into one text that the ordinary linter reads: a model built in cell 3 and
evaluated in cell 9 is one flow. IPython syntax that is not Python (`%magic`, `%%cell`
magics, `!shell`, `obj?`) is replaced by a `pass` placeholder on the same row, so rows
and columns of everything else stay where they were. Cells are separated by a marker
comment line, which lets a fixed text be split back into its cells.

`--fix` rewrites only the `source` values of the cells it changed, inside the original
JSON text, so indentation, key order, escapes, outputs and the final newline are kept
byte for byte.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bnlint.diagnostics import Edit, Finding, Fix, Position, RelatedLocation, Span
from bnlint.source import SourceText

NOTEBOOK_SUFFIX = ".ipynb"
# A comment no notebook writes by accident; a fix that moves or copies it is refused.
_BOUNDARY = "# <bnlint: cell boundary>"
_PLACEHOLDER = re.compile(r"^([ \t]*)pass  # <bnlint: ipython (\d+)>$")
# Cell magics whose body is Python that IPython runs in the notebook's namespace.
_PYTHON_CELL_MAGICS = frozenset(
    {"capture", "debug", "prun", "pypy", "python", "python3", "time", "timeit"}
)
_ASSIGNED_ESCAPE = re.compile(
    r"^[ \t]*[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*=[ \t]*[%!]"
)
_JOINED_POSITION = re.compile(r"error at \d+:\d+: ")
_HELP = re.compile(r"^[ \t]*(?:\?{1,2}[\w.]+|[\w.]+\?{1,2})[ \t]*$")


class NotebookError(Exception):
    """Not a notebook bnlint can read; carries the position in the file's text."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.position = position


@dataclass
class CodeCell:
    """One code cell: its number (1-based among all cells) and its text."""

    number: int
    index: int
    text: str
    # Lines replaced by placeholders, by placeholder number.
    ipython_lines: dict[int, str]
    # The joined program has a final line break the cell did not have.
    added_newline: bool
    source_is_list: bool


@dataclass
class Notebook:
    """A parsed notebook: the JSON text, its code cells, and the joined program."""

    text: str
    bom: bool
    cells: list[CodeCell]
    raw_cells: list[Any]

    def program(self) -> str:
        """The code cells joined in cell order, IPython syntax neutralised.

        >>> Notebook.parse(nb_with("%matplotlib inline", "model.eval")).program()
        -> "pass  # <bnlint: ipython 0>\\n# <bnlint: cell boundary>\\nmodel.eval\\n"
        """
        return f"{_BOUNDARY}\n".join(cell.text for cell in self.cells)

    @classmethod
    def parse(cls, data: bytes) -> Notebook:
        """Read nbformat 4 JSON; raises NotebookError with the position of the problem."""
        bom = data.startswith(codecs.BOM_UTF8)
        body = data[len(codecs.BOM_UTF8) :] if bom else data
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            good = body[: error.start].decode("utf-8", errors="replace")
            row = good.count("\n") + 1
            raise NotebookError(
                f"cannot decode byte {body[error.start]:#04x} as utf-8",
                Position(row, len(good) - (good.rfind("\n") + 1) + 1),
            ) from None
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise NotebookError(
                f"not valid notebook JSON: {error.msg}", Position(error.lineno, error.colno)
            ) from None
        except RecursionError:
            raise NotebookError(
                "not valid notebook JSON: nested too deeply", Position(1, 1)
            ) from None
        raw_cells = _validated_cells(document)
        cells: list[CodeCell] = []
        counter = [0]
        if _is_python(document):
            for index, raw in enumerate(raw_cells):
                if raw.get("cell_type") != "code":
                    continue
                source = raw["source"]
                cell_text = "".join(source) if isinstance(source, list) else source
                cell = _code_cell(index, cell_text, isinstance(source, list), counter)
                if cell is not None:
                    cells.append(cell)
        return cls(text, bom, cells, raw_cells)

    def cell_rows(self, program: str) -> list[tuple[CodeCell, int]] | None:
        """(cell, first row) for each cell in `program`, or None when the markers moved."""
        rows: list[tuple[CodeCell, int]] = []
        next_cell = iter(self.cells)
        first = next(next_cell, None)
        if first is not None:
            rows.append((first, 1))
        for row, line in enumerate(program.splitlines(), start=1):
            if line == _BOUNDARY:
                cell = next(next_cell, None)
                if cell is None:
                    return None
                rows.append((cell, row + 1))
        if len(rows) != len(self.cells):
            return None
        return rows

    def split(self, program: str) -> list[str] | None:
        """The cells' texts in `program` (IPython lines restored), or None if markers moved."""
        parts: list[list[str]] = [[]]
        for line in program.splitlines(keepends=True):
            if line.rstrip("\r\n") == _BOUNDARY:
                parts.append([])
            else:
                parts[-1].append(line)
        if len(parts) != len(self.cells):
            return None
        texts = []
        for cell, lines in zip(self.cells, parts, strict=True):
            restored = "".join(_restore(line, cell.ipython_lines) for line in lines)
            if cell.added_newline and restored.endswith("\n"):
                restored = restored[:-1]
            texts.append(restored)
        return texts

    def with_sources(self, texts: Sequence[str]) -> str:
        """The notebook's JSON text with changed cells' sources replaced in place."""
        changed = {
            cell.index: (cell, new)
            for cell, new in zip(self.cells, texts, strict=True)
            if new != _original_text(self.raw_cells[cell.index])
        }
        if not changed:
            return self.text
        spans = _source_spans(self.text)
        ascii_only = _writes_ascii_only(self.text)
        result = self.text
        for index in sorted(changed, reverse=True):
            cell, new = changed[index]
            start, end = spans[index]
            value = _render_source(self.text, start, end, new, cell.source_is_list, ascii_only)
            result = result[:start] + value + result[end:]
        return result


def _validated_cells(document: Any) -> list[Any]:
    where = Position(1, 1)
    if not isinstance(document, dict):
        raise NotebookError("not a Jupyter notebook: the top level is not a JSON object", where)
    version = document.get("nbformat")
    if version != 4:
        raise NotebookError(
            f"unsupported notebook format: nbformat {version!r}; bnlint reads nbformat 4", where
        )
    cells = document.get("cells")
    if not isinstance(cells, list):
        raise NotebookError("not a Jupyter notebook: `cells` is not a list", where)
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError(f"cell {number} has no `cell_type`", where)
        source = cell.get("source")
        valid = isinstance(source, str) or (
            isinstance(source, list) and all(isinstance(line, str) for line in source)
        )
        if not valid:
            raise NotebookError(f"cell {number}'s `source` is not text", where)
    return cells


def _is_python(document: dict[str, Any]) -> bool:
    """False only when the metadata names another language (an R or Julia kernel)."""
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return True
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        section = metadata.get(key)
        if isinstance(section, dict) and isinstance(section.get(field), str):
            return bool(section[field].lower() == "python")
    return True


def _code_cell(index: int, text: str, is_list: bool, counter: list[int]) -> CodeCell | None:
    """The cell as it goes into the program, or None for a cell that is not Python."""
    lines = text.splitlines(keepends=True)
    ipython: dict[int, str] = {}
    out: list[str] = []
    first = lines[0].strip() if lines else ""
    python_lines = lines
    if first.startswith("%%"):
        magic = first[2:].split(maxsplit=1)[0] if len(first) > 2 else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return None
        consumed = _escape_extent(lines, 0)
        for line in lines[:consumed]:
            out.append(_placeholder("", line, ipython, counter))
        python_lines = lines[consumed:]
    out.extend(_neutralise(python_lines, ipython, counter))
    joined = "".join(out)
    added = bool(joined) and not joined.endswith("\n")
    if added:
        joined += "\n"
    return CodeCell(index + 1, index, joined, ipython, added, is_list)


def _neutralise(lines: list[str], ipython: dict[int, str], counter: list[int]) -> list[str]:
    """Replace IPython escapes that start a logical line; leave Python untouched."""
    out: list[str] = []
    state = _LineState()
    position = 0
    while position < len(lines):
        line = lines[position]
        if state.at_statement_start() and _is_ipython(line):
            indent = line[: len(line) - len(line.lstrip(" \t"))]
            extent = _escape_extent(lines, position)
            for continued in lines[position : position + extent]:
                out.append(_placeholder(indent, continued, ipython, counter))
            position += extent
            continue
        state.feed(line)
        out.append(line)
        position += 1
    return out


def _is_ipython(line: str) -> bool:
    stripped = line.lstrip(" \t")
    if stripped.startswith(("%", "!")):
        return True
    return bool(_ASSIGNED_ESCAPE.match(line) or _HELP.match(line.rstrip("\r\n")))


def _escape_extent(lines: list[str], start: int) -> int:
    """How many lines an IPython escape spans (a trailing backslash continues it)."""
    end = start
    while end < len(lines) - 1 and lines[end].rstrip("\r\n").endswith("\\"):
        end += 1
    return end - start + 1


def _placeholder(indent: str, line: str, ipython: dict[int, str], counter: list[int]) -> str:
    number = counter[0]
    counter[0] += 1
    ipython[number] = line
    newline = line[len(line.rstrip("\r\n")) :]
    return f"{indent}pass  # <bnlint: ipython {number}>{newline}"


def _restore(line: str, ipython: dict[int, str]) -> str:
    body = line.rstrip("\r\n")
    match = _PLACEHOLDER.match(body)
    if match is None or int(match.group(2)) not in ipython:
        return line
    original = ipython[int(match.group(2))]
    return original.rstrip("\r\n") + line[len(body) :]


class _LineState:
    """Whether the next line starts a statement: no open bracket, string or backslash."""

    def __init__(self) -> None:
        self.depth = 0
        self.triple: str | None = None
        self.continued = False

    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.triple is None and not self.continued

    def feed(self, line: str) -> None:
        text = line.rstrip("\r\n")
        self.continued = False
        i = 0
        while i < len(text):
            if self.triple is not None:
                end = text.find(self.triple, i)
                while end > 0 and _escaped(text, end):
                    end = text.find(self.triple, end + 1)
                if end < 0:
                    return
                i = end + 3
                self.triple = None
                continue
            char = text[i]
            if char == "#":
                return
            if char in "\"'":
                if text.startswith(char * 3, i):
                    self.triple = char * 3
                    i += 3
                    continue
                i = _string_end(text, i)
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            elif char == "\\" and i == len(text) - 1:
                self.continued = True
            i += 1


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return len(text)


def _original_text(raw: dict[str, Any]) -> str:
    source = raw["source"]
    return "".join(source) if isinstance(source, list) else str(source)


# --- writing sources back into the JSON text -------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    return match.end() if match else index


def _members(text: str, index: int) -> list[tuple[str, int, int]]:
    """(key, value start, value end) of the JSON object starting at `index`."""
    members: list[tuple[str, int, int]] = []
    index = _skip(text, index + 1)
    if text[index] == "}":
        return members
    while True:
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, _skip(text, index) + 1)
        _, end = _DECODER.raw_decode(text, index)
        members.append((key, index, end))
        index = _skip(text, end)
        if text[index] == "}":
            return members
        index = _skip(text, index + 1)


def _elements(text: str, index: int) -> list[tuple[int, int]]:
    """(start, end) of each element of the JSON array starting at `index`."""
    elements: list[tuple[int, int]] = []
    index = _skip(text, index + 1)
    if text[index] == "]":
        return elements
    while True:
        _, end = _DECODER.raw_decode(text, index)
        elements.append((index, end))
        index = _skip(text, end)
        if text[index] == "]":
            return elements
        index = _skip(text, index + 1)


def _source_spans(text: str) -> list[tuple[int, int]]:
    """Character span of each cell's `source` value in the notebook's JSON text."""
    top = _skip(text, 0)
    cells = next((start for key, start, _ in _members(text, top) if key == "cells"), None)
    if cells is None:
        return []
    spans = []
    for start, _ in _elements(text, cells):
        source = next((s, e) for key, s, e in _members(text, start) if key == "source")
        spans.append(source)
    return spans


def _writes_ascii_only(text: str) -> bool:
    """Whether the writer escaped non-ASCII (`\\u00e9`) rather than writing it as is."""
    if any(ord(char) > 127 for char in text):
        return False
    return "\\u" in text


def _render_source(
    text: str, start: int, end: int, new: str, as_list: bool, ascii_only: bool
) -> str:
    """The new `source` value, laid out like the old one (same separators and indents)."""
    if not as_list:
        return json.dumps(new, ensure_ascii=ascii_only)
    items = [
        json.dumps(line, ensure_ascii=ascii_only) for line in re.findall(r"[^\n]*\n|[^\n]+$", new)
    ]
    if not items:
        return "[]"
    elements = _elements(text, start)
    if not elements:
        line_start = text.rfind("\n", 0, start) + 1
        line = text[line_start:start]
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        head, tail = f"\n{indent} ", f"\n{indent}"
    else:
        head = text[start + 1 : elements[0][0]]
        tail = text[elements[-1][1] : end - 1]
    if len(elements) >= 2:
        separator = text[elements[0][1] : elements[1][0]]
    else:
        separator = "," + head if "\n" in head else ", "
    return f"[{head}{separator.join(items)}{tail}]"


# --- positions: the joined program's rows back to cells ---------------------------------


def parse_program(data: bytes) -> tuple[Notebook, SourceText]:
    """The notebook and its joined program (raises NotebookError)."""
    notebook = Notebook.parse(data)
    return notebook, SourceText(notebook.program())


def notebook_cell_sources(data: bytes) -> dict[int, SourceText]:
    """Each code cell's text by cell number, as findings' rows count them (for code frames).

    >>> notebook_cell_sources(data)[3].line(1) -> "model = build_model()"
    Empty for data that is not a readable notebook.
    """
    try:
        notebook = Notebook.parse(data)
    except NotebookError:
        return {}
    program = SourceText(notebook.program())
    rows = notebook.cell_rows(program.text)
    return cell_sources(notebook, program, rows) if rows else {}


def json_text(data: bytes) -> SourceText | None:
    """The notebook file as text, for code frames of a notebook that does not parse."""
    try:
        return SourceText(data.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError:
        return None


def cell_sources(
    notebook: Notebook, program: SourceText, rows: list[tuple[CodeCell, int]]
) -> dict[int, SourceText]:
    texts = notebook.split(program.text) or []
    return {cell.number: SourceText(text) for (cell, _), text in zip(rows, texts, strict=False)}


def _locate(position: Position, rows: list[tuple[CodeCell, int]]) -> tuple[int, Position]:
    """(cell number, position within the cell) of a position in the joined program."""
    chosen = rows[0]
    for cell, first in rows:
        if first > position.row:
            break
        chosen = (cell, first)
    cell, first = chosen
    return cell.number, Position(position.row - first + 1, position.column)


def in_cells(
    findings: Sequence[Finding], rows: list[tuple[CodeCell, int]], program: SourceText
) -> list[Finding]:
    """Findings on the joined program, moved to their cells (rows count within the cell)."""
    return [_in_cell(finding, rows, program) for finding in findings]


def _in_cell(finding: Finding, rows: list[tuple[CodeCell, int]], program: SourceText) -> Finding:
    if not rows:
        return finding
    cell, start = _locate(finding.span.start, rows)
    if finding.code == "BN001":
        # The parser's own "error at row:col" counts rows in the joined program.
        finding = replace(finding, message=_JOINED_POSITION.sub("", finding.message))
    end_cell, end = _locate(finding.span.end, rows)
    if end_cell != cell:
        # A span never crosses cells in Jupyter; clamp to the end of the start's cell.
        last_row = next(first for c, first in rows if c.number == end_cell) - 2
        end = Position(max(last_row, 1), len(program.line(last_row)) + 1)
        end = _locate(end, rows)[1]
    fix = finding.fix
    if fix is not None:
        fix = Fix(fix.applicability, fix.message, tuple(_edit_in_cell(e, rows) for e in fix.edits))
    related = tuple(_step_in_cell(step, rows) for step in finding.related)
    return replace(finding, span=Span(start, end), cell=cell, fix=fix, related=related)


def _step_in_cell(step: RelatedLocation, rows: list[tuple[CodeCell, int]]) -> RelatedLocation:
    cell, start = _locate(step.span.start, rows)
    end_cell, end = _locate(step.span.end, rows)
    return replace(step, span=Span(start, end if end_cell == cell else start), cell=cell)


def _edit_in_cell(edit: Edit, rows: list[tuple[CodeCell, int]]) -> Edit:
    return Edit(
        edit.content, Span(_locate(edit.span.start, rows)[1], _locate(edit.span.end, rows)[1])
    )
