"""`bnlint check` as a ruff user drives it: excluded files named directly, Ctrl-C, fixes to a
fixed point, `[*]` markers, `--add-noqa`, `--show-files`, and where the cache lives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import bnlint.engine.session
import bnlint.fixes

from .cli_helpers import run_bnlint

BUGGY = "def validate(model, loader):\n    model.eval\n    return [model(x) for x in loader]\n"

# BN105 (safe: add the call) and BN101 (unsafe: insert `model.eval()`) fire for one problem.
TWO_FIXES_ONE_PROBLEM = """\
import torch
from torch import nn

model = nn.Sequential(nn.Linear(4, 4, bias=False), nn.BatchNorm1d(4), nn.ReLU())
model.eval
with torch.no_grad():
    model(torch.randn(2, 4))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bnlint]\nextend-exclude = ["generated/"]\n', encoding="utf-8"
    )
    return tmp_path


def _codes(output: str) -> list[str]:
    return [item["code"] for item in json.loads(output)]


# --- --force-exclude and --show-files -------------------------------------------------


def test_force_exclude_skips_excluded_files_named_directly(project: Path) -> None:
    (project / "generated").mkdir()
    (project / "generated" / "model_pb.py").write_text(BUGGY, encoding="utf-8")
    (project / "build").mkdir()
    (project / "build" / "copy.py").write_text(BUGGY, encoding="utf-8")
    (project / "own.py").write_text(BUGGY, encoding="utf-8")
    named = ["generated/model_pb.py", "build/copy.py", "own.py"]

    plain = run_bnlint(["check", "--format", "json", *named], project)
    assert sorted(item["filename"] for item in json.loads(plain.stdout)) == sorted(named)

    forced = run_bnlint(["check", "--format", "json", "--force-exclude", *named], project)
    assert forced.exit_code == 1
    assert [item["filename"] for item in json.loads(forced.stdout)] == ["own.py"]

    only_excluded = run_bnlint(["check", "--force-exclude", "generated/model_pb.py"], project)
    assert only_excluded.exit_code == 0, only_excluded.stdout


def test_show_files_lists_what_a_run_would_lint(project: Path) -> None:
    (project / "generated").mkdir()
    (project / "generated" / "model_pb.py").write_text(BUGGY, encoding="utf-8")
    (project / "pkg").mkdir()
    (project / "pkg" / "b.py").write_text("x = 1\n", encoding="utf-8")
    (project / "a.py").write_text(BUGGY, encoding="utf-8")
    (project / "notes.txt").write_text("not python\n", encoding="utf-8")
    result = run_bnlint(["check", "--show-files", "."], project)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["a.py", "pkg/b.py"]
    assert not (project / ".bnlint_cache").exists()  # nothing was linted


# --- Ctrl-C -------------------------------------------------------------------------------


def test_ctrl_c_exits_130_and_writes_no_report(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "bad.py").write_text(BUGGY, encoding="utf-8")

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(bnlint.engine.session, "lint_many", interrupted)
    result = run_bnlint(["check", "--output", "report.json", "--format", "json", "."], project)
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    assert "Aborted" not in result.stderr + result.stdout
    assert list(project.glob("*report.json*")) == []


