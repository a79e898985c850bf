"""The pygls server: LSP messages in, bnlint's findings out (imports pygls; see __init__).

Diagnostics reach the editor both ways LSP has. A client that pulls
(`textDocument/diagnostic`, LSP 3.17) asks when it wants them; every other client gets
them pushed on open, change and save. Notebook cells are always pushed: editors do not
pull for cells.

Linting a large file takes seconds, so it never runs on the event loop: one worker thread
runs every lint in turn (the engine session is not shared between threads), while the
loop keeps reading messages and answering what it can without a new lint (code actions
on findings already known, `shutdown`). Edits are debounced: a push waits until typing
pauses, and a lint that a newer edit made stale is dropped before it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import queue
import sys
import threading
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from cattrs import transform_error
from cattrs.errors import BaseValidationError
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
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
    notice_diagnostic,
)
from bnlint.lsp.documents import (
    Cell,
    Linted,
    LintState,
    fix_keeps_parsing,
    is_config_file,
    quick_fix_check,
    related_locator,
)

logger = logging.getLogger(__name__)

_WATCHED = ("**/pyproject.toml", "**/bnlint.toml", "**/.bnlint.toml", "**/*.py", "**/*.pyi")

# How long typing must pause before a changed document is linted and its findings pushed:
# a lint per keystroke would queue work the next keystroke makes stale.
DEBOUNCE_SECONDS = 0.25

# `initializationOptions` key: a lower size limit than the engine's (characters).
MAX_CHARS_OPTION = "maxDocumentChars"

T = TypeVar("T")


class _Answered:
    """A request the protocol already answered with an error while reading it."""

    jsonrpc = ""


_ANSWERED = _Answered()


class BnlintProtocol(LanguageServerProtocol):
    """pygls's protocol, except that a request whose params do not fit its method gets an
    InvalidParams (-32602) error response: pygls drops such a request unanswered, and the
    client waits for it forever."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if not (
                "jsonrpc" in data and "method" in data and isinstance(data.get("id"), int | str)
            ):
                raise
            cause = error.__cause__ or error
            self._send_response(
                data["id"],
                error=JsonRpcInvalidParams(
                    f"invalid params for {data['method']}: {_first_line(cause)}"
                ).to_response_error(),
            )
            return _ANSWERED

    def handle_message(self, message: Any) -> None:
        if message is _ANSWERED:
            return
        super().handle_message(message)


