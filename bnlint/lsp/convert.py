"""Findings as LSP messages (plain JSON shapes), independent of the protocol library.

bnlint counts rows from 1 and columns in characters from 1; LSP counts lines from 0 and
columns in UTF-16 code units from 0. Every conversion goes through `lsp_range`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bnlint.diagnostics import Edit, Finding, Position, RelatedLocation, Severity
from bnlint.suppression import line_suppresses

SOURCE = "bnlint"
FIX_ALL_KIND = "source.fixAll.bnlint"

# Where a related location is shown: (the URI to link to, the lines its columns count in),
# or None when it cannot be shown (a file that is gone).
Locator = Callable[[RelatedLocation], "tuple[str, list[str]] | None"]


# The position encodings LSP 3.17 defines; UTF-16 unless the client and server agree on
# another at initialization.
UTF16 = "utf-16"


def column_units(line: str, column: int, encoding: str = UTF16) -> int:
    """bnlint's 1-based character column as LSP's 0-based column in `encoding` units.

    >>> column_units("x = '🙂'; model.eval", 10) -> 10      (the emoji is two UTF-16 units)
    >>> column_units("x = '🙂'; model.eval", 10, "utf-8") -> 12
    """
    prefix = line[: max(column - 1, 0)]
    if encoding == "utf-8":
        return len(prefix.encode("utf-8", errors="surrogatepass"))
    if encoding == "utf-32":
        return len(prefix)
    return len(prefix.encode("utf-16-le", errors="surrogatepass")) // 2


def utf16_column(line: str, column: int) -> int:
    """LSP's default: UTF-16 code units from 0 (bnlint counts characters from 1)."""
    return column_units(line, column, UTF16)


def lsp_range(
    span_start: Position, span_end: Position, lines: Sequence[str], encoding: str = UTF16
) -> dict[str, Any]:
    def point(position: Position) -> dict[str, int]:
        row = position.row - 1
        text = lines[row] if 0 <= row < len(lines) else ""
        return {"line": max(row, 0), "character": column_units(text, position.column, encoding)}

    return {"start": point(span_start), "end": point(span_end)}


_LSP_SEVERITY = {Severity.ERROR: 1, Severity.WARNING: 2, Severity.INFO: 3}


def diagnostic(
    finding: Finding,
    lines: Sequence[str],
    locate: Locator | None = None,
    encoding: str = UTF16,
) -> dict[str, Any]:
    """A finding as an LSP Diagnostic; its explanation path as `relatedInformation`.

    An editor lists the related locations under the finding and jumps to each: the
    `model.train()` that left the model training, the loop the finding sits in.
    """
    data: dict[str, Any] = {
        "range": lsp_range(finding.span.start, finding.span.end, lines, encoding),
        "severity": _LSP_SEVERITY[finding.severity],
        "code": finding.code,
        "codeDescription": {"href": finding.url},
        "source": SOURCE,
        "message": finding.full_message,
        "data": {"name": finding.name, "fixable": finding.fix is not None},
    }
    related = related_information(finding.related, locate, encoding) if locate is not None else []
    if related:
        data["relatedInformation"] = related
    return data


def notice_diagnostic(message: str) -> dict[str, Any]:
    """A notice about the whole document (not linted: too large), at its first line.

    A diagnostic rather than a popup: it stays with the document while the reason does,
    for pushing and pulling clients alike, and leaves when the document is linted again.
    """
    start = {"line": 0, "character": 0}
    return {
        "range": {"start": start, "end": start},
        "severity": _LSP_SEVERITY[Severity.WARNING],
        "source": SOURCE,
        "message": message,
    }


def related_information(
    steps: Sequence[RelatedLocation], locate: Locator, encoding: str = UTF16
) -> list[dict[str, Any]]:
    information = []
    for number, step in enumerate(steps, start=1):
        where = locate(step)
        if where is None:
            continue
        uri, lines = where
        information.append(
            {
                "location": {
                    "uri": uri,
                    "range": lsp_range(step.span.start, step.span.end, lines, encoding),
                },
                # Numbered: editors may sort related information, the path has an order.
                "message": f"{number}. {step.message}",
            }
        )
    return information


def text_edits(
    edits: Sequence[Edit], lines: Sequence[str], encoding: str = UTF16
) -> list[dict[str, Any]]:
    return [
        {
            "range": lsp_range(edit.span.start, edit.span.end, lines, encoding),
            "newText": edit.content,
        }
        for edit in edits
    ]


def code_actions(
    uri: str,
    text: str,
    findings: Sequence[Finding],
    first_line: int,
    last_line: int,
    encoding: str = UTF16,
) -> list[dict[str, Any]]:
    """Quick fixes and `# noqa` actions for the findings on lines first..last (0-based)."""
    lines = text.splitlines()
    actions: list[dict[str, Any]] = []
    for finding in findings:
        row = finding.span.start.row - 1
        if not first_line <= row <= last_line and not (
            finding.span.start.row - 1 <= first_line <= finding.span.end.row - 1
        ):
            continue
        related = [diagnostic(finding, lines, encoding=encoding)]
        if finding.fix is not None:
            actions.append(
                {
                    "title": f"{finding.fix.message} ({finding.code})",
                    "kind": "quickfix",
                    "diagnostics": related,
                    "isPreferred": finding.fix.applicability.value == "safe",
                    "edit": {"changes": {uri: text_edits(finding.fix.edits, lines, encoding)}},
                }
            )
        noqa = _noqa_edit(finding, lines, encoding)
        if noqa is not None:
            actions.append(
                {
                    "title": f"Disable {finding.code} for this line",
                    "kind": "quickfix",
                    "diagnostics": related,
                    "edit": {"changes": {uri: [noqa]}},
                }
            )
    return actions


def _noqa_edit(finding: Finding, lines: Sequence[str], encoding: str) -> dict[str, Any] | None:
    row = finding.span.start.row - 1
    if not 0 <= row < len(lines) or line_suppresses(lines[row], finding.code):
        return None
    line = lines[row]
    end = {"line": row, "character": column_units(line, len(line) + 1, encoding)}
    return {"range": {"start": end, "end": end}, "newText": f"  # noqa: {finding.code}"}


def fix_all_action(
    uri: str, text: str, fixed: str | None, encoding: str = UTF16
) -> dict[str, Any] | None:
    """One source action replacing the document with its safely fixed text."""
    if fixed is None:
        return None
    return fix_all_documents_action({uri: (text, fixed)}, encoding)


def fix_all_documents_action(
    texts: dict[str, tuple[str, str]], encoding: str = UTF16
) -> dict[str, Any] | None:
    """One source action replacing each document (uri -> (text, fixed text)) that changed:
    a notebook's fixes land in several cells at once."""
    changes = {
        uri: [{"range": _whole(text, encoding), "newText": fixed}]
        for uri, (text, fixed) in texts.items()
        if fixed != text
    }
    if not changes:
        return None
    return {
        "title": "Fix all safely fixable bnlint findings",
        "kind": FIX_ALL_KIND,
        "edit": {"changes": changes},
    }


def _whole(text: str, encoding: str) -> dict[str, Any]:
    lines = text.splitlines()
    last = len(lines)
    whole = {"start": {"line": 0, "character": 0}, "end": {"line": last, "character": 0}}
    if text and not text.endswith(("\n", "\r")):
        end = column_units(lines[-1], len(lines[-1]) + 1, encoding)
        whole["end"] = {"line": last - 1, "character": end}
    return whole
