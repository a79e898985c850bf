"""`--fix` never writes broken code, keeps the file it rewrites, and leaves nothing behind.

- Edits are built from what a node's span covers: a parenthesised last argument, a
  comment or a trailing comma in the call no longer turn `bias=False` into a syntax error.
- Every fixed text is parsed before it is kept: a fix whose result does not parse is
  dropped, reported as an internal error naming its rule (exit 2), and never written;
  in a notebook, every cell must still parse on its own.
- BN401 offers `1 - m` only where that is a usable momentum.
- A rewritten file keeps its owner, group, mode and hard links; temporary files go to the
  cache folder, and those a killed run left are removed by the next one.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import bnlint.checks.architecture
import bnlint.engine.files
import bnlint.fixes
from bnlint.config import FileSettings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Position, Severity, Span
from bnlint.fixes import FixOutcome, fix_until_stable, remove_leftovers, write_atomic
from bnlint.runner import LintOptions, lint_bytes
from bnlint.source import SourceText

from .cli_helpers import run_bnlint

EVERY_FIX = LintOptions(fix=True, unsafe_fixes=True)
HEADER = "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
FORWARD = "    def forward(self, x):\n        return self.bn(self.conv(x))\n"


def _net(conv: str) -> str:
    return HEADER + f"        self.conv = {conv}\n        self.bn = nn.BatchNorm2d(8)\n\n" + FORWARD


def _fixed(text: str, select: str, filename: str = "net.py") -> str | None:
    settings = FileSettings(enabled=frozenset({select}))
    result = lint_bytes(text.encode("utf-8"), filename, settings, EVERY_FIX)
    assert result.error is None, result.error
    return result.fixed_text


def _parses(text: str) -> bool:
    try:
        compile(text, "<fixed>", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return True


# --- edits built from the node's span -------------------------------------------------


@pytest.mark.parametrize(
    ("conv", "expected"),
    [
        (
            "nn.Conv2d(1, 8, 3, stride=(2, 2))",
            "nn.Conv2d(1, 8, 3, stride=(2, 2), bias=False)",
        ),
        ("nn.Conv2d(1, 8, (3))", "nn.Conv2d(1, 8, (3), bias=False)"),
        ("nn.Conv2d(1, 8, ( 3 ))", "nn.Conv2d(1, 8, ( 3 ), bias=False)"),
        (
            'nn.Conv2d(1, 8, 3, padding_mode=("zeros"))',
            'nn.Conv2d(1, 8, 3, padding_mode=("zeros"), bias=False)',
        ),
        ("nn.Conv2d(1, 8, (n := 3))", "nn.Conv2d(1, 8, (n := 3), bias=False)"),
        ("nn.Conv2d(1, 8, ((3)))", "nn.Conv2d(1, 8, ((3)), bias=False)"),
        ("nn.Conv2d(1, 8, 3,)", "nn.Conv2d(1, 8, 3, bias=False,)"),
        ("nn.Conv2d(1, 8, 3 , )", "nn.Conv2d(1, 8, 3, bias=False , )"),
        (
            "nn.Conv2d(1, 8, 3,  # kernel\n            stride=2)",
            "nn.Conv2d(1, 8, 3,  # kernel\n            stride=2, bias=False)",
        ),
        (
            "nn.Conv2d(\n            1, 8, 3,\n            stride=(2, 2),  # down\n        )",
            "nn.Conv2d(\n            1, 8, 3,\n            stride=(2, 2), bias=False,  # down\n"
            "        )",
        ),
        (
            "nn.Conv2d(in_channels=1, out_channels=8, kernel_size=(3))",
            "nn.Conv2d(in_channels=1, out_channels=8, kernel_size=(3), bias=False)",
        ),
        (
            # The last argument runs over lines: the keyword before it takes the new one.
            "nn.Conv2d(1, 8, kernel_size=3, padding=(\n            1, 1))",
            "nn.Conv2d(1, 8, kernel_size=3, bias=False, padding=(\n            1, 1))",
        ),
    ],
)
def test_bias_false_lands_after_the_argument_with_its_parentheses(conv: str, expected: str) -> None:
    fixed = _fixed(_net(conv), "BN202")
    assert fixed == _net(expected)
    assert _parses(fixed)
    assert _fixed(fixed, "BN202") is None


@pytest.mark.parametrize("conv", ["nn.Conv2d(1, 8, 3, **conv_args)", "nn.Conv2d(*sizes)"])
def test_no_bias_fix_where_a_spread_argument_may_hold_bias(conv: str) -> None:
    assert _fixed(_net(conv), "BN202") is None


LOADER = (
    "import torch\nimport torchvision\nfrom torch.utils.data import DataLoader\n\n"
    "model = torchvision.models.resnet18(num_classes=10)\n"
    "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
    "train_loader = {call}\n"
)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("DataLoader(ds, batch_size=4,)", "DataLoader(ds, batch_size=4, drop_last=True,)"),
        ("DataLoader(ds, batch_size=(4))", "DataLoader(ds, batch_size=(4), drop_last=True)"),
        (
            "DataLoader(ds,  # data\n    batch_size=4  # four\n)",
            "DataLoader(ds,  # data\n    batch_size=4, drop_last=True  # four\n)",
        ),
    ],
)
def test_drop_last_is_added_once_after_the_last_argument(call: str, expected: str) -> None:
    fixed = _fixed(LOADER.format(call=call), "BN302")
    assert fixed == LOADER.format(call=expected)
    assert _fixed(fixed, "BN302") is None


def test_a_parenthesised_eps_becomes_a_momentum_keyword() -> None:
    text = "import torch.nn as nn\nbn = nn.BatchNorm2d(64, (0.9))\n"
    assert _fixed(text, "BN404") == "import torch.nn as nn\nbn = nn.BatchNorm2d(64, momentum=0.1)\n"


def test_a_parenthesised_mode_method_is_called_inside_its_parentheses() -> None:
    text = "import torch.nn as nn\nmodel = nn.Linear(1, 1)\n(model.eval  # c\n)\n"
    fixed = _fixed(text, "BN105")
    assert fixed == "import torch.nn as nn\nmodel = nn.Linear(1, 1)\n(model.eval()  # c\n)\n"


# --- BN401: only a momentum that still updates the statistics --------------------------


def _momentum(value: str) -> list[Finding]:
    text = f"import torch.nn as nn\nbn = nn.BatchNorm2d(64, momentum={value})\n"
    settings = FileSettings(enabled=frozenset({"BN401"}))
    return lint_bytes(text.encode("utf-8"), "bn.py", settings).findings


def test_keras_momentum_fix_is_one_minus_m() -> None:
    (finding,) = _momentum("0.99")
    assert finding.fix is not None
    assert [edit.content for edit in finding.fix.edits] == ["0.01"]
    assert "use `momentum=0.01`" in finding.hint


@pytest.mark.parametrize("value", ["0.99999999999", "0.999999999999999"])
def test_no_keras_momentum_fix_that_would_freeze_the_statistics(value: str) -> None:
    (finding,) = _momentum(value)
    assert finding.fix is None
    assert "no fix is offered" in finding.hint
    assert "`momentum=0` would freeze the running statistics" in finding.hint


@pytest.mark.parametrize("value", ["1", "1.0", "0.5", "None", "0.1"])
def test_momentum_one_and_pytorch_values_are_not_keras(value: str) -> None:
    assert _momentum(value) == []


# --- every fixed text is parsed before it is kept -----------------------------------


def _finding(code: str, row: int, column: int, end: int, content: str) -> Finding:
    span = Span(Position(row, column), Position(row, end))
    return Finding(
        code=code,
        name="test-rule",
        severity=Severity.WARNING,
        message="m",
        hint="",
        filename="f.py",
        span=span,
        fix=Fix(Applicability.SAFE, f"Write {content}", (Edit(content, span),)),
    )


def test_a_fix_whose_result_does_not_parse_is_rejected_and_the_others_kept() -> None:
    source = SourceText("a = 1\nb = 2\n")
    good = _finding("BN105", 1, 5, 6, "10")
    bad = _finding("BN202", 2, 5, 6, "(2")
    rounds: list[str] = []

    def relint(text: SourceText) -> tuple[list[Finding], str | None]:
        rounds.append(text.text)
        # The broken fix's finding is still there, with its fix: it must not be retried.
        return ([bad] if "(2" not in text.text else []), None

    outcome = fix_until_stable(source, [good, bad], None, relint, unsafe=False)
    assert outcome.source.text == "a = 10\nb = 2\n"
    assert outcome.applied == 1
    assert [(r.code, r.row) for r in outcome.rejected] == [("BN202", 2)]
    assert "does not parse" in outcome.rejected[0].describe()
    # Reported without the fix it cannot apply.
    assert [(f.code, f.fix) for f in outcome.findings] == [("BN202", None)]
    assert rounds == ["a = 10\nb = 2\n"]


def test_a_fix_is_held_to_compile_when_the_original_compiles() -> None:
    # `return` outside a function parses with `ast` but does not compile.
    source = SourceText("def f():\n    x = 1\n")
    bad = _finding("BN105", 1, 1, 4, "return 1\ndef")
    outcome = fix_until_stable(source, [bad], None, lambda s: ([], None), unsafe=False)
    assert outcome.applied == 0
    assert outcome.source.text == source.text
    assert outcome.rejected
    assert "outside function" in outcome.rejected[0].reason


def test_fixes_that_break_only_together_are_applied_one_at_a_time() -> None:
    source = SourceText("f(a=1)\n")
    first = _finding("BN105", 1, 1, 3, "f(b=2, ")
    second = _finding("BN202", 1, 6, 7, ", b=3)")  # each parses alone; together `b` twice
    outcome = fix_until_stable(source, [first, second], None, lambda s: ([], None), unsafe=False)
    assert outcome.source.text == "f(b=2, a=1)\n"
    assert outcome.applied == 1
    assert outcome.rejected == []


def _broken_bias_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """BN202 as it was: the new argument inside the last argument's parentheses."""

    def inside(call: Any, code_for: Any, added: str) -> Any:
        last = call.args[-1]
        return last.value, f"{code_for(last.value)}, {added}"

    monkeypatch.setattr(bnlint.checks.architecture, "argument_insertion", inside)