def _first_line(error: BaseException) -> str:
    """What is wrong with the params, as cattrs words it (`... @ $.params.range`)."""
    if isinstance(error, BaseValidationError):
        return "; ".join(transform_error(error)[:3])
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class LintWorker:
    """One daemon thread that runs lints in the order they were asked for.

    A daemon, unlike a ThreadPoolExecutor's thread: `exit` ends the server at once, not
    after the lint in progress. A job cancelled before it starts is skipped.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="bnlint-lint", daemon=True).start()

    def submit(self, job: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((future, job))
        return future

    async def run(self, job: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self.submit(job))

    def _loop(self) -> None:
        while True:
            future, job = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as error:  # handed to whoever awaits the job
                future.set_exception(error)


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
        protocol_cls=BnlintProtocol,
    )
    BnlintServer(server).register()
    return server


def serve_stdio() -> NoReturn:
    """Run the server over standard input and output until `exit`, then end the process.

    Ended with os._exit, not by returning: a lint may still be running on the worker thread,
    inside libcst's native parser, and interpreter shutdown under such a thread aborts the
    process (SIGABRT) instead of exiting. The exit code is LSP's: 0 after `shutdown`, else 1.
    """
    # Checking a quick fix compiles the user's code: its SyntaxWarnings (`x is 1`) are
    # Python's to show when the code runs, not lines in the server's log on every request.
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    server = build_server()
    server.start_io()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(0 if getattr(server.protocol, "_shutdown", False) else 1)


def _path_of(uri: str) -> Path:
    return Path(to_fs_path(uri) or uri)


# A text document's lint: (version, generation) -> what it found.
_Key = tuple[object, int]


class BnlintServer:
    """The handlers, and what they share: the lint state and the answers already given."""

    def __init__(self, server: LanguageServer) -> None:
        self.server = server
        self.state = LintState()
        self.worker = LintWorker()
        self.converter = server.protocol._converter  # the cattrs converter pygls uses
        # uri -> the lint of one version of a text document, at one configuration
        # generation: one lint per version, written by the worker, read on the loop.
        self._linted: dict[str, tuple[_Key, Linted]] = {}
        # Debounced pushes waiting to run, by document (or notebook) URI.
        self._pending: dict[str, asyncio.Task[None]] = {}
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

    def configure(self, options: Any) -> None:
        """Read `initializationOptions`: only a lower size limit, for now."""
        if not isinstance(options, Mapping) or MAX_CHARS_OPTION not in options:
            return
        value = options[MAX_CHARS_OPTION]
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            self.state.max_chars = min(value, self.state.max_chars)
        else:
            self._tell(f"initializationOptions.{MAX_CHARS_OPTION} must be a positive integer")

    # --- linting (on the worker) -------------------------------------------------------

    def _tell(self, problem: str | None) -> None:
        if problem and problem not in self._told:
            self._told.add(problem)
            self.server.window_log_message(
                types.LogMessageParams(type=types.MessageType.Warning, message=problem)
            )

    def _snapshot(self, uri: str) -> tuple[str, object] | None:
        """The text and version of an open document (on the loop: the worker never reads
        documents the loop is changing)."""
        document = self.server.workspace.get_text_document(uri)
        try:
            return document.source, getattr(document, "version", None)
        except OSError:
            return None  # neither open nor on disk: nothing to lint

    def _cached(self, uri: str, version: object) -> Linted | None:
        cached = self._linted.get(uri)
        if cached is not None and cached[0] == (version, self.state.generation):
            return cached[1]
        return None

    def _lint_on_worker(self, uri: str, text: str, version: object) -> Linted:
        path = _path_of(uri)
        self.state.check_configuration(path)
        cached = self._cached(uri, version)
        if cached is not None and cached.text == text:
            return cached
        linted = self.state.lint_document(text, path)
        self._linted[uri] = ((version, self.state.generation), linted)
        return linted

    async def linted(self, uri: str) -> Linted:
        """The findings of a text document's current text (a lint, unless known)."""
        snapshot = self._snapshot(uri)
        if snapshot is None:
            return Linted([], "")
        text, version = snapshot
        cached = self._cached(uri, version)
        if cached is not None and cached.text == text:
            return cached
        linted = await self.worker.run(lambda: self._lint_on_worker(uri, text, version))
        self._tell(linted.problem)
        return linted

    def _shapes(
        self, uri: str, linted: Linted, cells: Mapping[int, tuple[str, str]] | None = None
    ) -> list[dict[str, Any]]:
        if linted.skipped is not None:
            return [notice_diagnostic(linted.skipped)]
        lines = linted.text.splitlines()
        return [
            diagnostic(f, lines, related_locator(uri, f, lines, cells or {}), self.encoding())
            for f in linted.findings
        ]

    async def diagnostics_for(self, uri: str) -> list[dict[str, Any]]:
        """The diagnostics of a text document or a notebook cell."""
        notebook = self.server.workspace.get_notebook_document(cell_uri=uri)
        if notebook is not None:
            return (await self.lint_notebook(notebook.uri)).get(uri, [])
        return self._shapes(uri, await self.linted(uri))

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

    async def lint_notebook(self, notebook_uri: str) -> dict[str, list[dict[str, Any]]]:
        notebook = self.server.workspace.get_notebook_document(notebook_uri=notebook_uri)
        if notebook is None:
            return {}
        cells = self._cells(notebook)
        numbers = {number: (cell.uri, cell.text) for number, cell in enumerate(cells, start=1)}
        path = _path_of(notebook.uri)
        linted = await self.worker.run(lambda: self.state.lint_notebook(cells, path))
        self._tell(linted.problem)
        return {
            cell_uri: self._shapes(cell_uri, cell_linted, numbers)
            for cell_uri, cell_linted in linted.cells.items()
        }

    async def findings_for(self, uri: str) -> tuple[list[Finding], str]:
        """Findings and text of a document or cell, for code actions."""
        notebook = self.server.workspace.get_notebook_document(cell_uri=uri)
        if notebook is None:
            linted = await self.linted(uri)
            return linted.findings, linted.text
        text = self.server.workspace.get_text_document(uri).source
        cells = self._cells(notebook)
        path = _path_of(notebook.uri)
        by_cell = await self.worker.run(lambda: self.state.lint_notebook(cells, path))
        in_cell = by_cell.cells.get(uri)
        return (in_cell.findings if in_cell else []), text

    async def fix_all(self, uri: str) -> dict[str, Any] | None:
        """The source action with every safe fix of the document, or of the whole notebook
        the cell `uri` belongs to."""
        notebook = self.server.workspace.get_notebook_document(cell_uri=uri)
        if notebook is not None:
            cells = self._cells(notebook)
            path = _path_of(notebook.uri)
            texts = await self.worker.run(lambda: self.state.fixed_notebook(cells, path))
            return fix_all_documents_action(texts, self.encoding())
        linted = await self.linted(uri)
        if not linted.fixable:
            return None  # no finding has a safe fix: no second lint to learn that
        text = linted.text
        fixed = await self.worker.run(lambda: self.state.fixed_document(text, _path_of(uri)))
        return fix_all_action(uri, text, fixed, self.encoding())

    # --- publishing (on the loop) --------------------------------------------------------

    def publish(self, uri: str, shapes: list[dict[str, Any]], version: int | None = None) -> None:
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                diagnostics=[self.converter.structure(s, types.Diagnostic) for s in shapes],
                version=version,
            )
        )

    def _is_open(self, uri: str) -> bool:
        return uri in self.server.workspace.text_documents

    async def refresh_text(self, uri: str) -> None:
        if self.client_pulls():
            return
        snapshot = self._snapshot(uri)
        if snapshot is None:
            return
        shapes = await self.diagnostics_for(uri)
        current = self._snapshot(uri)
        if not self._is_open(uri) or current is None or current[1] != snapshot[1]:
            return  # closed, or edited meanwhile: that edit's own push follows
        version = snapshot[1]
        self.publish(uri, shapes, version if isinstance(version, int) else None)

    async def refresh_notebook(self, notebook_uri: str) -> None:
        for cell_uri, shapes in (await self.lint_notebook(notebook_uri)).items():
            self.publish(cell_uri, shapes)

    def schedule(self, uri: str, refresh: Callable[[], Any], delay: float = 0.0) -> None:
        """Push `uri`'s diagnostics after `delay` seconds, replacing any push still waiting
        for it (a stale lint not yet started is dropped)."""
        self.cancel(uri)

        async def later() -> None:
            try:
                if delay:
                    await asyncio.sleep(delay)
                await refresh()
            except Exception as error:
                # Nobody awaits a push: say what failed rather than lose it silently.
                logger.exception("linting %s failed", uri)
                self._tell(f"bnlint failed on {uri}: {error!r}")
            finally:
                if self._pending.get(uri) is task:
                    del self._pending[uri]

        task = asyncio.ensure_future(later())
        self._pending[uri] = task

    def cancel(self, uri: str) -> None:
        waiting = self._pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()

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
                    self.schedule(uri, partial(self.refresh_text, uri))
        for notebook_uri in list(workspace.notebook_documents):
            self.schedule(notebook_uri, partial(self.refresh_notebook, notebook_uri))

    async def files_changed(self, configuration: bool) -> None:
        """The configuration, or files the project index read, changed on disk."""
        change = self.state.configuration_changed if configuration else self.state.files_changed
        await self.worker.run(change)
        self.refresh_everything()

    # --- handlers ------------------------------------------------------------------------

    def register(self) -> None:
        server = self.server

        @server.feature(types.INITIALIZE)
        def initialize(ls: Any, params: types.InitializeParams) -> None:
            self.configure(params.initialization_options)

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
            uri = params.text_document.uri
            self.schedule(uri, lambda: self.refresh_text(uri))

        @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
        def did_change(ls: Any, params: types.DidChangeTextDocumentParams) -> None:
            uri = params.text_document.uri
            self.schedule(uri, lambda: self.refresh_text(uri), DEBOUNCE_SECONDS)

        @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
        async def did_save(ls: Any, params: types.DidSaveTextDocumentParams) -> None:
            # Other buffers are linted against this file's saved text.
            await self.files_changed(is_config_file(_path_of(params.text_document.uri).name))

        @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
        def did_close(ls: Any, params: types.DidCloseTextDocumentParams) -> None:
            uri = params.text_document.uri
            self.cancel(uri)
            self._linted.pop(uri, None)
            if not self.client_pulls():
                self.publish(uri, [])

        @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
        def notebook_open(ls: Any, params: types.DidOpenNotebookDocumentParams) -> None:
            uri = params.notebook_document.uri
            self.schedule(uri, lambda: self.refresh_notebook(uri))

        @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
        def notebook_change(ls: Any, params: types.DidChangeNotebookDocumentParams) -> None:
            structure = params.change.cells.structure if params.change.cells else None
            for closed in (structure.did_close or []) if structure else []:
                self.publish(closed.uri, [])
            uri = params.notebook_document.uri
            self.schedule(uri, lambda: self.refresh_notebook(uri), DEBOUNCE_SECONDS)

        @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
        def notebook_save(ls: Any, params: types.DidSaveNotebookDocumentParams) -> None:
            uri = params.notebook_document.uri
            self.schedule(uri, lambda: self.refresh_notebook(uri))

        @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
        def notebook_close(ls: Any, params: types.DidCloseNotebookDocumentParams) -> None:
            self.cancel(params.notebook_document.uri)
            for cell in params.cell_text_documents:
                self.publish(cell.uri, [])

        @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
        async def watched_files(ls: Any, params: types.DidChangeWatchedFilesParams) -> None:
            await self.files_changed(
                any(is_config_file(_path_of(change.uri).name) for change in params.changes)
            )

        @server.feature(
            types.TEXT_DOCUMENT_DIAGNOSTIC,
            types.DiagnosticOptions(
                identifier="bnlint", inter_file_dependencies=True, workspace_diagnostics=False
            ),
        )
        async def pull(ls: Any, params: types.DocumentDiagnosticParams) -> Any:
            shapes = await self.diagnostics_for(params.text_document.uri)
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
        async def code_action(ls: Any, params: types.CodeActionParams) -> list[types.CodeAction]:
            uri = params.text_document.uri
            wanted = params.context.only
            actions: list[dict[str, Any]] = []
            if not wanted or any(kind.startswith("quickfix") for kind in wanted):
                findings, text = await self.findings_for(uri)
                first, last = params.range.start.line, params.range.end.line
                # A fix that would leave code that does not parse is not offered (checked
                # off the loop: each check parses the whole document).
                nearby = [f for f in findings if f.fix is not None and _near(f, first, last)]
                broken, unsure = await asyncio.to_thread(quick_fix_check, text, nearby)
                if unsure:
                    broken |= await self.worker.run(
                        lambda: {id(f) for f in unsure if not fix_keeps_parsing(text, f)}
                    )
                kept = [replace(f, fix=None) if id(f) in broken else f for f in findings]
                actions.extend(code_actions(uri, text, kept, first, last, self.encoding()))
            if not wanted or any(FIX_ALL_KIND.startswith(kind) for kind in wanted):
                fix_all = await self.fix_all(uri)
                if fix_all is not None:
                    actions.append(fix_all)
            return [self.converter.structure(action, types.CodeAction) for action in actions]


def _near(finding: Finding, first: int, last: int) -> bool:
    """Whether a finding is on lines first..last (0-based), as `code_actions` selects."""
    start, end = finding.span.start.row - 1, finding.span.end.row - 1
    return first <= start <= last or start <= first <= end
