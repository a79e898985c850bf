"""`bnlint server`: a Language Server that shows bnlint's findings in an editor.

Diagnostics are published when a document is opened, changed or saved; each finding's
fix is offered as a quick fix, with "disable for this line" (`# noqa`) and a source
action that applies every safe fix. The findings are the ones `bnlint check` prints for
the same text and the same `[tool.bnlint]` configuration.

pygls (2.x) is optional (`pip install "bnlint[lsp]"`), so it is imported only when the server
starts: `bnlint check` never pays for it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bnlint import __version__
from bnlint.config import CliOverrides, ConfigError, ConfigResolver, FileSettings
from bnlint.diagnostics import Edit, Finding, Position, Severity
from bnlint.registry import all_rules
from bnlint.runner import LintOptions, lint_bytes
from bnlint.suppression import line_suppresses

SOURCE = "bnlint"
FIX_ALL_KIND = "source.fixAll.bnlint"
_LINTED_SUFFIXES = (".py", ".pyi")


@click.command("server")
@click.option("--stdio", is_flag=True, help="Talk over standard input and output (the default).")
def server_command(stdio: bool) -> None:
    """Run the Language Server (LSP) over standard input and output, for editors."""
    try:
        server = build_server()
    except ImportError:
        click.echo('error: `bnlint server` needs pygls: pip install "bnlint[lsp]"', err=True)
        sys.exit(2)
    server.start_io()


# --- what the server answers, independent of the protocol library -----------------------


def settings_for(path: Path) -> tuple[FileSettings, str | None]:
    """The settings `bnlint check` would use for `path`, and a configuration error, if any."""
    try:
        resolver = ConfigResolver(CliOverrides(), None)
        return resolver.settings_for(path).for_file(path), None
    except ConfigError as error:
        defaults = frozenset(code for code, rule in all_rules().items() if rule.default_enabled)
        return FileSettings(enabled=defaults), str(error)


def lint_document(text: str, path: Path) -> tuple[list[Finding], str | None]:
    """Findings for an editor buffer, and a configuration problem to show, if any."""
    if path.suffix not in _LINTED_SUFFIXES:
        return [], None
    settings, problem = settings_for(path)
    return lint_bytes(text.encode("utf-8"), str(path), settings, LintOptions()).findings, problem


def fixed_document(text: str, path: Path) -> str | None:
    """The buffer with every safe fix applied, or None when nothing applies."""
    if path.suffix not in _LINTED_SUFFIXES:
        return None
    settings, _ = settings_for(path)
    return lint_bytes(text.encode("utf-8"), str(path), settings, LintOptions(fix=True)).fixed_text


def utf16_column(line: str, column: int) -> int:
    """LSP counts UTF-16 code units from 0; bnlint counts characters from 1.

    >>> utf16_column("x = '🙂'; model.eval", 10) -> 10   (the emoji is two units)
    """
    prefix = line[: max(column - 1, 0)]
    return len(prefix.encode("utf-16-le")) // 2


def lsp_range(span_start: Position, span_end: Position, lines: list[str]) -> dict[str, Any]:
    def point(position: Position) -> dict[str, int]:
        row = position.row - 1
        text = lines[row] if 0 <= row < len(lines) else ""
        return {"line": max(row, 0), "character": utf16_column(text, position.column)}

    return {"start": point(span_start), "end": point(span_end)}


_LSP_SEVERITY = {Severity.ERROR: 1, Severity.WARNING: 2, Severity.INFO: 3}


def diagnostic(finding: Finding, lines: list[str]) -> dict[str, Any]:
    """A finding as an LSP Diagnostic (plain JSON shape)."""
    return {
        "range": lsp_range(finding.span.start, finding.span.end, lines),
        "severity": _LSP_SEVERITY[finding.severity],
        "code": finding.code,
        "codeDescription": {"href": finding.url},
        "source": SOURCE,
        "message": finding.full_message,
        "data": {"name": finding.name, "fixable": finding.fix is not None},
    }


def text_edits(edits: tuple[Edit, ...], lines: list[str]) -> list[dict[str, Any]]:
    return [
        {"range": lsp_range(edit.span.start, edit.span.end, lines), "newText": edit.content}
        for edit in edits
    ]


def code_actions(
    uri: str, text: str, findings: list[Finding], first_line: int, last_line: int
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
        related = [diagnostic(finding, lines)]
        if finding.fix is not None:
            actions.append(
                {
                    "title": f"{finding.fix.message} ({finding.code})",
                    "kind": "quickfix",
                    "diagnostics": related,
                    "isPreferred": finding.fix.applicability.value == "safe",
                    "edit": {"changes": {uri: text_edits(finding.fix.edits, lines)}},
                }
            )
        noqa = _noqa_edit(finding, lines)
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


def _noqa_edit(finding: Finding, lines: list[str]) -> dict[str, Any] | None:
    row = finding.span.start.row - 1
    if not 0 <= row < len(lines) or line_suppresses(lines[row], finding.code):
        return None
    line = lines[row]
    end = {"line": row, "character": utf16_column(line, len(line) + 1)}
    return {"range": {"start": end, "end": end}, "newText": f"  # noqa: {finding.code}"}


def fix_all_action(uri: str, text: str, fixed: str | None) -> dict[str, Any] | None:
    """One source action replacing the document with its safely fixed text."""
    if fixed is None or fixed == text:
        return None
    lines = text.splitlines()
    last = len(lines)
    whole = {"start": {"line": 0, "character": 0}, "end": {"line": last, "character": 0}}
    if text and not text.endswith(("\n", "\r")):
        whole["end"] = {"line": last - 1, "character": utf16_column(lines[-1], len(lines[-1]) + 1)}
    return {
        "title": "Fix all safely fixable bnlint findings",
        "kind": FIX_ALL_KIND,
        "edit": {"changes": {uri: [{"range": whole, "newText": fixed}]}},
    }


# --- the pygls server -----------------------------------------------------------------


def build_server() -> Any:
    """The pygls LanguageServer with bnlint's handlers (raises ImportError without pygls)."""
    from lsprotocol import types
    from pygls.lsp.server import LanguageServer
    from pygls.uris import to_fs_path

    server = LanguageServer("bnlint", __version__)
    converter = server.protocol._converter  # the cattrs converter pygls uses on the wire

    def document(uri: str) -> Any:
        return server.workspace.get_text_document(uri)

    def path_of(uri: str) -> Path:
        return Path(to_fs_path(uri) or uri)

    def publish(uri: str, diagnostics: list[Any], version: int | None = None) -> None:
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    def refresh(uri: str) -> None:
        doc = document(uri)
        findings, problem = lint_document(doc.source, path_of(uri))
        if problem:
            server.window_log_message(
                types.LogMessageParams(type=types.MessageType.Warning, message=problem)
            )
        lines = doc.source.splitlines()
        diagnostics = [
            converter.structure(diagnostic(f, lines), types.Diagnostic) for f in findings
        ]
        publish(uri, diagnostics, getattr(doc, "version", None))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: Any, params: types.DidOpenTextDocumentParams) -> None:
        refresh(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: Any, params: types.DidChangeTextDocumentParams) -> None:
        refresh(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: Any, params: types.DidSaveTextDocumentParams) -> None:
        refresh(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: Any, params: types.DidCloseTextDocumentParams) -> None:
        publish(params.text_document.uri, [])

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND],
            resolve_provider=False,
        ),
    )
    def code_action(ls: Any, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        text = document(uri).source
        path = path_of(uri)
        wanted = params.context.only
        actions: list[dict[str, Any]] = []
        if not wanted or any(kind.startswith("quickfix") for kind in wanted):
            findings, _ = lint_document(text, path)
            actions.extend(
                code_actions(uri, text, findings, params.range.start.line, params.range.end.line)
            )
        if not wanted or any(FIX_ALL_KIND.startswith(kind) for kind in wanted):
            fix_all = fix_all_action(uri, text, fixed_document(text, path))
            if fix_all is not None:
                actions.append(fix_all)
        return [converter.structure(action, types.CodeAction) for action in actions]

    return server
