"""`bnlint server` driven over stdio with real LSP JSON-RPC messages."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bnlint.cli import main
from bnlint.diagnostics import Finding, Position, RelatedLocation, Severity, Span
from bnlint.lsp import diagnostic, utf16_column
from bnlint.lsp.convert import column_units
from bnlint.lsp.documents import related_locator

from .lsp_helpers import BAD, LspClient, open_document, start

pytest.importorskip("pygls")


def apply_edit(line: str, edit: dict[str, Any]) -> str:
    """One line after a single-line LSP edit (ASCII: UTF-16 columns are characters)."""
    start, end = edit["range"]["start"]["character"], edit["range"]["end"]["character"]
    return line[:start] + edit["newText"] + line[end:]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[LspClient]:
    lsp, capabilities = start(tmp_path, {})
    assert capabilities["textDocumentSync"]
    assert "quickfix" in capabilities["codeActionProvider"]["codeActionKinds"]
    yield lsp
    if lsp.process.poll() is None:
        assert lsp.close() == 0


def test_did_open_publishes_the_findings_of_bnlint_check(client: LspClient, tmp_path: Path) -> None:
    published = open_document(client, tmp_path / "validate.py", BAD)
    assert published["uri"] == (tmp_path / "validate.py").as_uri()
    (diagnostic,) = published["diagnostics"]
    assert diagnostic["code"] == "BN105"
    assert diagnostic["source"] == "bnlint"
    assert diagnostic["severity"] == 1
    assert diagnostic["range"] == {
        "start": {"line": 4, "character": 4},
        "end": {"line": 4, "character": 14},
    }
    assert diagnostic["message"].startswith("`model.eval` is never called")
    assert diagnostic["codeDescription"]["href"].endswith("/rules/BN105.md")


def test_code_action_offers_the_fix_and_a_noqa(client: LspClient, tmp_path: Path) -> None:
    path = tmp_path / "validate.py"
    published = open_document(client, path, BAD)
    actions = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": path.as_uri()},
            "range": published["diagnostics"][0]["range"],
            "context": {"diagnostics": published["diagnostics"]},
        },
    )
    by_title = {action["title"]: action for action in actions}
    fix = next(a for t, a in by_title.items() if t.endswith("(BN105)"))
    assert fix["kind"] == "quickfix"
    assert fix["isPreferred"] is True
    assert fix["diagnostics"][0]["code"] == "BN105"
    (edit,) = fix["edit"]["changes"][path.as_uri()]
    assert edit["range"]["start"]["line"] == edit["range"]["end"]["line"] == 4
    assert apply_edit(BAD.splitlines()[4], edit) == "    model.eval()"
    noqa = by_title["Disable BN105 for this line"]
    (edit,) = noqa["edit"]["changes"][path.as_uri()]
    assert edit["newText"] == "  # noqa: BN105"
    assert edit["range"]["start"] == {"line": 4, "character": 14}
    fix_all = next(a for a in actions if a["kind"] == "source.fixAll.bnlint")
    (edit,) = fix_all["edit"]["changes"][path.as_uri()]
    assert edit["newText"] == BAD.replace("model.eval\n", "model.eval()\n")


def test_code_action_elsewhere_in_the_file_offers_no_quick_fix(
    client: LspClient, tmp_path: Path
) -> None:
    path = tmp_path / "validate.py"
    open_document(client, path, BAD)
    actions = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": path.as_uri()},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "context": {"diagnostics": [], "only": ["quickfix"]},
        },
    )
    assert actions == [] or actions is None


def test_did_change_and_did_save_republish(client: LspClient, tmp_path: Path) -> None:
    path = tmp_path / "validate.py"
    uri = path.as_uri()
    open_document(client, path, BAD)
    fixed = BAD.replace("model.eval\n", "model.eval()\n")
    client.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]},
    )
    assert client.notification("textDocument/publishDiagnostics")["diagnostics"] == []
    client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": 3},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": 4, "character": 14},
                        "end": {"line": 4, "character": 16},
                    },
                    "text": "",
                }
            ],
        },
    )
    assert [
        d["code"] for d in client.notification("textDocument/publishDiagnostics")["diagnostics"]
    ] == ["BN105"]
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    published = client.notification("textDocument/publishDiagnostics")
    assert [d["code"] for d in published["diagnostics"]] == ["BN105"]
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert client.notification("textDocument/publishDiagnostics")["diagnostics"] == []


def test_the_project_configuration_applies(client: LspClient, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bnlint]\nignore = ["BN105"]\n', encoding="utf-8"
    )
    assert open_document(client, tmp_path / "validate.py", BAD)["diagnostics"] == []


def test_columns_are_utf16_code_units(client: LspClient, tmp_path: Path) -> None:
    text = "label = '🙂'; model.eval\n"
    (diagnostic,) = open_document(client, tmp_path / "emoji.py", text)["diagnostics"]
    # 🙂 is one character but two UTF-16 code units.
    assert diagnostic["range"]["start"] == {"line": 0, "character": 14}


def test_syntax_error_is_a_diagnostic_not_a_crash(client: LspClient, tmp_path: Path) -> None:
    (diagnostic,) = open_document(client, tmp_path / "broken.py", "def f(:\n")["diagnostics"]
    assert diagnostic["code"] == "BN001"


def test_utf16_column_counts_surrogate_pairs() -> None:
    assert utf16_column("a🙂b", 1) == 0
    assert utf16_column("a🙂b", 3) == 3
    assert utf16_column("", 5) == 0
    assert Position(1, 1).row == 1


def test_server_command_is_listed_and_has_help() -> None:
    result = CliRunner().invoke(main, ["server", "--help"])
    assert result.exit_code == 0
    assert "Language Server" in result.output


def test_server_without_pygls_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pygls.lsp.server", None)
    monkeypatch.delitem(sys.modules, "bnlint.lsp.server", raising=False)
    result = CliRunner().invoke(main, ["server"])
    assert result.exit_code == 2
    assert 'pip install "bnlint[lsp]"' in result.stderr


# --- notebooks (notebook document sync) --------------------------------------------------

NOTEBOOK_CAPABILITIES = {"notebookDocument": {"synchronization": {}}}


def _cell(notebook: Path, number: int) -> str:
    # The shape VS Code gives cell URIs: the notebook's path, the cell in the fragment.
    return f"vscode-notebook-cell:{notebook.as_posix()}#cell{number}"


def _open_notebook(client: LspClient, path: Path, cells: list[tuple[int, str]]) -> list[str]:
    """Open a notebook of (kind, text) cells (kind 1 markup, 2 code); the cells' URIs."""
    uris = [_cell(path, number) for number in range(len(cells))]
    client.notify(
        "notebookDocument/didOpen",
        {
            "notebookDocument": {
                "uri": path.as_uri(),
                "notebookType": "jupyter-notebook",
                "version": 1,
                "cells": [
                    {"kind": kind, "document": uri}
                    for uri, (kind, _) in zip(uris, cells, strict=True)
                ],
            },
            "cellTextDocuments": [
                {
                    "uri": uri,
                    "languageId": "python" if kind == 2 else "markdown",
                    "version": 1,
                    "text": text,
                }
                for uri, (kind, text) in zip(uris, cells, strict=True)
            ],
        },
    )
    return uris


