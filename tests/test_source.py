"""Bytes -> text: line endings, tabs, BOM, declared encodings and undecodable bytes keep
positions right (1-based rows, columns counting characters); broken files are BN001."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from bnlint.config import FileSettings
from bnlint.diagnostics import Position
from bnlint.registry import all_rules
from bnlint.runner import FileResult, LintOptions, lint_bytes
from bnlint.source import SourceText, UndecodableSource, decode

from .cli_helpers import run_bnlint

EVERYTHING = FileSettings(enabled=frozenset(all_rules()))


def _lint(data: bytes, fix: bool = False) -> FileResult:
    return lint_bytes(data, "train.py", EVERYTHING, LintOptions(fix=fix, unsafe_fixes=fix))


def _spans(result: FileResult) -> list[tuple[str, int, int, int, int]]:
    return [
        (f.code, f.span.start.row, f.span.start.column, f.span.end.row, f.span.end.column)
        for f in result.findings
    ]


def _column_of(line: str, fragment: str) -> int:
    return line.index(fragment) + 1


# Positions in text that decodes


def test_lf_positions() -> None:
    assert _spans(_lint(b"def validate(model):\n    model.eval\n")) == [("BN105", 2, 5, 2, 15)]


def test_crlf_positions_and_fix_keep_crlf() -> None:
    data = b"import torch.nn as nn\r\n\r\ndef validate(model):\r\n    model.eval\r\n"
    assert _spans(_lint(data)) == [("BN105", 4, 5, 4, 15)]
    fixed = _lint(data, fix=True)
    assert fixed.fixed_text == data.decode().replace("model.eval\r", "model.eval()\r")


def test_lone_cr_line_endings_count_as_lines() -> None:
    assert _spans(_lint(b"model.eval\rmodel.train\r")) == [
        ("BN105", 1, 1, 1, 11),
        ("BN105", 2, 1, 2, 12),
    ]


def test_tab_is_one_character() -> None:
    assert _spans(_lint(b"if ready:\n\tmodel.eval\n")) == [("BN105", 2, 2, 2, 12)]
    line = "\tbn = nn.BatchNorm2d(8, momentum=0.99)"
    data = f"import torch.nn as nn\nif ready:\n{line}\n".encode()
    assert _spans(_lint(data)) == [
        ("BN401", 3, _column_of(line, "0.99"), 3, _column_of(line, "0.99") + 4)
    ]


def test_non_ascii_characters_before_the_anchor_count_once() -> None:
    line = "label = 'café 😀'; model.eval"
    column = _column_of(line, "model")
    assert len(line[: column - 1].encode()) > column - 1, "the test needs multi-byte characters"
    assert _spans(_lint(line.encode() + b"\n")) == [("BN105", 1, column, 1, column + 10)]


def test_utf8_bom_is_not_a_column() -> None:
    data = codecs.BOM_UTF8 + b"def validate(model):\n    model.eval\nmodel.train\n"
    assert _spans(_lint(data)) == [("BN105", 2, 5, 2, 15), ("BN105", 3, 1, 3, 12)]


def test_utf8_bom_survives_a_fix() -> None:
    data = codecs.BOM_UTF8 + b"model.eval\n"
    result = _lint(data, fix=True)
    assert result.fixed_text == "model.eval()\n"
    assert result.source is not None
    assert result.source.encode(result.fixed_text) == codecs.BOM_UTF8 + b"model.eval()\n"


def test_declared_latin1_encoding_positions_count_characters() -> None:
    line = "name = 'r\xe9seau \xe0 trous'; bn = nn.BatchNorm2d(8, momentum=0.9)"
    data = ("# -*- coding: latin-1 -*-\nimport torch.nn as nn\n" + line + "\n").encode("latin-1")
    column = _column_of(line, "0.9")
    assert _spans(_lint(data)) == [("BN401", 3, column, 3, column + 3)]


def test_declared_latin1_fix_is_written_back_in_latin1() -> None:
    data = "# coding: latin-1\n# \xe9valuation\nmodel.eval\n".encode("latin-1")
    result = _lint(data, fix=True)
    assert result.source is not None
    assert result.fixed_text is not None
    assert result.source.encode(result.fixed_text) == data.replace(b"model.eval", b"model.eval()")


# Undecodable bytes and syntax errors are BN001 at their position


def test_non_utf8_bytes_without_a_declaration_are_bn001_at_the_bad_byte() -> None:
    data = b"import torch\n\nname = 'caf\xe9'\n"
    (finding,) = _lint(data).findings
    assert finding.code == "BN001"
    assert (finding.span.start.row, finding.span.start.column) == (3, 12)
    assert "0xe9" in finding.message


def test_bad_byte_after_multibyte_characters_counts_characters() -> None:
    data = "x = '\u00e9\u00e9'; y = '".encode() + b"\xff'\n"
    (finding,) = _lint(data).findings
    assert (finding.code, finding.span.start.row, finding.span.start.column) == ("BN001", 1, 16)


def test_unknown_declared_encoding_is_bn001() -> None:
    (finding,) = _lint(b"# -*- coding: klingon -*-\nx = 1\n").findings
    assert finding.code == "BN001"
    assert "klingon" in finding.message
    assert finding.span.start == Position(1, 1)


@pytest.mark.parametrize(
    ("data", "row", "column", "words"),
    [
        (b"def validate(model:\n    model.eval()\n", 1, 19, "was never closed"),
        (b"import torch\n\ndef f(:\n    pass\n", 3, 7, "invalid syntax"),
        (b"def f():\r\n    return (\r\n", 2, 12, "was never closed"),
        (b"if ready:\n\tx = 1\n  y = 2\n", 3, 6, "indent"),
        (b"print 'hello'\n", 1, 1, "parentheses"),
        ("s = '\U0001f600' + (1 2)\n".encode(), 1, 12, "invalid syntax"),
    ],
)
def test_syntax_error_is_bn001_at_python_s_position(
    data: bytes, row: int, column: int, words: str
) -> None:
    (finding,) = _lint(data).findings
    assert finding.code == "BN001"
    assert finding.name == "syntax-error"
    assert (finding.span.start.row, finding.span.start.column) <= (row, column + 2)
    assert finding.span.start.row == row
    assert words in finding.message


def test_syntax_error_in_a_file_no_rule_would_read_is_still_bn001() -> None:
    (finding,) = _lint(b"def add(a, b)\n    return a + b\n").findings
    assert (finding.code, finding.span.start.row) == ("BN001", 1)


def test_null_bytes_are_bn001_not_a_crash() -> None:
    result = _lint(b"model.eval\nx = a\x00b\n")
    assert result.error is None
    assert [f.code for f in result.findings] == ["BN001"]


def test_bn001_can_be_ignored() -> None:
    settings = FileSettings(enabled=frozenset({"BN105"}))
    assert lint_bytes(b"def f(:\n", "x.py", settings).findings == []


def test_empty_file_and_bom_only_file_are_clean() -> None:
    assert _lint(b"").findings == []
    assert _lint(codecs.BOM_UTF8).findings == []


def test_a_broken_file_does_not_stop_its_neighbours(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / "a_broken.py").write_bytes(b"def f(:\n    pass\n")
    (tmp_path / "b_latin.py").write_bytes(b"name = 'caf\xe9'\n")
    (tmp_path / "c_train.py").write_bytes(b"def validate(model):\n    model.eval\n")
    result = run_bnlint(["check", "--format", "concise", "-q", "--jobs", "1", "."], tmp_path)
    assert result.exit_code == 1
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line.split(": ")[0] + " " + line.split(": ")[1].split()[0] for line in lines] == [
        "a_broken.py:1:7 BN001",
        "b_latin.py:1:12 BN001",
        "c_train.py:2:5 BN105",
    ]


def test_text_frame_caret_lines_up_under_a_tab_indented_anchor(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / "t.py").write_bytes(b"if ready:\n\tmodel.eval\n")
    output = run_bnlint(["check", "t.py"], tmp_path).stdout
    code_line = next(line for line in output.splitlines() if line.startswith("2 | "))
    caret_line = next(line for line in output.splitlines() if "^" in line)
    assert code_line.index("model") == caret_line.index("^")


# SourceText and decode


def test_source_text_lines_offsets_and_positions() -> None:
    source = SourceText("ab\r\ncd\ne\rf")
    assert source.line_count == 4
    assert [source.line(row) for row in range(1, 5)] == ["ab", "cd", "e", "f"]
    assert source.line(9) == ""
    for offset, position in [(0, Position(1, 1)), (4, Position(2, 1)), (8, Position(3, 2))]:
        assert source.position(offset) == position
        assert source.offset(position) == offset


def test_decode_reports_the_encoding_and_bom() -> None:
    assert decode(codecs.BOM_UTF8 + b"x = 1\n").bom
    latin = decode(b"# coding: latin-1\nx = '\xe9'\n")
    assert latin.encoding in ("iso-8859-1", "latin-1")
    assert latin.text.endswith("x = '\u00e9'\n")
    with pytest.raises(UndecodableSource) as error:
        decode(b"ok\n\xc3(")
    assert error.value.position == Position(2, 1)
