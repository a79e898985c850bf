"""`bnlint server` under what editors and clients really send: buffers that declare another
encoding, lone surrogates, malformed requests, documents too large to lint, bursts of
edits, and a large document linting while other requests arrive."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bnlint.diagnostics import (
    Applicability,
    Edit,
    Finding,
    Fix,
    Position,
    RelatedLocation,
    Severity,
    Span,
)
from bnlint.lsp.documents import (
    Cell,
    LintState,
    _restore_surrogates,
    fix_keeps_parsing,
    quick_fix_check,
    related_locator,
)

from .lsp_helpers import BAD, LspClient, open_document, start

pytest.importorskip("pygls")

FIXED = BAD.replace("model.eval\n", "model.eval()\n")
# A buffer whose file is stored as Latin-1: the editor holds it as text all the same.
LATIN1 = "# -*- coding: latin-1 -*-\nlabel = 'café'; model.eval\n" + BAD


@pytest.fixture
def client(tmp_path: Path) -> Iterator[LspClient]:
    lsp, _ = start(tmp_path, {})
    yield lsp
    if lsp.process.poll() is None:
        assert lsp.close() == 0


def _open(client: LspClient, path: Path, text: str, version: int = 1) -> None:
    client.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": path.as_uri(),
                "languageId": "python",
                "version": version,
                "text": text,
            }
        },
    )


def _fix_all(client: LspClient, path: Path) -> list[dict[str, Any]]:
    actions = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": path.as_uri()},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "context": {"diagnostics": [], "only": ["source.fixAll.bnlint"]},
        },
    )
    return actions or []


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


# --- item: buffers are text, whatever encoding they declare ------------------------------


def test_fix_all_keeps_the_text_of_a_latin1_buffer(client: LspClient, tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    path.write_bytes(LATIN1.encode("latin-1"))
    _open(client, path, LATIN1)
    published = client.notification("textDocument/publishDiagnostics")
    first, second = sorted(published["diagnostics"], key=lambda d: d["range"]["start"]["line"])
    # Columns count the buffer's characters in UTF-16 units: `é` is one, not the two a
    # UTF-8 text decoded as Latin-1 (`Ã©`) would make it.
    assert first["code"] == "BN105"
    assert first["range"]["start"] == {"line": 1, "character": _utf16("label = 'café'; ")}
    assert first["range"]["end"] == {"line": 1, "character": _utf16("label = 'café'; model.eval")}
    assert second["range"]["start"] == {"line": 6, "character": 4}

    (action,) = _fix_all(client, path)
    (edit,) = action["edit"]["changes"][path.as_uri()]
    assert edit["newText"] == LATIN1.replace("model.eval\n", "model.eval()\n").replace(
        "; model.eval\n", "; model.eval()\n"
    )
    assert "café" in edit["newText"]


def test_latin1_buffer_linted_as_text_in_process(tmp_path: Path) -> None:
    state = LintState()
    path = tmp_path / "latin.py"
    linted = state.lint_document(LATIN1, path)
    assert [(f.code, f.span.start.row, f.span.start.column) for f in linted.findings] == [
        ("BN105", 2, len("label = 'café'; ") + 1),
        ("BN105", 7, 5),
    ]
    fixed = state.fixed_document(LATIN1, path)
    assert fixed is not None
    assert fixed.startswith("# -*- coding: latin-1 -*-\nlabel = 'café'; model.eval()\n")


def test_a_step_in_a_latin1_file_on_disk_is_located_in_its_decoded_lines(tmp_path: Path) -> None:
    other = tmp_path / "helpers.py"
    # Not UTF-8: read as UTF-8 the step could not be shown at all.
    other.write_bytes("# -*- coding: latin-1 -*-\nlabel = 'é'; model.train()\n".encode("latin-1"))
    step = Span(Position(2, 14), Position(2, 27))
    finding = Finding("BN101", "missing-eval", Severity.ERROR, "m", "h", "evaluate.py", step)
    locate = related_locator("file:///evaluate.py", finding, [], {})
    where = locate(RelatedLocation(str(other), step, "trains"))
    assert where == (other.as_uri(), ["# -*- coding: latin-1 -*-", "label = 'é'; model.train()"])


# --- lone surrogates --------------------------------------------------------------------


def test_a_lone_surrogate_is_reported_and_the_rest_is_linted(
    client: LspClient, tmp_path: Path
) -> None:
    path = tmp_path / "surrogate.py"
    # JSON can carry a lone surrogate ("\ud800"); the client's json.dumps escapes it so.
    text = "label = '\ud800'\n" + BAD
    _open(client, path, text)
    diagnostics = client.notification("textDocument/publishDiagnostics")["diagnostics"]
    by_code = {d["code"]: d for d in diagnostics}
    assert set(by_code) == {"BN001", "BN105"}
    assert by_code["BN001"]["range"] == {
        "start": {"line": 0, "character": 9},
        "end": {"line": 0, "character": 10},
    }
    assert "lone surrogate U+D800" in by_code["BN001"]["message"]
    assert by_code["BN105"]["range"]["start"] == {"line": 5, "character": 4}

    # Requests about the document are answered, not failed with -32603.
    answer = client.answer(
        client.ask(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": path.as_uri()},
                "range": by_code["BN105"]["range"],
                "context": {"diagnostics": [by_code["BN105"]]},
            },
        )
    )
    assert "error" not in answer, answer
    titles = [action["title"] for action in answer["result"]]
    assert any(title.endswith("(BN105)") for title in titles)
    (fix_all,) = [a for a in answer["result"] if a["kind"] == "source.fixAll.bnlint"]
    (edit,) = fix_all["edit"]["changes"][path.as_uri()]
    # The surrogate the fix did not touch is given back as the editor sent it.
    assert edit["newText"] == "label = '\ud800'\n" + FIXED


def test_a_lone_surrogate_in_a_pulled_document(tmp_path: Path) -> None:
    client, _ = start(tmp_path, {"textDocument": {"diagnostic": {"dynamicRegistration": False}}})
    try:
        path = tmp_path / "surrogate.py"
        _open(client, path, BAD + "# \udc00 trailing half\n")
        answer = client.answer(
            client.ask("textDocument/diagnostic", {"textDocument": {"uri": path.as_uri()}})
        )
        assert "error" not in answer, answer
        codes = sorted(d["code"] for d in answer["result"]["items"])
        assert codes == ["BN001", "BN105"]
    finally:
        assert client.close() == 0


def test_a_fix_beside_a_lone_surrogate_keeps_it(tmp_path: Path) -> None:
    text = BAD.replace("model.eval\n", "model.eval  # \ud800\n")
    state = LintState()
    linted = state.lint_document(text, tmp_path / "x.py")
    assert sorted(f.code for f in linted.findings) == ["BN001", "BN105"]
    assert state.fixed_document(text, tmp_path / "x.py") == text.replace(
        "model.eval ", "model.eval() "
    )


def test_fixed_text_gets_its_surrogates_back_only_where_no_fix_touched() -> None:
    text, clean = "a\ud800b = 1\n", "a\ufffdb = 1\n"
    assert _restore_surrogates(text, clean, "a\ufffdb = 1\nc = 2\n") == "a\ud800b = 1\nc = 2\n"
    assert _restore_surrogates(text, clean, "x = 0\na\ufffdb = 1\n") == "x = 0\na\ud800b = 1\n"
    # A fix rewrote the text around the surrogate: it cannot be put back, no fix.
    assert _restore_surrogates(text, clean, "ab = 1\n") is None
    assert _restore_surrogates("plain\n", "plain\n", "fixed\n") == "fixed\n"


def _fixing(text: str, content: str) -> Finding:
    """A finding on `model.eval` (row 5 of BAD) whose fix writes `content` there."""
    span = Span(Position(5, 5), Position(5, 15))
    fix = Fix(Applicability.SAFE, "call it", (Edit(content, span),))
    return Finding("BN105", "m", Severity.ERROR, "m", "h", "x.py", span, fix=fix)


def test_a_quick_fix_that_would_break_the_code_is_recognised() -> None:
    good, bad = _fixing(BAD, "model.eval()"), _fixing(BAD, "model.eval((")
    broken, unsure = quick_fix_check(BAD, [good, bad])
    assert broken == {id(bad)}
    assert unsure == []
    assert fix_keeps_parsing(BAD, good)
    assert not fix_keeps_parsing(BAD, bad)
    # A text that does not compile is left to the full check (ast, then libcst).
    cell = "%matplotlib inline\n" + BAD
    assert quick_fix_check(cell, [good]) == (set(), [good])


def test_notebook_cells_with_a_lone_surrogate(tmp_path: Path) -> None:
    cells = [
        Cell("cell:1", True, "python", "import torch\nlabel = '\udfff'\n"),
        Cell("cell:2", True, "python", "net = torch.nn.BatchNorm1d(4)\nnet.train\n"),
    ]
    state = LintState()
    linted = state.lint_notebook(cells, tmp_path / "book.ipynb")
    (surrogate,) = linted.cells["cell:1"].findings
    assert (surrogate.code, surrogate.span.start.row, surrogate.span.start.column) == (
        "BN001",
        2,
        10,
    )
    assert [f.code for f in linted.cells["cell:2"].findings] == ["BN105"]
    fixed = state.fixed_notebook(cells, tmp_path / "book.ipynb")
    assert fixed["cell:2"] == (cells[1].text, "net = torch.nn.BatchNorm1d(4)\nnet.train()\n")
    assert fixed["cell:1"] == (cells[0].text, cells[0].text)


def test_a_notebook_over_the_size_limit_is_not_linted(tmp_path: Path) -> None:
    cells = [Cell(f"cell:{n}", True, "python", "net.train\n" * 10) for n in (1, 2)]
    linted = LintState(max_chars=150).lint_notebook(cells, tmp_path / "book.ipynb")
    assert linted.cells["cell:1"].skipped is not None
    assert "200 characters" in linted.cells["cell:1"].skipped
    assert linted.cells["cell:2"].skipped is None
    assert all(cell.findings == [] for cell in linted.cells.values())
    assert LintState(max_chars=150).fixed_notebook(cells, tmp_path / "book.ipynb") == {}


# --- malformed requests -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params", "where"),
    [
        ("textDocument/codeAction", {"textDocument": 5}, "text_document"),
        ("textDocument/diagnostic", None, "$.params"),
        ("textDocument/codeAction", {"textDocument": {"uri": "file:///x.py"}}, "range"),
    ],
)
def test_a_request_with_bad_params_gets_invalid_params(
    client: LspClient, method: str, params: Any, where: str
) -> None:
    answer = client.answer(client.ask(method, params))
    assert answer["error"]["code"] == -32602, answer
    assert method in answer["error"]["message"]
    assert where in answer["error"]["message"]
    # The server is still there and answers the next request.
    assert client.request("textDocument/codeAction", _action_params("file:///none.py")) == []


def _action_params(uri: str) -> dict[str, Any]:
    return {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
        "context": {"diagnostics": []},
    }


# --- documents too large to lint ----------------------------------------------------------


def test_a_document_over_the_size_limit_gets_one_notice_and_no_lint(tmp_path: Path) -> None:
    limit = 2_000
    client, _ = start(tmp_path, {}, {"maxDocumentChars": limit})
    try:
        path = tmp_path / "huge.py"
        # A syntax error too: a parsed document would report BN001.
        text = "def broken(:\n" + BAD + "#" * limit + "\n"
        _open(client, path, text)
        (notice,) = client.notification("textDocument/publishDiagnostics")["diagnostics"]
        assert notice["range"]["start"] == {"line": 0, "character": 0}
        assert notice["severity"] == 2
        assert "did not lint this document" in notice["message"]
        assert f"{len(text):,} characters" in notice["message"]
        assert f"{limit:,}" in notice["message"]
        assert "code" not in notice
        assert _fix_all(client, path) == []

        # Back under the limit, it is linted again.
        client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": path.as_uri(), "version": 2},
                "contentChanges": [{"text": BAD}],
            },
        )
        published = client.notification("textDocument/publishDiagnostics")
        assert [d["code"] for d in published["diagnostics"]] == ["BN105"]
    finally:
        assert client.close() == 0


def test_the_size_limit_counts_characters_and_stops_at_the_limit(tmp_path: Path) -> None:
    state = LintState(max_chars=len(BAD))
    assert state.lint_document(BAD, tmp_path / "x.py").skipped is None
    over = state.lint_document(BAD + "#", tmp_path / "x.py")
    assert over.skipped is not None
    assert over.findings == []
    assert state.fixed_document(BAD + "#", tmp_path / "x.py") is None
    # An option can lower the engine's limit, never raise it.
    assert LintState(max_chars=10**12).max_chars == LintState().max_chars


# --- responsiveness -----------------------------------------------------------------------

MODEL = """
class Net{number}(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3)
        self.bn = torch.nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn(self.conv(x))

