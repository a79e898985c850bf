"""`bnlint server` driven over stdio with real LSP JSON-RPC messages."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from click.testing import CliRunner

from bnlint.cli import main
from bnlint.diagnostics import Position
from bnlint.lsp import utf16_column

pytest.importorskip("pygls")

BAD = "import torch\n\n\ndef validate(model, loader):\n    model.eval\n    return [model(x) for x in loader]\n"
_TIMEOUT = 30.0


class LspClient:
    """A minimal LSP client: Content-Length framing, requests by id, notifications queued."""

    def __init__(self, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bnlint", "server"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._next_id = 0
        self._messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self._pending: list[dict[str, Any]] = []
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: BinaryIO) -> None:
        while True:
            headers: dict[str, str] = {}
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            self._messages.put(json.loads(body))

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: dict[str, Any] | None) -> Any:
        self._next_id += 1
        self.send({"id": self._next_id, "method": method, "params": params})
        message = self._wait(lambda m: m.get("id") == self._next_id and "method" not in m)
        assert "error" not in message, message
        return message["result"]

    def notification(self, method: str) -> dict[str, Any]:
        return self._wait(lambda m: m.get("method") == method)["params"]  # type: ignore[no-any-return]

    def _wait(self, wanted: Any) -> dict[str, Any]:
        for index, message in enumerate(self._pending):
            if wanted(message):
                return self._pending.pop(index)
        while True:
            try:
                message = self._messages.get(timeout=_TIMEOUT)
            except queue.Empty:
                self.process.kill()
                _, stderr = self.process.communicate()
                raise AssertionError(
                    f"no answer from the server; stderr:\n{stderr.decode()}"
                ) from None
            if wanted(message):
                return message
            self._pending.append(message)

    def close(self) -> int:
        self.request("shutdown", None)
        self.notify("exit", {})
        try:
            return self.process.wait(timeout=_TIMEOUT)
        finally:
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[LspClient]:
    lsp = LspClient(tmp_path)
    result = lsp.request(
        "initialize",
        {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}},
    )
    assert result["serverInfo"]["name"] == "bnlint"
    capabilities = result["capabilities"]
    assert capabilities["textDocumentSync"]
    assert "quickfix" in capabilities["codeActionProvider"]["codeActionKinds"]
    lsp.notify("initialized", {})
    yield lsp
    if lsp.process.poll() is None:
        assert lsp.close() == 0


def open_document(client: LspClient, path: Path, text: str) -> dict[str, Any]:
    path.write_text(text, encoding="utf-8")
    client.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": path.as_uri(),
                "languageId": "python",
                "version": 1,
                "text": text,
            }
        },
    )
    return client.notification("textDocument/publishDiagnostics")


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
    assert edit == {
        "range": {"start": {"line": 4, "character": 4}, "end": {"line": 4, "character": 14}},
        "newText": "model.eval()",
    }
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
    result = CliRunner().invoke(main, ["server"])
    assert result.exit_code == 2
    assert 'pip install "bnlint[lsp]"' in result.stderr
