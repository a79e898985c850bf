"""Hostile files: each gives a clear finding or message, and the rest of the run goes on.

Deep nesting, huge and minified files, odd bytes and encodings, unreadable, vanishing and
looping files, odd names. Every rule that is registered runs over them (`--select BN`),
so rules added later are hardened by the same files.
"""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import bnlint.engine.session
from bnlint.config import FileSettings
from bnlint.registry import all_rules
from bnlint.runner import MAX_FILE_CHARS, LintOptions, lint_bytes, lint_path

from .cli_helpers import run_bnlint

# A file every run below lints as well: its finding proves the run went on.
NEIGHBOUR = "import torch.nn as nn\n\nbn = nn.BatchNorm2d(64, momentum=0.9)\n"
TRAINING = """\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8, momentum=0.9), nn.ReLU())


def validate(model, loader):
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
    return correct
"""


def _every_rule() -> FileSettings:
    return FileSettings(
        enabled=frozenset(code for code, rule in all_rules().items() if not rule.runtime_only)
    )


def _lint(data: bytes, name: str = "hostile.py") -> Any:
    """Lint bytes with every rule, the pre-filter off so every file reaches the parser."""
    return lint_bytes(data, name, _every_rule(), LintOptions(prefilter=False))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / "neighbour.py").write_text(NEIGHBOUR, encoding="utf-8")
    return tmp_path


def _json_run(project: Path, *args: str, jobs: int = 1) -> tuple[int, list[dict[str, Any]], str]:
    result = run_bnlint(
        ["check", "--no-cache", "--select", "BN", "--format", "json", "--jobs", str(jobs), *args],
        project,
    )
    return result.exit_code, json.loads(result.stdout), result.stderr