def test_notebook_findings_are_published_on_their_cell(tmp_path: Path) -> None:
    client, capabilities = start(tmp_path, NOTEBOOK_CAPABILITIES)
    try:
        assert capabilities["notebookDocumentSync"]["notebookSelector"]
        path = tmp_path / "evaluate.ipynb"
        uris = _open_notebook(
            client,
            path,
            [
                (1, "# Evaluation\nThe model, evaluated."),
                (2, "import torch\n%matplotlib inline"),
                (2, "x = torch.ones(1)\nmodel.eval\nmodel(x)"),
            ],
        )
        published = client.published(3)
        assert published[uris[0]] == []
        assert published[uris[1]] == []
        (finding,) = published[uris[2]]
        assert finding["code"] == "BN105"
        # Rows count within the cell, from 0, as the editor shows the cell.
        assert finding["range"] == {
            "start": {"line": 1, "character": 0},
            "end": {"line": 1, "character": 10},
        }

        # A cell inserted above and the finding's cell edited: it follows its cell.
        new_cell = _cell(path, 9)
        client.notify(
            "notebookDocument/didChange",
            {
                "notebookDocument": {"uri": path.as_uri(), "version": 2},
                "change": {
                    "cells": {
                        "structure": {
                            "array": {
                                "start": 1,
                                "deleteCount": 0,
                                "cells": [{"kind": 2, "document": new_cell}],
                            },
                            "didOpen": [
                                {
                                    "uri": new_cell,
                                    "languageId": "python",
                                    "version": 1,
                                    "text": "net = torch.nn.BatchNorm1d(4)\nnet.train\n",
                                }
                            ],
                        },
                        "textContent": [
                            {
                                "document": {"uri": uris[2], "version": 2},
                                "changes": [{"text": "model.eval()\nmodel(1)"}],
                            }
                        ],
                    }
                },
            },
        )
        published = client.published(4)
        assert [d["code"] for d in published[new_cell]] == ["BN105"]
        assert published[new_cell][0]["range"]["start"] == {"line": 1, "character": 0}
        assert published[uris[2]] == []

        actions = client.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": new_cell},
                "range": published[new_cell][0]["range"],
                "context": {"diagnostics": published[new_cell], "only": ["quickfix"]},
            },
        )
        fix = next(a for a in actions if a["title"].endswith("(BN105)"))
        ((uri, (edit,)),) = fix["edit"]["changes"].items()
        assert uri == new_cell
        assert edit["range"]["start"]["line"] == edit["range"]["end"]["line"] == 1
        assert apply_edit("net.train", edit) == "net.train()"

        # Every safe fix of the notebook at once, each in its own cell.
        (fix_all,) = client.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uris[1]},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "context": {"diagnostics": [], "only": ["source.fixAll.bnlint"]},
            },
        )
        (edit,) = fix_all["edit"]["changes"][new_cell]
        assert edit["newText"] == "net = torch.nn.BatchNorm1d(4)\nnet.train()\n"
        assert list(fix_all["edit"]["changes"]) == [new_cell]

        client.notify(
            "notebookDocument/didClose",
            {
                "notebookDocument": {"uri": path.as_uri()},
                "cellTextDocuments": [{"uri": uri} for uri in [*uris, new_cell]],
            },
        )
        assert all(d == [] for d in client.published(4).values())
    finally:
        assert client.close() == 0


