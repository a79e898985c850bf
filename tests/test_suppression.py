"""`# noqa` comments and file-level `# bnlint: noqa`, applied after the rules ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from bnlint.config import FileSettings
from bnlint.diagnostics import Finding, Position, Severity, Span
from bnlint.engine import LintOptions
from bnlint.engine.files import lint_bytes
from bnlint.source import decode
from bnlint.suppression import add_noqa, file_is_suppressed, line_suppresses

from .cli_helpers import run_bnlint
from .conftest import codes, lint

HEADER = "import torch.nn as nn\n\n\ndef setup(model):\n"
BOTH_ON_ONE_LINE = "    bn = nn.BatchNorm2d(8, momentum=0.9); model.eval"


def _lint_line(line: str) -> list[str]:
    return codes(lint(HEADER + line + "\n"))


def test_without_noqa_both_findings_are_reported() -> None:
    assert _lint_line(BOTH_ON_ONE_LINE) == ["BN401", "BN105"]


def test_noqa_with_one_code_suppresses_only_that_code() -> None:
    assert _lint_line(BOTH_ON_ONE_LINE + "  # noqa: BN105") == ["BN401"]


@pytest.mark.parametrize(
    "comment",
    ["# noqa: BN105,BN401", "# noqa: BN105, BN401", "# noqa:BN401,BN105", "# NOQA: bn105 bn401"],
)
def test_noqa_with_two_codes_suppresses_both(comment: str) -> None:
    assert _lint_line(f"{BOTH_ON_ONE_LINE}  {comment}") == []


def test_bare_noqa_suppresses_every_finding_on_the_line() -> None:
    assert _lint_line(BOTH_ON_ONE_LINE + "  # noqa") == []


def test_noqa_for_another_code_does_not_suppress() -> None:
    assert _lint_line("    model.eval  # noqa: BN401") == ["BN105"]


def test_noqa_for_another_linter_does_not_suppress() -> None:
    assert _lint_line("    model.eval  # noqa: E501") == ["BN105"]


def test_noqa_with_an_explanation_after_the_code() -> None:
    assert _lint_line("    model.eval  # noqa: BN105 (kept to show the bug in the tutorial)") == []


def test_noqa_on_another_line_does_not_suppress() -> None:
    source = HEADER + "    # noqa: BN105\n    model.eval\n    model.train()  # noqa\n"
    assert codes(lint(source)) == ["BN105"]


def test_noqa_applies_to_the_first_line_of_a_multiline_finding() -> None:
    source = (
        "import torch.nn as nn\nbn = nn.BatchNorm2d(\n    8,\n    momentum=0.9,  # noqa: BN401\n)\n"
    )
    assert codes(lint(source)) == []


def test_file_level_noqa_suppresses_the_whole_file() -> None:
    source = "# bnlint: noqa\n" + HEADER + BOTH_ON_ONE_LINE + "\n"
    assert lint(source) == []


def test_file_level_noqa_after_a_docstring() -> None:
    source = (
        '"""Ported from Keras on purpose."""\n#  bnlint:noqa\n' + HEADER + BOTH_ON_ONE_LINE + "\n"
    )
    assert lint(source) == []


def test_file_level_noqa_must_stand_on_its_own_line() -> None:
    source = HEADER + BOTH_ON_ONE_LINE + "  # bnlint: noqa\n"
    assert codes(lint(source)) == ["BN401", "BN105"]


def test_file_level_noqa_also_covers_syntax_errors() -> None:
    assert lint("# bnlint: noqa\ndef broken(:\n") == []


def test_line_suppresses_examples() -> None:
    assert line_suppresses("model.eval  # noqa: BN105,BN401", "BN105")
    assert line_suppresses("model.eval  # noqa", "BN105")
    assert not line_suppresses("model.eval  # noqa: BN401", "BN105")
    assert not line_suppresses("model.eval", "BN105")
    assert file_is_suppressed("x = 1\n# bnlint: noqa\n")
    assert not file_is_suppressed("x = 1  # bnlint: noqa\n")


def test_suppressed_findings_do_not_set_the_exit_code(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / "train.py").write_text(HEADER + "    model.eval  # noqa: BN105\n", encoding="utf-8")
    result = run_bnlint(["check", "train.py"], tmp_path)
    assert result.exit_code == 0
    assert result.stdout == "All checks passed!\n"


# --- file-level `# bnlint: noqa: CODE` ----------------------------------------------------


@pytest.mark.parametrize(
    "comment", ["# bnlint: noqa: BN401", "#bnlint:noqa:BN401", "  # BNLINT: NOQA: bn401, E501"]
)
def test_file_level_noqa_with_a_code_turns_off_only_that_rule(comment: str) -> None:
    source = f"{comment}\n{HEADER}{BOTH_ON_ONE_LINE}\n"
    assert codes(lint(source)) == ["BN105"]


def test_file_level_noqa_with_codes_is_not_a_line_comment() -> None:
    # The comment must stand on a line of its own; after code it is an ordinary `# noqa`
    # comment for that line only (and names no code a line-level comment would parse).
    source = f"{HEADER}{BOTH_ON_ONE_LINE}\nx = 1  # bnlint: noqa: BN401\n"
    assert codes(lint(source)) == ["BN401", "BN105"]


# --- BN002 unused-noqa ----------------------------------------------------------------------

EVERY = ["BN002", "BN105", "BN401"]


def test_a_code_that_suppresses_a_finding_is_used() -> None:
    source = f"{HEADER}{BOTH_ON_ONE_LINE}  # noqa: BN105, BN401\n"
    assert codes(lint(source, select=EVERY)) == []


def test_an_unused_code_is_reported_beside_a_used_one() -> None:
    source = f"{HEADER}    model.eval  # noqa: BN105, BN401\n"
    (finding,) = lint(source, select=EVERY)
    assert finding.code == "BN002"
    assert "`BN401` reports nothing on this line" in finding.message
    assert "BN105" not in finding.message
    assert finding.span.start.row == 5


def test_an_unused_file_level_code_is_reported() -> None:
    source = f"# bnlint: noqa: BN401, BN105\n{HEADER}    model.eval\n"
    (finding,) = lint(source, select=EVERY)
    assert finding.code == "BN002"
    assert "`BN401` reports nothing in this file" in finding.message


def test_unused_noqa_fix_keeps_used_codes_and_drops_empty_comments() -> None:
    source = (
        "# bnlint: noqa: BN401\n"
        f"{HEADER}    model.eval  # noqa: BN105, BN401\n"
        "    model.train()  # noqa: BN105\n"
        "    # noqa: BN105\n"
        "    return model\n"
    )
    assert codes(lint(source, select=EVERY, fix=True)) == []
    settings = FileSettings(enabled=frozenset(EVERY))
    result = lint_bytes(source.encode(), "example.py", settings, LintOptions(fix=True))
    assert result.fixed_text == (
        f"{HEADER}    model.eval  # noqa: BN105\n    model.train()\n    return model\n"
    )


# --- --add-noqa -----------------------------------------------------------------------------


def test_add_noqa_merges_into_an_existing_comment_and_skips_string_lines() -> None:
    text = 'x = f()  # noqa: E501\ny = """\nz"""\nw = 1  # note\n'
    findings = [_at(1, "BN105"), _at(2, "BN401"), _at(4, "BN401"), _at(4, "BN105")]
    new, changed = add_noqa(decode(text.encode()), findings)
    assert (
        new == 'x = f()  # noqa: E501, BN105\ny = """\nz"""\nw = 1  # note  # noqa: BN105, BN401\n'
    )
    assert changed == 2


def _at(row: int, code: str) -> Finding:
    position = Position(row, 1)
    return Finding(code, "name", Severity.ERROR, "m", "", "x.py", Span(position, position))
