"""The vocabulary every other module speaks: findings, spans, fixes and edits.

Positions here are what users see: 1-based rows and 1-based character columns.
LibCST's 0-based columns are converted once, in :func:`position_from_cst`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

# The names of `--output-format` (each a module of bnlint.report), known to the layers below
# the reporters (configuration validates `output-format` against them).
OUTPUT_FORMATS = (
    "text",
    "full",
    "concise",
    "grouped",
    "json",
    "json-lines",
    "sarif",
    "github",
    "gitlab",
    "junit",
    "pylint",
    "rdjson",
    "azure",
)


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Applicability(str, enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


class FixAvailability(str, enum.Enum):
    NEVER = "never"
    SOMETIMES = "sometimes"
    ALWAYS = "always"


@dataclass(frozen=True, order=True)
class Position:
    row: int
    column: int

    def to_json(self) -> dict[str, int]:
        return {"row": self.row, "column": self.column}


def position_from_cst(line: int, column: int) -> Position:
    """LibCST counts lines from 1 and columns from 0; users count both from 1."""
    return Position(line, column + 1)


@dataclass(frozen=True, order=True)
class Span:
    start: Position
    end: Position


@dataclass(frozen=True)
class Edit:
    """Replace the text between two positions (end exclusive) with `content`."""

    content: str
    span: Span

    def to_json(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "location": self.span.start.to_json(),
            "end_location": self.span.end.to_json(),
        }


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "applicability": self.applicability.value,
            "message": self.message,
            "edits": [edit.to_json() for edit in self.edits],
        }


RULES_URL = "https://github.com/bnlint/bnlint/blob/main/rules/{code}.md"


@dataclass(frozen=True)
class RelatedLocation:
    """One step of a finding's explanation: a place in the code and what happens there.

    A mode finding carries the path that leads to it (`model.train()` -> the epoch loop ->
    the validation loop); a structure finding the layer or value it was decided from.
    """

    filename: str
    span: Span
    message: str
    # Notebook cell (1-based), as on Finding: rows and columns then count within the cell.
    cell: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message": self.message,
            "filename": self.filename,
            "location": self.span.start.to_json(),
            "end_location": self.span.end.to_json(),
        }
        if self.cell is not None:
            data["cell"] = self.cell
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RelatedLocation:
        return cls(
            filename=data["filename"],
            span=Span(
                position_from_json(data["location"]), position_from_json(data["end_location"])
            ),
            message=data["message"],
            cell=data.get("cell"),
        )


def position_from_json(data: dict[str, Any]) -> Position:
    return Position(int(data["row"]), int(data["column"]))


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    severity: Severity
    message: str
    hint: str
    filename: str
    span: Span
    fix: Fix | None = None
    confirmed: bool = False
    # Notebook cell (1-based) the finding is in; rows and columns are then within the cell.
    cell: int | None = None
    count: int = 1
    # The steps that explain the finding, in order (empty for most findings).
    related: tuple[RelatedLocation, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def full_message(self) -> str:
        """The message and the hint as one line, for the one-line formats."""
        return f"{self.message}; {self.hint}" if self.hint else self.message

    @property
    def url(self) -> str:
        return RULES_URL.format(code=self.code)

    def sort_key(self) -> tuple[str, int, int, int, str]:
        return (
            self.filename,
            self.cell or 0,
            self.span.start.row,
            self.span.start.column,
            self.code,
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.full_message,
            "filename": self.filename,
            "location": self.span.start.to_json(),
            "end_location": self.span.end.to_json(),
            "fix": self.fix.to_json() if self.fix else None,
            "url": self.url,
            "confirmed": self.confirmed,
        }
        if self.cell is not None:
            data["cell"] = self.cell
        if self.count != 1:
            data["count"] = self.count
        if self.related:
            data["related"] = [step.to_json() for step in self.related]
        return data