def test_fix_command_never_writes_a_file_a_fix_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    broken = tmp_path / "net.py"
    broken.write_text(_net("nn.Conv2d(1, 8, 3, stride=(2, 2))"), encoding="utf-8")
    fine = tmp_path / "other.py"
    fine.write_text(_net("nn.Conv2d(1, 8, 3, stride=2)"), encoding="utf-8")
    _broken_bias_fix(monkeypatch)
    result = run_bnlint(["check", "--fix", "--no-cache", "--jobs", "1", "."], tmp_path)
    assert result.exit_code == 2
    assert "internal error while fixing net.py: BN202's fix" in result.stderr
    assert "does not parse" in result.stderr
    assert broken.read_text(encoding="utf-8") == _net("nn.Conv2d(1, 8, 3, stride=(2, 2))")
    # The other file's fix parses (an argument without parentheses): it is written.
    assert fine.read_text(encoding="utf-8") == _net("nn.Conv2d(1, 8, 3, stride=2, bias=False)")


def test_diff_shows_no_fix_that_breaks_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / "net.py").write_text(_net("nn.Conv2d(1, 8, (3))"), encoding="utf-8")
    _broken_bias_fix(monkeypatch)
    result = run_bnlint(["check", "--diff", "--no-cache", "--jobs", "1", "net.py"], tmp_path)
    assert result.exit_code == 2
    assert "bias=False" not in result.stdout


