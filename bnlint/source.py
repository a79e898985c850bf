"""Bytes -> text: encodings, BOM, line index; the one place positions meet offsets."""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from dataclasses import dataclass

from bnlint.diagnostics import Position


class UndecodableSource(Exception):
    """The bytes cannot be decoded; carries the position of the first bad byte."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.position = position


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class SourceText:
    """Decoded source with a line index (rows are 1-based, columns count characters)."""

    text: str
    encoding: str = "utf-8"
    bom: bool = False

    def __post_init__(self) -> None:
        starts = [0]
        starts.extend(match.end() for match in _LINE_BREAK.finditer(self.text))
        self._line_starts = starts

    @property
    def line_count(self) -> int:
        """Lines of text; a final line break does not start another line."""
        trailing_break = len(self._line_starts) > 1 and self._line_starts[-1] == len(self.text)
        return len(self._line_starts) - (1 if trailing_break else 0)

    def line(self, row: int) -> str:
        """The text of line `row` without its line break ('' past the end)."""
        if row < 1 or row > len(self._line_starts):
            return ""
        start = self._line_starts[row - 1]
        end = self._line_starts[row] if row < len(self._line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def offset(self, position: Position) -> int:
        """Character offset of a 1-based (row, column) position, clamped to the text."""
        row = min(max(position.row, 1), len(self._line_starts))
        start = self._line_starts[row - 1]
        return min(start + position.column - 1, len(self.text))

    def position(self, offset: int) -> Position:
        """1-based (row, column) of a character offset."""
        low, high = 0, len(self._line_starts) - 1
        while low < high:
            mid = (low + high + 1) // 2
            if self._line_starts[mid] <= offset:
                low = mid
            else:
                high = mid - 1
        return Position(low + 1, offset - self._line_starts[low] + 1)

    def encode(self, text: str) -> bytes:
        """Encode edited text back the way the original was stored."""
        data = text.encode(self.encoding)
        return codecs.BOM_UTF8 + data if self.bom else data


def decode(data: bytes) -> SourceText:
    """Decode Python source as the interpreter would (BOM, PEP 263 cookie, else UTF-8).

    >>> decode(b"# -*- coding: latin-1 -*-\\nname = '\\xe9'\\n").text[-3:] -> "é'\\n"
    Raises UndecodableSource with the position of the first undecodable byte.
    """
    bom = data.startswith(codecs.BOM_UTF8)
    cookie_problem = None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        # Also raised for a bad byte in the first two lines: decoding them as UTF-8
        # below finds that byte's position; otherwise the cookie itself is the problem.
        encoding, cookie_problem = "utf-8", str(error)
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    body = data[len(codecs.BOM_UTF8) :] if bom else data
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        good = body[: error.start].decode(encoding, errors="replace")
        line = good.count("\n") + 1
        column = len(good) - (good.rfind("\n") + 1) + 1
        raise UndecodableSource(
            f"cannot decode byte {body[error.start]:#04x} as {encoding}", Position(line, column)
        ) from None
    except LookupError:
        raise UndecodableSource(f"unknown encoding `{encoding}`", Position(1, 1)) from None
    if cookie_problem is not None:
        raise UndecodableSource(cookie_problem, Position(1, 1))
    return SourceText(text, encoding=encoding, bom=bom)