"""


def test_a_large_document_lints_without_blocking_other_requests(
    client: LspClient, tmp_path: Path
) -> None:
    small = tmp_path / "small.py"
    (finding,) = open_document(client, small, BAD)["diagnostics"]

    # Allowed, but seconds of linting: 250 models, each with a BN202 finding.
    large = tmp_path / "large.py"
    _open(client, large, "import torch\n" + "".join(MODEL.format(number=n) for n in range(250)))
    asked = time.monotonic()
    answer = client.answer(
        client.ask(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": small.as_uri()},
                "range": finding["range"],
                "context": {"diagnostics": [finding], "only": ["quickfix"]},
            },
        )
    )
    answered = time.monotonic() - asked
    assert any(a["title"].endswith("(BN105)") for a in answer["result"])
    # The answer came while the large document was still linting.
    is_large = lambda m: m.get("params", {}).get("uri") == large.as_uri()  # noqa: E731
    assert client.received(is_large) == [], f"answered after {answered:.1f} s"

    published = client.notification("textDocument/publishDiagnostics")
    assert published["uri"] == large.as_uri()
    assert len(published["diagnostics"]) == 250
    assert {d["code"] for d in published["diagnostics"]} == {"BN202"}


def test_a_burst_of_edits_is_linted_once_when_typing_pauses(
    client: LspClient, tmp_path: Path
) -> None:
    path = tmp_path / "typing.py"
    open_document(client, path, BAD)
    text = BAD
    for version in range(2, 7):
        text = text + f"x{version} = {version}\n"
        client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": path.as_uri(), "version": version},
                "contentChanges": [{"text": text}],
            },
        )
    sent = time.monotonic()
    published = client.notification("textDocument/publishDiagnostics")
    waited = time.monotonic() - sent
    # Only the last version is pushed, after the pause that says typing stopped.
    assert published["version"] == 6
    assert waited >= 0.2
    assert [d["code"] for d in published["diagnostics"]] == ["BN105"]
    time.sleep(0.5)
    is_push = lambda m: m.get("method") == "textDocument/publishDiagnostics"  # noqa: E731
    assert client.received(is_push) == []


def test_exit_during_a_lint_ends_the_server_cleanly(client: LspClient, tmp_path: Path) -> None:
    _open(client, tmp_path / "large.py", "import torch\n" + MODEL.format(number=0) * 250)
    time.sleep(0.5)  # the lint is under way, in libcst's native parser or the rules
    # Interpreter shutdown under a thread in native code used to abort (SIGABRT, -6).
    assert client.close() == 0


def test_exit_without_shutdown_is_exit_code_1(tmp_path: Path) -> None:
    client, _ = start(tmp_path, {})
    client.notify("exit", {})
    try:
        assert client.process.wait(timeout=60) == 1
    finally:
        for stream in (client.process.stdin, client.process.stdout, client.process.stderr):
            if stream is not None:
                stream.close()