def _notebook(*cells: str) -> bytes:
    document = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": c,
                "outputs": [],
                "execution_count": None,
            }
            for c in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document).encode("utf-8")


def test_a_notebook_fix_that_breaks_a_cell_is_not_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _notebook(_net("nn.Conv2d(1, 8, 3, stride=(2, 2))"), "model = Net()\n")
    _broken_bias_fix(monkeypatch)
    settings = FileSettings(enabled=frozenset({"BN202"}))
    result = lint_bytes(data, "net.ipynb", settings, EVERY_FIX)
    assert result.fixed_text is None
    assert result.error is not None
    assert "BN202's fix" in result.error
    assert [f.code for f in result.findings] == ["BN202"]


def test_a_notebook_program_that_parses_with_a_cell_that_does_not_is_not_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fix that opens a bracket in one cell and closes it in the next: the joined program
    # parses, Jupyter's cells do not.
    data = _notebook("model.eval\n", "x = 1\n")
    real = bnlint.engine.files.fix_until_stable

    def across_cells(source: SourceText, *args: Any, **kwargs: Any) -> FixOutcome:
        outcome = real(source, *args, **kwargs)
        broken = source.text.replace("model.eval\n", "model.eval(\n").replace("x = 1", ")\nx = 1")
        assert ast.parse(broken)
        return FixOutcome(SourceText(broken), outcome.findings, None, 1)

    monkeypatch.setattr(bnlint.engine.files, "fix_until_stable", across_cells)
    settings = FileSettings(enabled=frozenset({"BN105"}))
    result = lint_bytes(data, "nb.ipynb", settings, EVERY_FIX)
    assert result.fixed_text is None
    assert result.error is not None
    assert "cell 1 does not parse" in result.error