# --- pull diagnostics --------------------------------------------------------------------

PULL_CAPABILITIES = {
    "textDocument": {"diagnostic": {"dynamicRegistration": False}},
    "workspace": {"diagnostics": {"refreshSupport": True}},
}


def test_a_pulling_client_gets_findings_on_request(tmp_path: Path) -> None:
    client, capabilities = start(tmp_path, PULL_CAPABILITIES)
    try:
        assert capabilities["diagnosticProvider"]["interFileDependencies"] is True
        path = tmp_path / "validate.py"
        path.write_text(BAD, encoding="utf-8")
        client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": path.as_uri(),
                    "languageId": "python",
                    "version": 1,
                    "text": BAD,
                }
            },
        )
        report = client.request("textDocument/diagnostic", {"textDocument": {"uri": path.as_uri()}})
        assert report["kind"] == "full"
        assert [d["code"] for d in report["items"]] == ["BN105"]
        assert report["items"][0]["range"]["start"] == {"line": 4, "character": 4}
        again = client.request(
            "textDocument/diagnostic",
            {"textDocument": {"uri": path.as_uri()}, "previousResultId": report["resultId"]},
        )
        assert again == {"kind": "unchanged", "resultId": report["resultId"]}

        fixed = BAD.replace("model.eval\n", "model.eval()\n")
        client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": path.as_uri(), "version": 2},
                "contentChanges": [{"text": fixed}],
            },
        )
        report = client.request(
            "textDocument/diagnostic",
            {"textDocument": {"uri": path.as_uri()}, "previousResultId": report["resultId"]},
        )
        assert report["kind"] == "full"
        assert report["items"] == []
        # Nothing was pushed: a pulling client would show every finding twice.
        assert not any(
            m.get("method") == "textDocument/publishDiagnostics" for m in client._pending
        )
    finally:
        assert client.close() == 0


