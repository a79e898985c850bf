"""Fixes end to end: fixtures/fix/x.py becomes x.fixed.py, safe versus unsafe, --diff,
idempotence, overlapping edits, and writes that keep permissions, line endings and
concurrent changes."""

from __future__ import annotations

import ast
import shutil
import stat
from pathlib import Path

import pytest

from bnlint.config import FileSettings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Position, Severity, Span
from bnlint.engine import LintOptions
from bnlint.engine.files import lint_bytes
from bnlint.fixes import (
    ConcurrentModification,
    applicable_fixes,
    apply_edits,
    digest,
    write_atomic,
)
from bnlint.registry import all_rules
from bnlint.source import decode

from .cli_helpers import run_bnlint
from .conftest import FIXTURES, check_golden, codes, lint
from .test_rule_docs import _document, _examples

FIX_DIR = FIXTURES / "fix"
_STATIC = [code for code, rule in all_rules().items() if not rule.runtime_only and code != "BN001"]


def _fix_scripts() -> list[Path]:
    return sorted(p for p in FIX_DIR.glob("*.py") if not p.name.endswith(".fixed.py"))


def _fixed(text: str, *, unsafe: bool = True, select: list[str] | None = None) -> str:
    settings = FileSettings(enabled=frozenset(select or _STATIC))
    result = lint_bytes(text.encode("utf-8"), "x.py", settings, LintOptions(True, unsafe))
    assert result.error is None
    return text if result.fixed_text is None else result.fixed_text


@pytest.mark.parametrize("script", _fix_scripts(), ids=lambda p: p.name)
def test_fix_fixture_becomes_its_fixed_version(script: Path, update_goldens: bool) -> None:
    fixed = _fixed(script.read_text(encoding="utf-8"))
    ast.parse(fixed)
    check_golden(script.with_suffix(".fixed.py"), fixed, update_goldens)


@pytest.mark.parametrize("script", _fix_scripts(), ids=lambda p: p.name)
def test_fixed_fixture_has_no_fixable_finding_left(script: Path) -> None:
    fixed = script.with_suffix(".fixed.py").read_text(encoding="utf-8")
    assert [f.full_message for f in lint(fixed, select=_STATIC) if f.fix] == []
    assert _fixed(fixed) == fixed


def test_fix_fixtures_exist_for_safe_and_unsafe_fixes() -> None:
    applicabilities = set()
    for script in _fix_scripts():
        for finding in lint(script.read_text(encoding="utf-8"), select=_STATIC):
            if finding.fix is not None:
                applicabilities.add(finding.fix.applicability)
    assert applicabilities == {Applicability.SAFE, Applicability.UNSAFE}


@pytest.mark.parametrize("code", [c for c in _STATIC if all_rules()[c].fixable.value != "never"])
def test_each_fixable_rules_example_is_fixed_and_no_longer_triggers(code: str) -> None:
    example, _ = _examples(_document(code))
    findings = [f for f in lint(example, select=[code]) if f.code == code]
    if not any(f.fix for f in findings):
        pytest.skip(f"{code}'s documented example carries no fix")
    fixed = _fixed(example, select=[code])
    ast.parse(fixed)
    assert code not in codes(lint(fixed, select=[code]))


def test_fix_without_unsafe_applies_only_safe_fixes() -> None:
    source = (FIX_DIR / "conv_blocks.py").read_text(encoding="utf-8")
    safe_only = _fixed(source, unsafe=False)
    assert "momentum=0.99" in safe_only, "BN401's unsafe fix applied without --unsafe-fixes"
    assert "model.eval()" in safe_only
    assert "bias=False" in safe_only
    assert "momentum=0.01" in _fixed(source, unsafe=True)


def test_bias_fix_is_unsafe_when_the_file_loads_a_checkpoint() -> None:
    source = (FIX_DIR / "finetune_pretrained.py").read_text(encoding="utf-8")
    fixes = [f.fix for f in lint(source, select=["BN202"])]
    assert fixes
    for fix in fixes:
        assert fix is not None
        assert fix.applicability is Applicability.UNSAFE
        assert "unsafe" in fix.message
    assert "bias=False" not in _fixed(source, unsafe=False, select=["BN202"])


def _copy_fixtures(tmp_path: Path) -> Path:
    target = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_second_fix_over_every_fixture_changes_nothing(tmp_path: Path) -> None:
    root = _copy_fixtures(tmp_path)
    first = run_bnlint(["check", "--fix", "--unsafe-fixes", "--no-cache", "--exit-zero", "."], root)
    assert first.exit_code == 0, first.stderr
    after_first = _snapshot(root)
    assert after_first != _snapshot(FIXTURES) or not _fix_scripts()
    second = run_bnlint(
        ["check", "--fix", "--unsafe-fixes", "--no-cache", "--exit-zero", "."], root
    )
    assert second.exit_code == 0, second.stderr
    assert _snapshot(root) == after_first
    for relative, data in after_first.items():
        if relative.endswith(".py"):
            ast.parse(data.decode("utf-8"))