# --- writing: owner, group, mode, hard links, temporary files --------------------------


def _project(tmp_path: Path, count: int = 2) -> list[Path]:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    files = []
    for index in range(count):
        script = tmp_path / f"net_{index}.py"
        script.write_text(_net("nn.Conv2d(1, 8, 3)"), encoding="utf-8")
        files.append(script)
    return files


FIXED_NET = _net("nn.Conv2d(1, 8, 3, bias=False)")
FIX = ["check", "--fix", "--exit-zero", "--jobs", "1", "."]


def test_fix_keeps_the_mode(tmp_path: Path) -> None:
    script, _ = _project(tmp_path)
    script.chmod(0o751)
    assert run_bnlint([*FIX, "--no-cache"], tmp_path).exit_code == 0
    assert script.read_text(encoding="utf-8") == FIXED_NET
    assert stat.S_IMODE(script.stat().st_mode) == 0o751


def test_fix_keeps_hard_links(tmp_path: Path) -> None:
    script, _ = _project(tmp_path)
    elsewhere = tmp_path.parent / f"{tmp_path.name}-link.py"
    os.link(script, elsewhere)
    inode = script.stat().st_ino
    try:
        assert run_bnlint([*FIX, "--no-cache"], tmp_path).exit_code == 0
        assert script.stat().st_ino == inode
        assert script.stat().st_nlink == 2
        assert elsewhere.read_text(encoding="utf-8") == FIXED_NET
    finally:
        elsewhere.unlink()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_fix_as_root_keeps_the_owner_and_group(tmp_path: Path) -> None:
    script, _ = _project(tmp_path)
    os.chown(script, 12345, 23456)
    assert run_bnlint([*FIX, "--no-cache"], tmp_path).exit_code == 0
    info = script.stat()
    assert (info.st_uid, info.st_gid) == (12345, 23456)
    assert script.read_text(encoding="utf-8") == FIXED_NET


@pytest.mark.skipif(not hasattr(os, "chown"), reason="POSIX owners")
def test_an_owner_bnlint_cannot_give_is_kept_by_writing_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not root: the temporary file cannot take the file's owner, so the file is rewritten
    # in place (its own inode, owner and group) instead of being replaced.
    script = tmp_path / "net.py"
    script.write_text("old\n", encoding="utf-8")
    inode = script.stat().st_ino
    calls: list[tuple[int, int]] = []
    real_stat = os.stat

    def other_owner(path: Any, *args: Any, **kwargs: Any) -> Any:
        info = real_stat(path, *args, **kwargs)
        if Path(path).name.endswith(".bnlint"):
            # The temporary file: as if created by another user than the file's.
            values = list(info)
            values[stat.ST_UID] = info.st_uid + 1
            return os.stat_result(values)
        return info

    def refuse(path: Any, uid: int, gid: int) -> None:
        calls.append((uid, gid))
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "stat", other_owner)
    monkeypatch.setattr(os, "chown", refuse)
    write_atomic(script, b"new\n")
    monkeypatch.undo()
    assert calls
    assert script.read_bytes() == b"new\n"
    assert script.stat().st_ino == inode
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".bnlint")]