# --- the configuration changes -----------------------------------------------------------


def test_a_changed_configuration_relints_open_documents(client: LspClient, tmp_path: Path) -> None:
    path = tmp_path / "validate.py"
    assert [d["code"] for d in open_document(client, path, BAD)["diagnostics"]] == ["BN105"]
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.bnlint]\nignore = ["BN105"]\n', encoding="utf-8")
    client.notify(
        "workspace/didChangeWatchedFiles", {"changes": [{"uri": config.as_uri(), "type": 1}]}
    )
    published = client.notification("textDocument/publishDiagnostics")
    assert published["uri"] == path.as_uri()
    assert published["diagnostics"] == []


def test_the_configuration_is_read_again_without_a_file_watcher(
    client: LspClient, tmp_path: Path
) -> None:
    path = tmp_path / "validate.py"
    assert [d["code"] for d in open_document(client, path, BAD)["diagnostics"]] == ["BN105"]
    (tmp_path / "bnlint.toml").write_text('ignore = ["BN105"]\n', encoding="utf-8")
    # The next edit finds the new configuration file by itself.
    client.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": path.as_uri(), "version": 2}, "contentChanges": [{"text": BAD}]},
    )
    assert client.notification("textDocument/publishDiagnostics")["diagnostics"] == []


def test_the_server_asks_to_watch_configuration_files(tmp_path: Path) -> None:
    client, _ = start(
        tmp_path, {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}}}
    )
    try:
        request = client.server_request("client/registerCapability")
        (registration,) = request["params"]["registrations"]
        assert registration["method"] == "workspace/didChangeWatchedFiles"
        patterns = {w["globPattern"] for w in registration["registerOptions"]["watchers"]}
        assert {"**/pyproject.toml", "**/bnlint.toml", "**/*.py"} <= patterns
        client.respond(request)
    finally:
        assert client.close() == 0


# --- cross-file findings -----------------------------------------------------------------

HELPERS = "def enable_training(model):\n    model.train()\n"
EVALUATE = """\
import torch
from helpers import enable_training


def evaluate(model, loader):
    model.eval()
    enable_training(model)
    with torch.no_grad():
        for images, _ in loader:
            model(images)
"""


def test_cross_file_findings_match_the_command_line(client: LspClient, tmp_path: Path) -> None:
    helpers = tmp_path / "helpers.py"
    helpers.write_text(HELPERS, encoding="utf-8")
    published = open_document(client, tmp_path / "evaluate.py", EVALUATE)
    # `enable_training` is in another file: only the project index knows it trains.
    (finding,) = published["diagnostics"]
    assert finding["code"] == "BN101"
    assert finding["range"]["start"] == {"line": 9, "character": 12}
    cli = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json", str(tmp_path)])
    assert [(f["code"], f["location"]["row"]) for f in json.loads(cli.stdout)] == [("BN101", 10)]

    helpers.write_text("def enable_training(model):\n    pass\n", encoding="utf-8")
    client.notify(
        "workspace/didChangeWatchedFiles", {"changes": [{"uri": helpers.as_uri(), "type": 2}]}
    )
    assert client.notification("textDocument/publishDiagnostics")["diagnostics"] == []


# --- the explanation path ----------------------------------------------------------------