def test_fix_writes_the_fixed_version_through_the_cli(tmp_path: Path) -> None:
    script = tmp_path / "conv_blocks.py"
    shutil.copy(FIX_DIR / "conv_blocks.py", script)
    result = run_bnlint(
        ["check", "--fix", "--unsafe-fixes", "--no-cache", "conv_blocks.py"], tmp_path
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert script.read_text(encoding="utf-8") == (FIX_DIR / "conv_blocks.fixed.py").read_text(
        encoding="utf-8"
    )


def test_diff_prints_a_unified_diff_writes_nothing_and_exits_1(tmp_path: Path) -> None:
    script = tmp_path / "conv_blocks.py"
    shutil.copy(FIX_DIR / "conv_blocks.py", script)
    before = script.read_bytes()
    result = run_bnlint(["check", "--diff", "--no-cache", "conv_blocks.py"], tmp_path)
    assert result.exit_code == 1
    assert script.read_bytes() == before
    assert "--- a/conv_blocks.py" in result.stdout
    assert "+++ b/conv_blocks.py" in result.stdout
    assert "+    model.eval()" in result.stdout
    # Without --unsafe-fixes the diff holds only safe fixes.
    assert "momentum=0.01" not in result.stdout


def test_diff_of_a_file_with_nothing_to_fix_exits_0(tmp_path: Path) -> None:
    script = tmp_path / "clean.py"
    shutil.copy(FIX_DIR / "conv_blocks.fixed.py", script)
    result = run_bnlint(["check", "--diff", "--no-cache", "clean.py"], tmp_path)
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""


def _finding(start: tuple[int, int], end: tuple[int, int], content: str) -> Finding:
    span = Span(Position(*start), Position(*end))
    return Finding(
        code="BN202",
        name="bias-before-norm",
        severity=Severity.WARNING,
        message="m",
        hint="h",
        filename="x.py",
        span=span,
        fix=Fix(Applicability.SAFE, "f", (Edit(content, span),)),
    )


def test_overlapping_fixes_wait_for_a_later_round() -> None:
    source = decode(b"a = f(1, 2)\n")
    first = _finding((1, 5), (1, 12), "g(1, 2)")
    overlapping = _finding((1, 7), (1, 8), "10")
    fixed = applicable_fixes([first, overlapping], unsafe=False)
    assert fixed == [first]
    assert first.fix is not None
    assert apply_edits(source, first.fix.edits) == "a = g(1, 2)\n"


def test_fixes_in_one_statement_never_corrupt_the_file() -> None:
    source = (
        "import torch.nn as nn\n"
        "block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8, momentum=0.9),"
        " nn.Linear(8, 8), nn.BatchNorm1d(8, 1e-5, 0.99))\n"
    )
    fixed = _fixed(source)
    ast.parse(fixed)
    assert "nn.Conv2d(3, 8, 3, bias=False)" in fixed
    assert "nn.Linear(8, 8, bias=False)" in fixed
    assert "momentum=0.1" in fixed
    assert "1e-5, 0.01)" in fixed


def test_fix_keeps_permissions_and_crlf_line_endings(tmp_path: Path) -> None:
    script = tmp_path / "blocks.py"
    text = (FIX_DIR / "conv_blocks.py").read_text(encoding="utf-8")
    script.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    script.chmod(0o640)
    result = run_bnlint(["check", "--fix", "--no-cache", "--exit-zero", "blocks.py"], tmp_path)
    assert result.exit_code == 0, result.stderr
    data = script.read_bytes()
    assert b"bias=False" in data
    assert data.count(b"\r\n") == data.count(b"\n")
    assert stat.S_IMODE(script.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["blocks.py"], "a temporary file was left"


def test_write_atomic_refuses_a_file_changed_since_it_was_read(tmp_path: Path) -> None:
    script = tmp_path / "model.py"
    script.write_text("original\n", encoding="utf-8")
    seen = digest(script.read_bytes())
    script.write_text("changed by someone else\n", encoding="utf-8")
    with pytest.raises(ConcurrentModification):
        write_atomic(script, b"fixed\n", seen)
    assert script.read_text(encoding="utf-8") == "changed by someone else\n"
    assert [p.name for p in tmp_path.iterdir()] == ["model.py"]