def test_write_atomic_creates_a_new_file_with_the_umask_mode(tmp_path: Path) -> None:
    target = tmp_path / "baseline.json"
    mask = os.umask(0o022)
    try:
        write_atomic(target, b"{}\n")
    finally:
        os.umask(mask)
    assert target.read_bytes() == b"{}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_fix_writes_its_temporary_files_in_the_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path)
    sources: list[Path] = []
    real_replace = os.replace

    def record(source: Any, target: Any) -> None:
        sources.append(Path(source))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", record)
    # A first run creates the cache (two files: the project index lives there).
    assert run_bnlint(["check", "--exit-zero", "--jobs", "1", "."], tmp_path).exit_code == 0
    assert (tmp_path / ".bnlint_cache").is_dir()
    sources.clear()
    assert run_bnlint(FIX, tmp_path).exit_code == 0
    fixes = [s for s in sources if s.name.startswith(".net_")]
    assert len(fixes) == 2
    assert all(s.parent == tmp_path / ".bnlint_cache" / "fixes-tmp" for s in fixes)
    assert (tmp_path / "net_0.py").read_text(encoding="utf-8") == FIXED_NET


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_next_run_removes_what_a_killed_fix_left(tmp_path: Path) -> None:
    script, _ = _project(tmp_path)
    dead = _dead_pid()
    killed = tmp_path / f".{script.name}.{dead}.abcdefgh.bnlint"
    old_style = tmp_path / f".{script.name}.k3j4h5g6.bnlint"
    running = tmp_path / f".{script.name}.{os.getpid()}.zzzzzzzz.bnlint"
    fresh_old_style = tmp_path / f".{script.name}.q1w2e3r4.bnlint"
    not_ours = tmp_path / f".notes.txt.{dead}.abcdefgh.bnlint"  # no such file beside it
    for leftover in (killed, old_style, running, fresh_old_style, not_ours):
        leftover.write_text("half a fix", encoding="utf-8")
    hours_ago = time.time() - 7200
    os.utime(old_style, (hours_ago, hours_ago))
    assert run_bnlint([*FIX, "--no-cache"], tmp_path).exit_code == 0
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".bnlint"))
    assert left == sorted(p.name for p in (running, fresh_old_style, not_ours))


def test_leftovers_in_the_cache_folder_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "fixes-tmp"
    folder.mkdir()
    dead = folder / f".model.py.{_dead_pid()}.abcdefgh.bnlint"
    dead.write_text("x", encoding="utf-8")
    live = folder / f".model.py.{os.getpid()}.abcdefgh.bnlint"
    live.write_text("x", encoding="utf-8")
    assert remove_leftovers(folder, beside_files=False) == 1
    assert sorted(p.name for p in folder.iterdir()) == [live.name]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_a_sigkill_during_the_write_leaves_nothing_in_the_project(tmp_path: Path) -> None:
    _project(tmp_path)
    assert run_bnlint(["check", "--exit-zero", "--jobs", "1", "."], tmp_path).exit_code == 0
    scratch = tmp_path / ".bnlint_cache" / "fixes-tmp"
    # Killed once the temporary file is complete, before it replaces the file.
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, signal, sys\n"
            "from pathlib import Path\n"
            "import bnlint.fixes as fixes\n"
            "fixes._take_owner = lambda *_: os.kill(os.getpid(), signal.SIGKILL)\n"
            "fixes.write_atomic(Path(sys.argv[1]), b'new', temporary_folder=Path(sys.argv[2]))\n",
            str(tmp_path / "net_0.py"),
            str(scratch),
        ],
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".bnlint")]
    assert len(list(scratch.glob("*.bnlint"))) == 1
    # The next `--fix` removes it, and fixes the file.
    assert run_bnlint(FIX, tmp_path).exit_code == 0
    assert list(scratch.glob("*.bnlint")) == []
    assert (tmp_path / "net_0.py").read_text(encoding="utf-8") == FIXED_NET