def _by_file(findings: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in findings:
        out.setdefault(item["filename"], []).append(item["code"])
    return out


# --- deep nesting ------------------------------------------------------------------------

# Shapes that nest the tree without brackets (CPython allows thousands of levels) and with
# them (CPython stops at 200): libcst's native parser overflows the C stack on some and is
# quadratic on others, and its visitors recurse once per level.
DEEP_SHAPES: dict[str, Callable[[int], str]] = {
    "brackets": lambda n: "x = " + "[" * n + "1" + "]" * n,
    "parentheses": lambda n: "x = " + "(" * n + "1" + ")" * n,
    "calls_in_calls": lambda n: "x = " + "f(" * n + "a" + ")" * n,
    "operator_chain": lambda n: "x = " + " + ".join(["a"] * n),
    "attribute_chain": lambda n: "x = model" + ".layer" * n,
    "call_chain": lambda n: "x = f" + "()" * n,
    "subscript_chain": lambda n: "x = a" + "[0]" * n,
    "unary_chain": lambda n: "x = " + "-" * n + "a",
    "not_chain": lambda n: "x = " + "not " * n + "a",
    "lambda_chain": lambda n: "f = " + "lambda: " * n + "a",
    "conditional_chain": lambda n: "x = " + "a if b else " * n + "a",
    "power_chain": lambda n: "x = " + "**".join(["a"] * n),
    # CPython stops at 100 levels; capped so the file stays small (indentation is quadratic).
    "blocks": lambda n: (
        "".join(" " * i + "if x:\n" for i in range(min(n, 400))) + " " * min(n, 400) + "pass"
    ),
}
DEPTHS = (90, 300, 3000)


def _deep_files(folder: Path) -> Iterator[tuple[str, int]]:
    for shape, make in DEEP_SHAPES.items():
        for depth in DEPTHS:
            text = (
                f"import torch\nimport torch.nn as nn\nmodel = nn.BatchNorm2d(8)\n{make(depth)}\n"
            )
            (folder / f"{shape}_{depth}.py").write_text(text, encoding="utf-8")
            yield shape, depth


def test_deep_nesting_never_crashes_and_the_run_goes_on(project: Path) -> None:
    # A separate process: a C stack overflow in a parser kills the process, not a test.
    names = [f"{shape}_{depth}.py" for shape, depth in _deep_files(project)]
    every = ",".join(code for code, rule in all_rules().items() if not rule.runtime_only)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bnlint",
            "check",
            "--no-cache",
            "--select",
            every,
            "--format",
            "json",
            "--jobs",
            "1",
            ".",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "internal error" not in done.stderr
    found = _by_file(json.loads(done.stdout))
    assert "BN401" in found["neighbour.py"]
    skipped = {
        line.split(": ")[1] for line in done.stderr.splitlines() if "nested too deeply" in line
    }
    for name in names:
        # Each deep file is either analysed, a BN001 (what CPython refuses), or skipped
        # with a notice naming it: never silently dropped.
        assert name in found or name in skipped or _clean_at_this_depth(name), name
    # CPython refuses more than 200 nested brackets: a syntax error, at CPython's position.
    assert found["brackets_3000.py"] == ["BN001"]
    assert found["blocks_300.py"] == ["BN001"]
    assert "operator_chain_3000.py" in skipped


def _clean_at_this_depth(name: str) -> bool:
    # Shallow enough to analyse, and nothing in it for any rule to report.
    return name.endswith("_90.py")


@pytest.mark.parametrize("shape", sorted(DEEP_SHAPES))
def test_depth_real_code_reaches_is_analysed_in_full(shape: str) -> None:
    text = TRAINING + DEEP_SHAPES[shape](40) + "\n"
    result = _lint(text.encode())
    assert result.notice is None, result.notice
    assert "BN401" in [f.code for f in result.findings]


def test_recursion_inside_a_rule_is_a_notice_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    from bnlint.registry import Rule

    def recurse(self: Rule, node: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    rule = all_rules()["BN401"]
    monkeypatch.setattr(rule, "visit_Call", recurse, raising=False)
    result = _lint(TRAINING.encode())
    assert result.error is None
    assert result.findings == []
    assert result.notice is not None
    assert "nested too deeply" in result.notice


# --- size and shape ----------------------------------------------------------------------


def _big_source(target_bytes: int) -> tuple[str, int]:
    """Generated code (weight tables between layer definitions) up to `target_bytes`.

    Returns the text and the row of its last BN401 finding.
    """
    block = "\n\nbn_{i} = nn.BatchNorm2d(64, momentum=0.9)\n" + "".join(
        f"W_{{i}}_{row} = ({', '.join(['0.125'] * 24)})\n" for row in range(40)
    )
    parts = ["import torch\nimport torch.nn as nn\n"]
    size = len(parts[0])
    i = 0
    while size < target_bytes:
        parts.append(block.format(i=i))
        size += len(parts[-1])
        i += 1
    text = "".join(parts)
    last_row = text[: text.rindex("momentum=0.9")].count("\n") + 1
    return text, last_row


def test_large_file_is_linted_to_its_last_line() -> None:
    text, last_row = _big_source(300_000)
    result = _lint(text.encode())
    assert result.error is None
    assert result.notice is None
    rows = [f.span.start.row for f in result.findings if f.code == "BN401"]
    assert len(rows) == text.count("momentum=0.9")
    assert max(rows) == last_row


def test_twenty_megabyte_file_is_a_notice_and_the_run_goes_on(project: Path) -> None:
    # libcst would hold well over 10 GB for it: skipped with a notice, not killed for memory.
    text, _ = _big_source(20_000_000)
    (project / "huge.py").write_text(text, encoding="utf-8")
    code, findings, stderr = _json_run(project, ".")
    assert code == 1, stderr
    assert _by_file(findings) == {"neighbour.py": ["BN401"]}
    assert "huge.py: larger than the 5 MB bnlint analyses; skipped" in stderr


@pytest.mark.slow
def test_file_just_under_the_size_limit_is_linted(project: Path) -> None:
    text, last_row = _big_source(MAX_FILE_CHARS - 20_000)
    (project / "big.py").write_text(text, encoding="utf-8")
    code, findings, stderr = _json_run(project, "big.py")
    assert code == 1, stderr
    rows = [f["location"]["row"] for f in findings if f["code"] == "BN401"]
    assert max(rows) == last_row


def test_minified_one_line_program_is_linted() -> None:
    statements = [
        "import torch",
        "import torch.nn as nn",
        "layers=[nn.Conv2d(3,8,3),nn.BatchNorm2d(8,momentum=0.9)]",
        *[f"w{i}=torch.zeros({i})" for i in range(5000)],
        "bn=nn.BatchNorm1d(4,momentum=0.9)",
    ]
    text = ";".join(statements) + "\n"
    result = _lint(text.encode())
    assert result.error is None
    assert result.notice is None
    findings = [f for f in result.findings if f.code == "BN401"]
    assert [f.span.start.row for f in findings] == [1, 1]
    # Columns count characters along the one long line.
    assert findings[-1].span.start.column == text.index("0.9)\n") + 1


def test_empty_and_blank_files_are_clean() -> None:
    for data in (b"", b"\n", b"\r\n", b"   \n\t\n", b"# only a comment", b"\xef\xbb\xbf"):
        result = _lint(data)
        assert (result.findings, result.error, result.notice) == ([], None, None), data


# --- bytes and encodings -----------------------------------------------------------------


def test_nul_byte_is_bn001_at_the_byte() -> None:
    result = _lint(b"import torch\nx = 1\x00 + 2\n")
    assert [f.code for f in result.findings] == ["BN001"]
    finding = result.findings[0]
    assert "null bytes" in finding.message
    assert (finding.span.start.row, finding.span.start.column) == (2, 6)


def test_nul_bytes_in_a_deep_file_never_reach_the_native_parser() -> None:
    data = b"x = " + b"[" * 3000 + b"\x00" + b"]" * 3000 + b"\n"
    result = _lint(data)
    assert [f.code for f in result.findings] == ["BN001"]


NEWER_GRAMMAR = """\
import torch.nn as nn


class Stack[T]:
    def push(self, item: T) -> None:
        self.items.append(item)


type Factory = type[nn.Module]
bn = nn.BatchNorm2d(64, momentum=0.9)
"""


def test_newer_grammar_is_linted_not_called_a_syntax_error() -> None:
    # PEP 695 syntax is a syntax error to CPython before 3.12, valid Python to libcst.
    result = _lint(NEWER_GRAMMAR.encode())
    assert [f.code for f in result.findings] == ["BN401"]
    assert result.notice is None


def test_newer_grammar_with_a_real_syntax_error_is_still_bn001() -> None:
    result = _lint((NEWER_GRAMMAR + "def broken(:\n    pass\n").encode())
    assert [f.code for f in result.findings] == ["BN001"]


def test_deep_newer_grammar_file_never_reaches_the_native_parser(
    libcst_parser_refused: None,
) -> None:
    data = b"class A[T]:\n    pass\nx = " + b"[" * 3000 + b"]" * 3000 + b"\n"
    assert [f.code for f in _lint(data).findings] == ["BN001"]


def test_bom_keeps_columns_and_findings() -> None:
    result = _lint(codecs.BOM_UTF8 + NEIGHBOUR.encode())
    assert [(f.code, f.span.start.row, f.span.start.column) for f in result.findings] == [
        ("BN401", 3, 34)
    ]


@pytest.mark.parametrize(
    "newline", ["\n", "\r\n", "\r", "mixed"], ids=["lf", "crlf", "cr", "mixed"]
)
def test_line_endings_do_not_move_findings(newline: str) -> None:
    lines = NEIGHBOUR.splitlines()
    if newline == "mixed":
        text = lines[0] + "\r\n" + lines[1] + "\r" + lines[2] + "\n"
    else:
        text = newline.join(lines) + newline
    result = _lint(text.encode())
    assert [(f.code, f.span.start.row, f.span.start.column) for f in result.findings] == [
        ("BN401", 3, 34)
    ]


def test_form_feeds_between_and_before_statements() -> None:
    text = "import torch.nn as nn\n\x0c\n\x0cbn = nn.BatchNorm2d(64, momentum=0.9)\n\x0c"
    result = _lint(text.encode())
    assert [(f.code, f.span.start.row) for f in result.findings] == [("BN401", 3)]


def test_latin1_without_declaration_is_bn001_at_the_byte() -> None:
    result = _lint(b"import torch\nname = 'caf\xe9'\n")
    assert [(f.code, f.span.start.row, f.span.start.column) for f in result.findings] == [
        ("BN001", 2, 12)
    ]


def test_latin1_with_declaration_is_linted() -> None:
    data = b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + NEIGHBOUR.encode()
    result = _lint(data)
    assert [f.code for f in result.findings] == ["BN401"]


@pytest.mark.parametrize(
    "data",
    [
        b"# -*- coding: klingon -*-\nx = 1\n",
        "x = 1\n".encode("utf-16"),
        b"# coding: utf-8\n\xff\xfe\n",
        b"\xef\xbb\xbf# coding: latin-1\nx = 1\n",
    ],
    ids=["unknown-codec", "utf16", "bad-byte-after-cookie", "bom-disagrees-with-cookie"],
)
def test_undecodable_files_are_one_bn001(data: bytes) -> None:
    result = _lint(data)
    assert [f.code for f in result.findings] == ["BN001"]
    assert result.error is None


def test_surrogates_and_odd_unicode_in_strings_and_names() -> None:
    text = "import torch.nn as nn\n\u00e9t\u00e9 = '\\ud800 \U0001f600 \u202e'\nbn = nn.BatchNorm2d(64, momentum=0.9)  # \u00e9\n"
    result = _lint(text.encode())
    assert [(f.code, f.span.start.row) for f in result.findings] == [("BN401", 3)]


def test_odd_files_in_one_run_each_reported_and_the_rest_linted(project: Path) -> None:
    odd = {
        "nul.py": b"x = 1\x00\n",
        "latin.py": b"x = '\xe9'\n",
        "utf16.py": "x = 1\n".encode("utf-16"),
        "empty.py": b"",
        "syntax.py": b"def f(:\n",
        "deep.py": b"x = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n",
    }
    for name, data in odd.items():
        (project / name).write_bytes(data)
    code, findings, stderr = _json_run(project, ".")
    assert code == 1, stderr
    found = _by_file(findings)
    assert found["neighbour.py"] == ["BN401"]
    for name in ("nul.py", "latin.py", "utf16.py", "syntax.py", "deep.py"):
        assert found[name] == ["BN001"], name
    assert "empty.py" not in found


# --- unreadable, vanishing and looping files ---------------------------------------------


def _deny(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Reading these files fails as under chmod 000 (which root ignores)."""
    real = Path.read_bytes
    real_open = os.open

    def read_bytes(self: Path) -> bytes:
        if self.name in names:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    def open_file(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        # Files to lint are opened with os.open (checked as regular before a byte is read).
        if os.path.basename(os.fsdecode(path)) in names:
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setattr(os, "open", open_file)


def test_unreadable_file_is_a_finding_and_the_rest_is_linted(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "secret.py").write_text("x = 1\n", encoding="utf-8")
    _deny(monkeypatch, "secret.py")
    code, findings, stderr = _json_run(project, ".")
    assert code == 1, stderr
    found = _by_file(findings)
    assert found == {"neighbour.py": ["BN401"], "secret.py": ["BN001"]}
    message = next(f for f in findings if f["filename"] == "secret.py")["message"]
    assert "Permission denied" in message
    assert "Traceback" not in stderr


def test_nothing_readable_exits_2_with_a_clear_message(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "secret.py").write_text("x = 1\n", encoding="utf-8")
    _deny(monkeypatch, "secret.py")
    code, findings, stderr = _json_run(project, "secret.py")
    assert code == 2
    assert "no file could be read" in stderr
    assert _by_file(findings) == {"secret.py": ["BN001"]}


def test_unreadable_file_with_bn001_ignored_is_still_a_message(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "secret.py").write_text("x = 1\n", encoding="utf-8")
    _deny(monkeypatch, "secret.py")
    code, findings, stderr = _json_run(project, "--ignore", "BN001", ".")
    assert code == 1
    assert _by_file(findings) == {"neighbour.py": ["BN401"]}
    assert "secret.py" in stderr
    assert "Permission denied" in stderr


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files whatever their mode"
)
def test_chmod_000_file_is_a_finding(project: Path) -> None:
    secret = project / "secret.py"
    secret.write_text("x = 1\n", encoding="utf-8")
    secret.chmod(0)
    try:
        code, findings, _ = _json_run(project, ".")
    finally:
        secret.chmod(0o644)
    assert code == 1
    assert _by_file(findings) == {"neighbour.py": ["BN401"], "secret.py": ["BN001"]}


def test_file_that_vanishes_after_discovery_is_a_notice(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "gone.py").write_text(NEIGHBOUR, encoding="utf-8")
    real = bnlint.engine.session.discover

    def discover_then_delete(*args: Any, **kwargs: Any) -> Iterator[Any]:
        found = list(real(*args, **kwargs))
        (project / "gone.py").unlink()
        return iter(found)

    monkeypatch.setattr(bnlint.engine.session, "discover", discover_then_delete)
    code, findings, stderr = _json_run(project, ".")
    assert code == 1
    assert _by_file(findings) == {"neighbour.py": ["BN401"]}
    assert "gone.py: disappeared before bnlint could read it" in stderr


def test_file_replaced_by_a_directory_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "pkg.py"
    folder.mkdir()
    result = lint_path(folder, "pkg.py", _every_rule())
    assert result.error is None
    assert [f.code for f in result.findings] == ["BN001"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loops_and_dangling_links_are_notices(project: Path) -> None:
    os.symlink("loop_b.py", project / "loop_a.py")
    os.symlink("loop_a.py", project / "loop_b.py")
    os.symlink("nowhere.py", project / "dangling.py")
    (project / "pkg").mkdir()
    (project / "pkg" / "model.py").write_text(NEIGHBOUR, encoding="utf-8")
    os.symlink("..", project / "pkg" / "parent")  # a directory loop
    os.symlink("model.py", project / "pkg" / "alias.py")  # the same file twice
    code, findings, stderr = _json_run(project, ".")
    assert code == 1, stderr
    assert _by_file(findings) == {"neighbour.py": ["BN401"], "pkg/alias.py": ["BN401"]}
    for name in ("loop_a.py", "loop_b.py", "dangling.py"):
        assert f"{name}: a symbolic link to nothing readable" in stderr
    assert "Traceback" not in stderr


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loop_named_directly_exits_2(project: Path) -> None:
    os.symlink("loop_b.py", project / "loop_a.py")
    os.symlink("loop_a.py", project / "loop_b.py")
    result = run_bnlint(["check", "--no-cache", "loop_a.py"], project)
    assert result.exit_code == 2
    assert "loop_a.py" in result.stderr


@pytest.mark.parametrize(
    "name",
    [
        "with space.py",
        "caf\u00e9 \u00fcber.py",
        "\u6a21\u578b.py",
        "-dash.py",
        "semi;colon.py",
        "quote'd.py",
    ],
)
def test_odd_file_names_are_linted_and_shown_as_given(project: Path, name: str) -> None:
    (project / "sub dir").mkdir()
    (project / "sub dir" / name).write_text(NEIGHBOUR, encoding="utf-8")
    code, findings, _ = _json_run(project, ".")
    assert code == 1
    assert _by_file(findings)[f"sub dir/{name}"] == ["BN401"]
    result = run_bnlint(
        ["check", "--no-cache", "--format", "concise", "--", f"sub dir/{name}"], project
    )
    assert result.stdout.startswith(f"sub dir/{name}:3:34: BN401 ")


def test_hostile_files_in_worker_processes(project: Path) -> None:
    for i in range(6):
        (project / f"ok_{i}.py").write_text(NEIGHBOUR, encoding="utf-8")
    (project / "nul.py").write_bytes(b"\x00")
    (project / "deep.py").write_text(NEIGHBOUR + "x = " + "-" * 2000 + "a\n", encoding="utf-8")
    code, findings, stderr = _json_run(project, ".", jobs=3)
    assert code == 1, stderr
    found = _by_file(findings)
    assert found["nul.py"] == ["BN001"]
    assert all(found[f"ok_{i}.py"] == ["BN401"] for i in range(6))
    assert "deep.py: nested too deeply" in stderr