def test_ctrl_c_while_fixing_leaves_every_file_whole(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a.py", "b.py"):
        (project / name).write_text(BUGGY, encoding="utf-8")
    real_write = bnlint.fixes.write_atomic
    written: list[Path] = []

    def write_then_interrupt(
        path: Path, data: bytes, expected: str | None = None, scratch: Path | None = None
    ) -> None:
        if written:
            raise KeyboardInterrupt
        real_write(path, data, expected, scratch)
        written.append(path)

    monkeypatch.setattr(bnlint.engine.session, "write_atomic", write_then_interrupt)
    result = run_bnlint(["check", "--fix", "--no-cache", "a.py", "b.py"], project)
    assert result.exit_code == 130
    texts = {(project / name).read_text(encoding="utf-8") for name in ("a.py", "b.py")}
    assert texts == {BUGGY, BUGGY.replace("model.eval\n", "model.eval()\n")}
    assert [p.name for p in project.iterdir() if p.name.startswith(".a.py")] == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_real_sigint_in_a_parallel_run_exits_130_without_a_traceback(tmp_path: Path) -> None:
    # Enough files that the run is still linting when the signal comes.
    body = "".join(
        f"def step_{i}(model, loader):\n    model.train()\n    for x in loader:\n"
        f"        model(x).sum().backward()\n\n\n"
        for i in range(60)
    )
    for index in range(120):
        (tmp_path / f"m{index}.py").write_text("import torch\n\n\n" + body, encoding="utf-8")
    environment = {**os.environ, "NO_COLOR": "1"}
    cache = tmp_path / "cache"
    process = subprocess.Popen(
        [sys.executable, "-m", "bnlint", "check", "--cache-dir", str(cache), "--jobs", "2", "."],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
    )
    # Signal once the workers are linting: the first cache entries are written as they go.
    deadline = time.monotonic() + 120
    while not any("project-index" not in entry.parts for entry in cache.rglob("*.json")):
        assert process.poll() is None, "the run ended before the signal: give it more files"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    # Files already handed to the workers are not waited for.
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr.decode()
    assert b"Traceback" not in stderr
    assert b"interrupted" in stderr
    assert stdout == b""


# --- fixes to a fixed point ------------------------------------------------------------


def test_two_fixes_for_one_problem_land_once(project: Path) -> None:
    (project / "evaluate.py").write_text(TWO_FIXES_ONE_PROBLEM, encoding="utf-8")
    diff = run_bnlint(["check", "--diff", "--unsafe-fixes", "evaluate.py"], project)
    assert diff.exit_code == 1
    assert diff.stdout.count("model.eval()") == 1
    assert "+model.eval()\n" in diff.stdout
    assert diff.stderr == "Would fix 1 finding.\n"
    assert (project / "evaluate.py").read_text(encoding="utf-8") == TWO_FIXES_ONE_PROBLEM

    fixed = run_bnlint(["check", "--fix", "--unsafe-fixes", "evaluate.py"], project)
    text = (project / "evaluate.py").read_text(encoding="utf-8")
    assert text == TWO_FIXES_ONE_PROBLEM.replace("model.eval\n", "model.eval()\n")
    assert fixed.exit_code == 0, fixed.stdout
    assert "Found 1 finding (1 fixed, 0 remaining)." in fixed.stdout


def test_fix_summary_counts_fixed_and_remaining(project: Path) -> None:
    # BN202 and BN105 have safe fixes; BN201 (a norm after the output layer) has none, and
    # BN101 goes away with BN105's fix.
    source = TWO_FIXES_ONE_PROBLEM.replace(
        "nn.Linear(4, 4, bias=False), nn.BatchNorm1d(4), nn.ReLU()",
        "nn.Linear(4, 4), nn.BatchNorm1d(4)",
    )
    (project / "evaluate.py").write_text(source, encoding="utf-8")
    before = _codes(run_bnlint(["check", "--format", "json", "evaluate.py"], project).stdout)
    assert sorted(before) == ["BN101", "BN105", "BN201", "BN202"]
    result = run_bnlint(["check", "--fix", "evaluate.py"], project)
    after = _codes(run_bnlint(["check", "--format", "json", "evaluate.py"], project).stdout)
    assert after == ["BN201"]
    assert "Found 3 findings (2 fixed, 1 remaining)." in result.stdout


# --- [*] markers and the fixable summary ------------------------------------------------


# A safe fix (BN105) and an unsafe one (BN101 on another model, with no bare `.eval`).
SAFE_AND_UNSAFE = (
    TWO_FIXES_ONE_PROBLEM
    + """other = nn.Sequential(nn.Linear(4, 4, bias=False), nn.BatchNorm1d(4))
with torch.no_grad():
    other(torch.randn(2, 4))
"""
)


def test_text_marks_fixable_findings_and_unsafe_fixes_count_when_allowed(project: Path) -> None:
    (project / "evaluate.py").write_text(SAFE_AND_UNSAFE, encoding="utf-8")
    plain = run_bnlint(["check", "--no-cache", "evaluate.py"], project).stdout
    assert "BN105 [*] `model.eval` is never called" in plain
    assert "BN101 [*]" not in plain
    assert "[*] 1 fixable with `--fix` (1 more with `--unsafe-fixes`)." in plain

    unsafe = run_bnlint(["check", "--no-cache", "--unsafe-fixes", "evaluate.py"], project).stdout
    assert "BN101 [*]" in unsafe
    assert "[*] 2 fixable with `--fix`." in unsafe
    assert "--unsafe-fixes`)" not in unsafe

    concise = run_bnlint(
        ["check", "--no-cache", "--unsafe-fixes", "--format", "concise", "evaluate.py"], project
    ).stdout
    assert "BN101 [*]" in concise


# --- --add-noqa ---------------------------------------------------------------------------


def test_add_noqa_suppresses_every_finding_where_it_is(project: Path) -> None:
    source = TWO_FIXES_ONE_PROBLEM.replace(
        "    model(torch.randn(2, 4))\n",
        '    model(torch.randn(2, 4))  # noqa: E501\n    doc = """\n    model.eval\n    """\n',
    )
    (project / "evaluate.py").write_text(source, encoding="utf-8")
    before = _codes(run_bnlint(["check", "--format", "json", "evaluate.py"], project).stdout)
    assert before
    result = run_bnlint(["check", "--add-noqa", "evaluate.py"], project)
    assert result.exit_code == 0, result.stderr
    lines = (project / "evaluate.py").read_text(encoding="utf-8").splitlines()
    assert "model.eval  # noqa: BN105" in lines
    assert "    model(torch.randn(2, 4))  # noqa: E501, BN101" in lines
    assert '    doc = """' in lines  # a comment inside the string would change the program
    assert f"Added {len(set(before))} noqa directives." in result.stderr
    again = run_bnlint(["check", "--format", "json", "evaluate.py"], project)
    assert again.exit_code == 0, again.stdout


# --- the cache ------------------------------------------------------------------------------


def test_the_cache_lives_at_the_project_root_wherever_the_command_runs(project: Path) -> None:
    (project / "src").mkdir()
    (project / "src" / "bad.py").write_text(BUGGY, encoding="utf-8")
    result = run_bnlint(["check", "bad.py"], project / "src")
    assert result.exit_code == 1
    assert (project / ".bnlint_cache" / "CACHEDIR.TAG").is_file()
    assert not (project / "src" / ".bnlint_cache").exists()


def test_cache_dir_option_and_environment_variable(project: Path, tmp_path: Path) -> None:
    (project / "bad.py").write_text(BUGGY, encoding="utf-8")
    chosen = tmp_path / "elsewhere"
    run_bnlint(["check", "--cache-dir", str(chosen), "bad.py"], project)
    assert (chosen / "CACHEDIR.TAG").is_file()
    from_environment = tmp_path / "from-env"
    run_bnlint(["check", "bad.py"], project, env={"BNLINT_CACHE_DIR": str(from_environment)})
    assert (from_environment / "CACHEDIR.TAG").is_file()
    assert not (project / ".bnlint_cache").exists()


def test_clean_removes_the_cache_and_nothing_else(project: Path, tmp_path: Path) -> None:
    (project / "bad.py").write_text(BUGGY, encoding="utf-8")
    run_bnlint(["check", "bad.py"], project)
    assert (project / ".bnlint_cache").is_dir()
    assert run_bnlint(["clean"], project).exit_code == 0
    assert not (project / ".bnlint_cache").exists()
    assert (project / "bad.py").exists()
    assert "No cache" in run_bnlint(["clean"], project).stderr
    # A folder that is not a bnlint cache is refused, never emptied.
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("data", encoding="utf-8")
    refused = run_bnlint(["clean", "--cache-dir", str(precious)], project)
    assert refused.exit_code == 2
    assert (precious / "keep.txt").exists()