def test_rewriting_a_baseline_keeps_its_mode_and_links(tmp_path: Path) -> None:
    _project(tmp_path, count=1)
    baseline = tmp_path / "bnlint-baseline.json"
    record = ["check", "--baseline", baseline.name, "--write-baseline", "--no-cache", "."]
    assert run_bnlint(record, tmp_path).exit_code == 0
    baseline.chmod(0o640)
    first = baseline.read_bytes()
    link = tmp_path.parent / f"{tmp_path.name}-baseline.json"
    os.link(baseline, link)
    try:
        (tmp_path / "net_0.py").write_text(_net("nn.Conv2d(2, 8, 3)"), encoding="utf-8")
        assert run_bnlint(record, tmp_path).exit_code == 0
        assert stat.S_IMODE(baseline.stat().st_mode) == 0o640
        assert baseline.stat().st_nlink == 2
        assert link.read_bytes() == baseline.read_bytes()
        assert baseline.read_bytes() != first  # the new line's fingerprint
    finally:
        link.unlink()


def test_a_report_file_keeps_its_mode_and_a_pipe_stays_a_pipe(tmp_path: Path) -> None:
    _project(tmp_path, count=1)
    report = tmp_path / "report.json"
    report.write_text("", encoding="utf-8")
    report.chmod(0o644)
    command = ["check", "--no-cache", "--exit-zero", "--format", "json", "--output"]
    assert run_bnlint([*command, report.name, "."], tmp_path).exit_code == 0
    assert stat.S_IMODE(report.stat().st_mode) == 0o644
    assert json.loads(report.read_text(encoding="utf-8"))
    if not hasattr(os, "mkfifo"):
        return
    pipe = tmp_path / "report.pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    try:
        result = run_bnlint([*command, pipe.name, "."], tmp_path)
    finally:
        if reader.is_alive():  # bnlint never opened the pipe: let the reader go
            with open(pipe, "wb"):
                pass
        reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert json.loads(received[0])


def test_an_inserted_statement_goes_before_the_decorators() -> None:
    text = (
        "import torch\nimport torchvision\n\nmodel = torchvision.models.resnet18()\n"
        'model.load_state_dict(torch.load("w.pt"))\n\n\n'
        "@torch.no_grad()\ndef predict(x, out=model(torch.zeros(1, 3, 224, 224))):\n"
        "    return out\n"
    )
    fixed = _fixed(text, "BN101")
    assert fixed == text.replace("\n@torch", "\nmodel.eval()\n@torch")


def test_a_fix_after_which_its_finding_remains_is_taken_back() -> None:
    # A rule that does not see its own fix would insert the same line each round, and
    # again on each later run: the round is taken back and the other fixes kept.
    source = SourceText("a = 1\nb = 2\n")
    stuck = _finding("BN101", 1, 1, 1, "model.eval()\n")
    good = _finding("BN105", 2, 5, 6, "20")

    def relint(text: SourceText) -> tuple[list[Finding], str | None]:
        return [stuck], None  # the inserted line changes nothing for this rule

    outcome = fix_until_stable(source, [stuck, good], None, relint, unsafe=False)
    assert outcome.source.text == "a = 1\nb = 20\n"
    assert outcome.applied == 1
    assert outcome.rejected == []
    assert outcome.notice is not None
    assert "BN101's fix" in outcome.notice
    assert "its finding remains" in outcome.notice
    assert [(f.code, f.fix) for f in outcome.findings] == [("BN101", None)]


def test_a_fix_waiting_a_round_is_not_taken_for_one_that_did_not_fix() -> None:
    # Two findings with the same fix at two places; one waits a round (it overlaps a
    # third fix): its finding is still there after the first round, rightly.
    source = SourceText("m.eval\nm.eval\n")
    first = _finding("BN105", 1, 3, 7, "eval()")
    second = _finding("BN105", 2, 3, 7, "eval()")
    blocker = _finding("BN202", 2, 1, 4, "m.e")
    rounds: list[str] = []

    def relint(text: SourceText) -> tuple[list[Finding], str | None]:
        rounds.append(text.text)
        return ([] if text.text.count("eval()") == 2 else [second]), None

    outcome = fix_until_stable(source, [first, second, blocker], None, relint, unsafe=False)
    assert outcome.notice is None
    assert outcome.source.text.count("eval()") == 2
