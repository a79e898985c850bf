"""`# noqa` comments and file-level `# bnlint: noqa`, applied after the rules ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from bnlint.suppression import file_is_suppressed, line_suppresses

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