def test_related_locations_become_related_information(tmp_path: Path) -> None:
    other = tmp_path / "loop.py"
    other.write_text("for epoch in range(3):\n    pass\n", encoding="utf-8")
    here = "model.train()  # 🙂\nfor batch in loader:\n    model(batch)\n"

    def span(row: int, start: int, end: int) -> Span:
        return Span(Position(row, start), Position(row, end))

    finding = Finding(
        code="BN101",
        name="missing-eval",
        severity=Severity.ERROR,
        message="m",
        hint="h",
        filename="train.py",
        span=span(3, 5, 17),
        related=(
            RelatedLocation("train.py", span(1, 1, 14), "`model.train()` sets training mode"),
            RelatedLocation(str(other), span(1, 1, 23), "the epoch loop"),
            RelatedLocation(str(tmp_path / "gone.py"), span(1, 1, 2), "a file since deleted"),
        ),
    )
    lines = here.splitlines()

    def locate(step: RelatedLocation) -> tuple[str, list[str]] | None:
        if step.filename == "train.py":
            return "file:///buffer/train.py", lines
        path = Path(step.filename)
        return (path.as_uri(), path.read_text().splitlines()) if path.exists() else None

    shape = diagnostic(finding, lines, locate)
    assert shape["relatedInformation"] == [
        {
            "location": {
                "uri": "file:///buffer/train.py",
                "range": {
                    "start": {"line": 0, "character": 0},
                    "end": {"line": 0, "character": 13},
                },
            },
            "message": "1. `model.train()` sets training mode",
        },
        {
            "location": {
                "uri": other.as_uri(),
                "range": {
                    "start": {"line": 0, "character": 0},
                    "end": {"line": 0, "character": 22},
                },
            },
            "message": "2. the epoch loop",
        },
    ]
    assert "relatedInformation" not in diagnostic(finding, lines)


def test_columns_follow_the_negotiated_position_encoding(tmp_path: Path) -> None:
    # Neovim offers UTF-8 first; the server takes it, and every column counts UTF-8 bytes.
    client, capabilities = start(tmp_path, {"general": {"positionEncodings": ["utf-8"]}})
    try:
        assert capabilities["positionEncoding"] == "utf-8"
        text = "label = '🙂'; model.eval\n"
        (finding,) = open_document(client, tmp_path / "emoji.py", text)["diagnostics"]
        assert finding["range"] == {
            "start": {"line": 0, "character": 16},
            "end": {"line": 0, "character": 26},
        }
    finally:
        assert client.close() == 0


def test_column_units_in_each_encoding() -> None:
    line = "x = '🙂'; model.eval"
    assert [column_units(line, 10, kind) for kind in ("utf-16", "utf-8", "utf-32")] == [10, 12, 9]


def test_a_broken_configuration_is_reported_and_defaults_still_lint(
    client: LspClient, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\nselct = ['BN1']\n", encoding="utf-8")
    published = open_document(client, tmp_path / "validate.py", BAD)
    assert [d["code"] for d in published["diagnostics"]] == ["BN105"]
    message = client.notification("window/logMessage")
    assert "configuration error" in message["message"]
    assert "selct" in message["message"]


def test_a_pulling_client_is_asked_to_pull_again_after_a_configuration_change(
    tmp_path: Path,
) -> None:
    client, _ = start(tmp_path, PULL_CAPABILITIES)
    try:
        path = tmp_path / "validate.py"
        path.write_text(BAD, encoding="utf-8")
        client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": path.as_uri(),
                    "languageId": "python",
                    "version": 1,
                    "text": BAD,
                }
            },
        )
        pull = {"textDocument": {"uri": path.as_uri()}}
        assert [d["code"] for d in client.request("textDocument/diagnostic", pull)["items"]] == [
            "BN105"
        ]
        config = tmp_path / "pyproject.toml"
        config.write_text('[tool.bnlint]\nignore = ["BN105"]\n', encoding="utf-8")
        client.notify(
            "workspace/didChangeWatchedFiles", {"changes": [{"uri": config.as_uri(), "type": 1}]}
        )
        client.respond(client.server_request("workspace/diagnostic/refresh"))
        assert client.request("textDocument/diagnostic", pull)["items"] == []
    finally:
        assert client.close() == 0


