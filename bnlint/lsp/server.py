"""The pygls server: LSP messages in, bnlint's findings out (imports pygls; see __init__).

Diagnostics reach the editor both ways LSP has. A client that pulls
(`textDocument/diagnostic`, LSP 3.17) asks when it wants them; every other client gets
them pushed on open, change and save. Notebook cells are always pushed: editors do not
pull for cells.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from bnlint._version import __version__
from bnlint.diagnostics import Finding
from bnlint.lsp.convert import (
    FIX_ALL_KIND,
    UTF16,
    code_actions,
    diagnostic,
    fix_all_action,
    fix_all_documents_action,
)
from bnlint.lsp.documents import Cell, Linted, LintState, is_config_file, related_locator

_WATCHED = ("**/pyproject.toml", "**/bnlint.toml", "**/.bnlint.toml", "**/*.py", "**/*.pyi")


def build_server() -> LanguageServer:
    server = LanguageServer(
        "bnlint",
        __version__,
        notebook_document_sync=types.NotebookDocumentSyncOptions(
            notebook_selector=[
                types.NotebookDocumentFilterWithCells(
                    notebook="*", cells=[types.NotebookCellLanguage(language="python")]
                )
            ],
            save=True,
        ),
    )
    BnlintServer(server).register()
    return server


def _path_of(uri: str) -> Path:
    return Path(to_fs_path(uri) or uri)


class BnlintServer:
    """The handlers, and what they share: the lint state and the answers already given."""

    def __init__(self, server: LanguageServer) -> None:
        self.server = server
        self.state = LintState()
        self.converter = server.protocol._converter  # the cattrs converter pygls uses
        # uri -> (version, generation, diagnostics as JSON shapes): one lint per version.
        self._answers: dict[str, tuple[object, int, list[dict[str, Any]]]] = {}
        self._told: set[str] = set()

    # --- capabilities of the client ----------------------------------------------------

    def client_pulls(self) -> bool:
        text = self.server.client_capabilities.text_document
        return text is not None and text.diagnostic is not None

    def encoding(self) -> str:
        """The position encoding agreed at initialization (UTF-16 unless the client offered
        another first): the unit of every column the server sends."""
        kind = self.server.workspace.position_encoding
        return str(getattr(kind, "value", kind) or UTF16)

    def client_refreshes(self) -> bool:
        workspace = self.server.client_capabilities.workspace
        return bool(workspace and workspace.diagnostics and workspace.diagnostics.refresh_support)

    # --- linting -------------------------------------------------------------------------

    def _tell(self, problem: str | None) -> None:
        if problem and problem not in self._told:
            self._told.add(problem)
            self.server.window_log_message(
                types.LogMessageParams(type=types.MessageType.Warning, message=problem)
            )

    def _shapes(
        self, uri: str, linted: Linted, cells: Mapping[int, tuple[str, str]] | None = None
    ) -> list[dict[str, Any]]:
        lines = linted.text.splitlines()
        return [
            diagnostic(f, lines, related_locator(uri, f, lines, cells or {}), self.encoding())
            for f in linted.findings
        ]

    def diagnostics_for(self, uri: str) -> list[dict[str, Any]]:
        """The diagnostics of a text document or a notebook cell (cached per version)."""
        notebook = self.server.workspace.get_notebook_document(cell_uri=uri)
        if notebook is not None:
            return self.lint_notebook(notebook.uri).get(uri, [])
        document = self.server.workspace.get_text_document(uri)
        path = _path_of(uri)
        self.state.check_configuration(path)
        key = (getattr(document, "version", None), self.state.generation)
        cached = self._answers.get(uri)
        if cached is not None and (cached[0], cached[1]) == key:
            return cached[2]
        linted = self.state.lint_document(document.source, path)
        self._tell(linted.problem)
        shapes = self._shapes(uri, linted)
        self._answers[uri] = (key[0], key[1], shapes)
        return shapes

    def _cells(self, notebook: types.NotebookDocument) -> list[Cell]:
        cells = []
        for cell in notebook.cells:
            document = self.server.workspace.get_text_document(cell.document)
            cells.append(
                Cell(
                    uri=cell.document,
                    code=cell.kind == types.NotebookCellKind.Code,
                    language=getattr(document, "language_id", None) or "python",
                    text=document.source,
                )
            )
        return cells

    def lint_notebook(self, notebook_uri: str) -> dict[str, list[dict[str, Any]]]:
        notebook = self.server.workspace.get_notebook_document(notebook_uri=notebook_uri)
        if notebook is None:
            return {}
        cells = self._cells(notebook)
        numbers = {number: (cell.uri, cell.text) for number, cell in enumerate(cells, start=1)}
        linted = self.state.lint_notebook(cells, _path_of(notebook.uri))
        self._tell(linted.problem)
        return {
            cell_uri: self._shapes(cell_uri, cell_linted, numbers)
            for cell_uri, cell_linted in linted.cells.items()
        }

    def findings_for(self, uri: str) -> tuple[list[Finding], str]:
        """Findings and text of a document or cell, for code actions."""
        document = self.server.workspace.get_text_document(uri)
        notebook = self.server.workspace.get_notebook_document(cell_uri=uri)
        if notebook is None:
            linted = self.state.lint_document(document.source, _path_of(uri))
            return linted.findings, document.source
        cells = self.state.lint_notebook(self._cells(notebook), _path_of(notebook.uri)).cells
        in_cell = cells.get(uri)
        return (in_cell.findings if in_cell else []), document.source

    def fix_all(self, uri: str) -> dict[str, Any] | None:
        """The source action with every safe fix of the document, or of the whole notebook
        the cell `uri` belongs to."""
        notebook = self.server.workspace.get_notebook_document(cell_uri=uri)
        if notebook is not None:
            texts = self.state.fixed_notebook(self._cells(notebook), _path_of(notebook.uri))
            return fix_all_documents_action(texts, self.encoding())
        text = self.server.workspace.get_text_document(uri).source
        fixed = self.state.fixed_document(text, _path_of(uri))
        return fix_all_action(uri, text, fixed, self.encoding())

    # --- publishing ----------------------------------------------------------------------

    def publish(self, uri: str, shapes: list[dict[str, Any]], version: int | None = None) -> None:
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                diagnostics=[self.converter.structure(s, types.Diagnostic) for s in shapes],
                version=version,
            )
        )

    def refresh_text(self, uri: str) -> None:
        if self.client_pulls():
            return
        document = self.server.workspace.get_text_document(uri)
        self.publish(uri, self.diagnostics_for(uri), getattr(document, "version", None))

    def refresh_notebook(self, notebook_uri: str) -> None:
        for cell_uri, shapes in self.lint_notebook(notebook_uri).items():
            self.publish(cell_uri, shapes)

    def refresh_everything(self) -> None:
        """After the configuration or other files changed: every open document again."""
        workspace = self.server.workspace
        cells = {
            cell.document
            for notebook in workspace.notebook_documents.values()
            for cell in notebook.cells
        }
        if self.client_pulls():
            if self.client_refreshes():
                self.server.workspace_diagnostic_refresh(None)
        else:
            for uri in list(workspace.text_documents):
                if uri not in cells:
                    self.refresh_text(uri)
        for notebook_uri in list(workspace.notebook_documents):
            self.refresh_notebook(notebook_uri)

    # --- handlers ------------------------------------------------------------------------

    def register(self) -> None:
        server = self.server

        @server.feature(types.INITIALIZED)
        def initialized(ls: Any, params: types.InitializedParams) -> None:
            workspace = server.client_capabilities.workspace
            watched = workspace.did_change_watched_files if workspace else None
            if watched is not None and watched.dynamic_registration:
                server.client_register_capability(
                    types.RegistrationParams(
                        registrations=[
                            types.Registration(
                                id="bnlint-watched-files",
                                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                                    watchers=[
                                        types.FileSystemWatcher(glob_pattern=pattern)
                                        for pattern in _WATCHED
                                    ]
                                ),
                            )
                        ]
                    )
                )

        @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
        def did_open(ls: Any, params: types.DidOpenTextDocumentParams) -> None:
            self.refresh_text(params.text_document.uri)

        @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
        def did_change(ls: Any, params: types.DidChangeTextDocumentParams) -> None:
            self.refresh_text(params.text_document.uri)

        @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
        def did_save(ls: Any, params: types.DidSaveTextDocumentParams) -> None:
            uri = params.text_document.uri
            if is_config_file(_path_of(uri).name):
                self.state.configuration_changed()
            else:
                # Other buffers are linted against this file's saved text.
                self.state.files_changed()
            self.refresh_everything()

        @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
        def did_close(ls: Any, params: types.DidCloseTextDocumentParams) -> None:
            self._answers.pop(params.text_document.uri, None)
            if not self.client_pulls():
                self.publish(params.text_document.uri, [])

        @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
        def notebook_open(ls: Any, params: types.DidOpenNotebookDocumentParams) -> None:
            self.refresh_notebook(params.notebook_document.uri)

        @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
        def notebook_change(ls: Any, params: types.DidChangeNotebookDocumentParams) -> None:
            structure = params.change.cells.structure if params.change.cells else None
            for closed in (structure.did_close or []) if structure else []:
                self.publish(closed.uri, [])
            self.refresh_notebook(params.notebook_document.uri)

        @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
        def notebook_save(ls: Any, params: types.DidSaveNotebookDocumentParams) -> None:
            self.refresh_notebook(params.notebook_document.uri)

        @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
        def notebook_close(ls: Any, params: types.DidCloseNotebookDocumentParams) -> None:
            for cell in params.cell_text_documents:
                self.publish(cell.uri, [])

        @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
        def watched_files(ls: Any, params: types.DidChangeWatchedFilesParams) -> None:
            if any(is_config_file(_path_of(change.uri).name) for change in params.changes):
                self.state.configuration_changed()
            else:
                self.state.files_changed()
            self.refresh_everything()

        @server.feature(
            types.TEXT_DOCUMENT_DIAGNOSTIC,
            types.DiagnosticOptions(
                identifier="bnlint", inter_file_dependencies=True, workspace_diagnostics=False
            ),
        )
        def pull(ls: Any, params: types.DocumentDiagnosticParams) -> Any:
            shapes = self.diagnostics_for(params.text_document.uri)
            result_id = hashlib.sha256(json.dumps(shapes, sort_keys=True).encode()).hexdigest()[:16]
            if params.previous_result_id == result_id:
                return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
            return types.RelatedFullDocumentDiagnosticReport(
                items=[self.converter.structure(s, types.Diagnostic) for s in shapes],
                result_id=result_id,
            )

        @server.feature(
            types.TEXT_DOCUMENT_CODE_ACTION,
            types.CodeActionOptions(
                code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND],
                resolve_provider=False,
            ),
        )
        def code_action(ls: Any, params: types.CodeActionParams) -> list[types.CodeAction]:
            uri = params.text_document.uri
            wanted = params.context.only
            actions: list[dict[str, Any]] = []
            if not wanted or any(kind.startswith("quickfix") for kind in wanted):
                findings, text = self.findings_for(uri)
                actions.extend(
                    code_actions(
                        uri,
                        text,
                        findings,
                        params.range.start.line,
                        params.range.end.line,
                        self.encoding(),
                    )
                )
            if not wanted or any(FIX_ALL_KIND.startswith(kind) for kind in wanted):
                fix_all = self.fix_all(uri)
                if fix_all is not None:
                    actions.append(fix_all)
            return [self.converter.structure(action, types.CodeAction) for action in actions]
