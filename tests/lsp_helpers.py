"""A minimal LSP client that drives `bnlint server` over stdio, as an editor does."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

BAD = "import torch\n\n\ndef validate(model, loader):\n    model.eval\n    return [model(x) for x in loader]\n"
# Generous: a busy machine starts Python, pygls and the linter slowly.
_TIMEOUT = 60.0


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
        # The server's log, read as it comes: a full stderr pipe would stall the server.
        self.log = bytearray()
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True).start()

    def _drain(self, stream: BinaryIO) -> None:
        for line in stream:
            self.log.extend(line)

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
        message = self.answer(self.ask(method, params))
        assert "error" not in message, message
        return message["result"]

    def ask(self, method: str, params: Any) -> int:
        """Send a request without waiting; its id, for `answer`."""
        self._next_id += 1
        self.send({"id": self._next_id, "method": method, "params": params})
        return self._next_id

    def answer(self, request_id: int) -> dict[str, Any]:
        """The whole response (result or error) to the request `request_id`."""
        return self._wait(lambda m: m.get("id") == request_id and "method" not in m)

    def received(self, wanted: Any) -> list[dict[str, Any]]:
        """Messages already received (not yet waited for) that `wanted` accepts."""
        while True:
            try:
                self._pending.append(self._messages.get_nowait())
            except queue.Empty:
                break
        return [message for message in self._pending if wanted(message)]

    def respond(self, message: dict[str, Any], result: Any = None) -> None:
        """Answer a request the server sent (registrations, refreshes)."""
        self.send({"id": message["id"], "result": result})

    def server_request(self, method: str) -> dict[str, Any]:
        return self._wait(lambda m: m.get("method") == method and "id" in m)

    def published(self, count: int) -> dict[str, list[dict[str, Any]]]:
        """The next `count` publishDiagnostics, by URI (the last one for each URI wins)."""
        by_uri: dict[str, list[dict[str, Any]]] = {}
        for _ in range(count):
            params = self.notification("textDocument/publishDiagnostics")
            by_uri[params["uri"]] = params["diagnostics"]
        return by_uri

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
                self.process.wait()
                raise AssertionError(
                    f"no answer from the server; stderr:\n{self.log.decode(errors='replace')}"
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


def start(
    cwd: Path, capabilities: dict[str, Any], options: dict[str, Any] | None = None
) -> tuple[LspClient, dict[str, Any]]:
    """A server for the folder `cwd`, initialized with the client's `capabilities` and
    `initializationOptions`; the server's capabilities."""
    lsp = LspClient(cwd)
    params: dict[str, Any] = {
        "processId": None,
        "rootUri": cwd.as_uri(),
        "capabilities": capabilities,
    }
    if options is not None:
        params["initializationOptions"] = options
    result = lsp.request("initialize", params)
    assert result["serverInfo"]["name"] == "bnlint"
    lsp.notify("initialized", {})
    return lsp, result["capabilities"]


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