def test_a_file_created_later_joins_the_project(client: LspClient, tmp_path: Path) -> None:
    assert open_document(client, tmp_path / "evaluate.py", EVALUATE)["diagnostics"] == []
    helpers = tmp_path / "helpers.py"
    helpers.write_text(HELPERS, encoding="utf-8")
    client.notify(
        "workspace/didChangeWatchedFiles", {"changes": [{"uri": helpers.as_uri(), "type": 1}]}
    )
    published = client.notification("textDocument/publishDiagnostics")
    assert [d["code"] for d in published["diagnostics"]] == ["BN101"]


def test_each_step_is_located_in_the_buffer_a_cell_or_a_file(tmp_path: Path) -> None:
    other = tmp_path / "loop.py"
    other.write_text("for epoch in range(3):\n    pass\n", encoding="utf-8")
    step = Span(Position(1, 1), Position(1, 4))

    def finding(filename: str, cell: int | None) -> Finding:
        return Finding("BN101", "missing-eval", Severity.ERROR, "m", "h", filename, step, cell=cell)

    in_cell = finding("book.ipynb", 3)
    locate = related_locator(
        "cell:3", in_cell, ["unsaved text"], {1: ("cell:1", "model.train()\nx = 1\n")}
    )
    assert locate(RelatedLocation("book.ipynb", step, "here", cell=3)) == (
        "cell:3",
        ["unsaved text"],
    )
    assert locate(RelatedLocation("book.ipynb", step, "cell one", cell=1)) == (
        "cell:1",
        ["model.train()", "x = 1"],
    )
    assert locate(RelatedLocation("book.ipynb", step, "a cell not open", cell=7)) is None
    assert locate(RelatedLocation(str(other), step, "loop")) == (
        other.as_uri(),
        ["for epoch in range(3):", "    pass"],
    )
    assert locate(RelatedLocation(str(tmp_path / "gone.py"), step, "deleted")) is None
    assert locate(RelatedLocation("other.ipynb", step, "another notebook", cell=1)) is None


FIT = """\
import torch


def fit(model, loader, val_loader):
    model.train()
    for epoch in range(3):
        for images, labels in loader:
            model(images)
        with torch.no_grad():
            for images, labels in val_loader:
                model(images)
"""


def test_a_findings_path_is_its_related_information(client: LspClient, tmp_path: Path) -> None:
    path = tmp_path / "fit.py"
    (finding,) = open_document(client, path, FIT)["diagnostics"]
    assert finding["code"] == "BN101"
    assert finding["range"]["start"] == {"line": 10, "character": 16}
    first, second = finding["relatedInformation"]
    assert first["location"] == {
        "uri": path.as_uri(),
        "range": {"start": {"line": 4, "character": 4}, "end": {"line": 4, "character": 17}},
    }
    assert first["message"].startswith("1. `model.train()`")
    assert second["location"]["uri"] == path.as_uri()
    assert second["location"]["range"]["start"] == {"line": 8, "character": 8}
    assert second["message"].startswith("2. ")


def test_a_notebook_findings_path_links_to_its_cells(tmp_path: Path) -> None:
    client, _ = start(tmp_path, NOTEBOOK_CAPABILITIES)
    try:
        uris = _open_notebook(
            client,
            tmp_path / "book.ipynb",
            [
                (2, "import torch\nmodel = torch.nn.BatchNorm1d(4)\nmodel.train()"),
                (1, "## Evaluation"),
                (2, "with torch.no_grad():\n    for x in val_loader:\n        model(x)"),
            ],
        )
        published = client.published(3)
        (finding,) = published[uris[2]]
        assert finding["code"] == "BN101"
        first, second = finding["relatedInformation"]
        # The step in another cell links to that cell, at its row within the cell.
        assert first["location"] == {
            "uri": uris[0],
            "range": {"start": {"line": 2, "character": 0}, "end": {"line": 2, "character": 13}},
        }
        assert second["location"]["uri"] == uris[2]
        assert second["location"]["range"]["start"] == {"line": 0, "character": 0}
    finally:
        assert client.close() == 0
