"""Notebooks: code cells as one program, IPython syntax skipped, findings in their cells."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bnlint.cli import main
from bnlint.config import FileSettings
from bnlint.diagnostics import Finding
from bnlint.notebook import Notebook, NotebookError, notebook_cell_sources
from bnlint.registry import all_rules
from bnlint.runner import FileResult, LintOptions, lint_bytes

from .conftest import FIXTURES

NOTEBOOKS = FIXTURES / "notebooks"
ALL = frozenset(code for code, rule in all_rules().items() if rule.default_enabled)


def code_cell(source: str | list[str], count: int | None = 1) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": count,
        "metadata": {},
        "outputs": [],
        "source": source,
    }


def markdown(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)}


def notebook(*cells: dict[str, Any] | str, language: str = "python", **dump: Any) -> bytes:
    """Cells given as text become code cells, one line per source element (as Jupyter writes)."""
    document = {
        "cells": [
            code_cell(c.splitlines(keepends=True)) if isinstance(c, str) else c for c in cells
        ],
        "metadata": {"kernelspec": {"language": language, "name": "k"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    options = {"indent": 1, "sort_keys": True, "ensure_ascii": False, **dump}
    return (json.dumps(document, **options) + "\n").encode("utf-8")


def lint_nb(data: bytes, *, fix: bool = False, unsafe: bool = False) -> FileResult:
    settings = FileSettings(enabled=ALL)
    return lint_bytes(data, "analysis.ipynb", settings, LintOptions(fix=fix, unsafe_fixes=unsafe))


def where(finding: Finding) -> tuple[str, int | None, int, int]:
    return finding.code, finding.cell, finding.span.start.row, finding.span.start.column


def bnlint(args: list[str], cwd: Path, stdin: bytes | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    previous = Path.cwd()
    try:
        import os

        os.chdir(cwd)
        result = runner.invoke(main, args, input=stdin, env={"NO_COLOR": "1"})
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


# --- one program in cell order ---------------------------------------------------------


def test_model_built_in_one_cell_and_misused_in_a_later_one_is_found_in_that_cell() -> None:
    data = notebook(
        "import torch\nfrom torch import nn",
        markdown("## Model"),
        "model = nn.Sequential(\n    nn.Conv2d(3, 8, 3, bias=False),\n    nn.BatchNorm2d(8, momentum=0.99),\n)",
        markdown("## Evaluate"),
        "x = torch.randn(1, 3, 8, 8)\nmodel.eval\nmodel(x)",
    )
    findings = lint_nb(data).findings
    assert [where(f) for f in findings] == [("BN401", 3, 3, 32), ("BN105", 5, 2, 1)]


def test_names_imported_in_an_earlier_cell_resolve_in_later_cells() -> None:
    # `nn` comes from cell 1, so cell 2's BatchNorm is torch's: the import carries over.
    data = notebook("import torch.nn as nn", "bn = nn.BatchNorm1d(16, momentum=0.9)")
    assert [where(f) for f in lint_nb(data).findings] == [("BN401", 2, 1, 34)]


def test_cell_numbers_count_every_cell_including_markdown_and_raw() -> None:
    raw = {"cell_type": "raw", "metadata": {}, "source": ["model.eval\n"]}
    data = notebook(markdown("# Title"), raw, "model.eval")
    assert [where(f) for f in lint_nb(data).findings] == [("BN105", 3, 1, 1)]


def test_source_given_as_one_string_is_read() -> None:
    data = notebook(code_cell("import torch\nmodel.eval\n"))
    assert [where(f) for f in lint_nb(data).findings] == [("BN105", 1, 2, 1)]


def test_cell_without_a_final_newline_does_not_run_into_the_next() -> None:
    data = notebook(code_cell(["x = 1"]), code_cell(["model.eval"]))
    assert [where(f) for f in lint_nb(data).findings] == [("BN105", 2, 1, 1)]


# --- IPython syntax -------------------------------------------------------------------


def test_line_magics_shell_escapes_and_help_are_skipped_keeping_positions() -> None:
    data = notebook(
        "%matplotlib inline\n!pip install -q torchvision\nfiles = !ls data\nnet?\n"
        "%time out = model(x)\nmodel.eval"
    )
    result = lint_nb(data)
    assert [where(f) for f in result.findings] == [("BN105", 1, 6, 1)]


def test_indented_magic_inside_a_block_keeps_the_block_valid() -> None:
    data = notebook("for batch in loader:\n    %time step(batch)\nmodel.eval")
    assert [where(f) for f in lint_nb(data).findings] == [("BN105", 1, 3, 1)]


def test_magic_continued_with_a_backslash_is_skipped_whole() -> None:
    data = notebook("!python train.py \\\n    --epochs 3 \\\n    --lr 0.1\nmodel.eval")
    assert [where(f) for f in lint_nb(data).findings] == [("BN105", 1, 4, 1)]


def test_percent_operator_on_a_continuation_line_is_python() -> None:
    data = notebook("steps = (total\n         % 4)\nmodel.eval")
    assert [where(f) for f in lint_nb(data).findings] == [("BN105", 1, 3, 1)]


def test_magic_looking_lines_inside_a_string_stay_python() -> None:
    text = 'usage = """\n!not a shell line\n%not a magic\n"""\nmodel.eval'
    program = Notebook.parse(notebook(text)).program()
    assert program.startswith(text)
    assert [where(f) for f in lint_nb(notebook(text)).findings] == [("BN105", 1, 5, 1)]


@pytest.mark.parametrize("magic", ["%%time", "%%timeit -n 3", "%%capture out"])
def test_python_cell_magic_body_is_linted(magic: str) -> None:
    data = notebook(f"{magic}\nmodel.eval")
    assert [where(f) for f in lint_nb(data).findings] == [("BN105", 1, 2, 1)]


@pytest.mark.parametrize("magic", ["%%bash", "%%writefile serve.py", "%%html", "%%sql"])
def test_cells_in_another_language_or_written_to_a_file_are_not_linted(magic: str) -> None:
    data = notebook(f"{magic}\nmodel.eval\nbn = nn.BatchNorm2d(3, momentum=0.99)", "x = 1")
    assert lint_nb(data).findings == []


def test_notebook_of_another_language_is_not_linted() -> None:
    assert lint_nb(notebook("model.eval", language="R")).findings == []


def test_syntax_error_in_a_cell_is_bn001_in_that_cell_and_names_no_joined_row() -> None:
    data = notebook("import torch", "def broken(:\n    pass")
    (finding,) = lint_nb(data).findings
    assert where(finding)[:3] == ("BN001", 2, 1)
    assert "error at" not in finding.message


def test_noqa_in_a_cell_suppresses_the_finding() -> None:
    assert lint_nb(notebook("model.eval  # noqa: BN105")).findings == []


def test_empty_notebook_and_markdown_only_notebook_are_clean() -> None:
    assert lint_nb(notebook()).findings == []
    assert lint_nb(notebook(markdown("# Notes\nmodel.eval"))).findings == []


# --- notebooks bnlint cannot read -------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "position", "words"),
    [
        (b'{"cells": [\n  {"cell_type": "code",,}\n]}', (2, 24), "not valid notebook JSON"),
        (b"", (1, 1), "not valid notebook JSON"),
        (b'{"nbformat": 3, "worksheets": []}', (1, 1), "nbformat 3"),
        (b"[1, 2]", (1, 1), "not a JSON object"),
        (b'{"nbformat": 4, "cells": [{"cell_type": "code", "source": 7}]}', (1, 1), "source"),
        (b'{"nbformat": 4, "cells": [{"source": "x"}]}', (1, 1), "cell_type"),
        (b'{"nbformat": 4,\n "cells": ["\xff"]}', (2, 13), "cannot decode"),
    ],
)
def test_unreadable_notebook_is_one_bn001_finding(
    data: bytes, position: tuple[int, int], words: str
) -> None:
    result = lint_nb(data)
    (finding,) = result.findings
    assert finding.code == "BN001"
    assert finding.cell is None
    assert (finding.span.start.row, finding.span.start.column) == position
    assert words in finding.message
    assert result.error is None


def test_parse_error_carries_a_position() -> None:
    with pytest.raises(NotebookError) as caught:
        Notebook.parse(b'{\n "cells": [\n')
    assert caught.value.position.row == 3


# --- --fix writes the notebook back ----------------------------------------------------


def test_fix_changes_only_the_fixed_source_lines_and_keeps_the_layout() -> None:
    data = notebook(
        markdown("# Évaluation"),
        "import torch\nfrom torch import nn\nbn = nn.BatchNorm2d(8, momentum=0.99)",
        "model.eval\npreds = model(x)",
    )
    result = lint_nb(data, fix=True, unsafe=True)
    assert result.fixed_text is not None
    assert result.fixes_applied == 2
    before = data.decode("utf-8").splitlines(keepends=True)
    after = result.fixed_text.splitlines(keepends=True)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [
        (
            '    "bn = nn.BatchNorm2d(8, momentum=0.99)"\n',
            '    "bn = nn.BatchNorm2d(8, momentum=0.01)"\n',
        ),
        ('    "model.eval\\n",\n', '    "model.eval()\\n",\n'),
    ]
    assert result.findings == []


@pytest.mark.parametrize(
    "dump",
    [
        {"indent": 2, "sort_keys": False},
        {"indent": 4, "ensure_ascii": True},
        {"indent": None, "separators": (",", ":")},
    ],
    ids=["indent-2-insertion-order", "indent-4-ascii-escapes", "compact"],
)
def test_fix_keeps_other_writers_layouts(dump: dict[str, Any]) -> None:
    cells = (markdown("# Résumé"), "model.eval\ny = model(x)  # é")
    data = notebook(*cells, **dump)
    result = lint_nb(data, fix=True)
    assert result.fixed_text is not None
    expected = data.decode("utf-8").replace('"model.eval\\n"', '"model.eval()\\n"')
    assert result.fixed_text == expected


def test_fix_keeps_outputs_execution_counts_and_missing_final_newline() -> None:
    cell = code_cell(["model.eval\n", "model(x)"], count=12)
    cell["outputs"] = [{"name": "stdout", "output_type": "stream", "text": ["0.91\n"]}]
    data = notebook(cell).rstrip(b"\n")
    result = lint_nb(data, fix=True)
    assert result.fixed_text is not None
    assert not result.fixed_text.endswith("\n")
    fixed = json.loads(result.fixed_text)
    original = json.loads(data)
    original["cells"][0]["source"][0] = "model.eval()\n"
    assert fixed == original


def test_fix_restores_magics_around_the_fixed_line() -> None:
    data = notebook("%%time\n%load_ext autoreload\nmodel.eval\n!nvidia-smi")
    result = lint_nb(data, fix=True)
    assert result.fixed_text is not None
    source = json.loads(result.fixed_text)["cells"][0]["source"]
    assert source == ["%%time\n", "%load_ext autoreload\n", "model.eval()\n", "!nvidia-smi"]


def test_lines_inserted_by_a_fix_stay_in_their_cell() -> None:
    parsed = Notebook.parse(notebook("%pylab\nimport torch", "x = 1\ny = 2", "z = 3"))
    program = parsed.program().replace("y = 2\n", "model.eval()\ny = 2\n")
    texts = parsed.split(program)
    assert texts == ["%pylab\nimport torch", "x = 1\nmodel.eval()\ny = 2", "z = 3"]
    fixed = json.loads(parsed.with_sources(texts))
    assert fixed["cells"][1]["source"] == ["x = 1\n", "model.eval()\n", "y = 2"]


def test_a_program_whose_cell_markers_moved_cannot_be_split() -> None:
    parsed = Notebook.parse(notebook("x = 1", "y = 2"))
    program = parsed.program()
    assert parsed.split(program.replace("y = 2", "")) is not None
    moved = program + program.splitlines(keepends=True)[1]
    assert parsed.split(moved) is None
    assert parsed.cell_rows(moved) is None


@pytest.mark.parametrize("fixture", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_fixture_is_byte_identical_after_fix_unless_fixed(
    fixture: Path, tmp_path: Path
) -> None:
    copy = tmp_path / fixture.name
    shutil.copyfile(fixture, copy)
    before = lint_nb(fixture.read_bytes()).findings
    bnlint(["check", "--fix", "--no-cache", "--exit-zero", copy.name], tmp_path)
    if not any(f.fix is not None and f.fix.applicability.value == "safe" for f in before):
        assert copy.read_bytes() == fixture.read_bytes()
    else:
        fixed = json.loads(copy.read_bytes())
        original = json.loads(fixture.read_bytes())
        for new, old in zip(fixed["cells"], original["cells"], strict=True):
            assert {k: v for k, v in new.items() if k != "source"} == {
                k: v for k, v in old.items() if k != "source"
            }


def test_clean_notebook_is_byte_identical_after_fix_through_the_cli(tmp_path: Path) -> None:
    source = NOTEBOOKS / "batch_inference_clean.ipynb"
    copy = tmp_path / "nb.ipynb"
    shutil.copyfile(source, copy)
    status, _, _ = bnlint(["check", "--fix", "--unsafe-fixes", "--no-cache", "nb.ipynb"], tmp_path)
    assert status == 0
    assert copy.read_bytes() == source.read_bytes()


# --- the command line ------------------------------------------------------------------


def test_concise_output_names_the_cell(tmp_path: Path) -> None:
    (tmp_path / "eval.ipynb").write_bytes(notebook("import torch", markdown("x"), "model.eval"))
    status, out, _ = bnlint(["check", "--format", "concise", "--no-cache", "."], tmp_path)
    assert status == 1
    assert out.startswith("eval.ipynb:cell 3:1:1: BN105 ")


def test_text_output_frames_the_cell_source_not_the_json(tmp_path: Path) -> None:
    (tmp_path / "eval.ipynb").write_bytes(notebook("%matplotlib inline\nmodel.eval"))
    for _ in range(2):  # the second run reads the cache
        status, out, _ = bnlint(["check", "eval.ipynb"], tmp_path)
        assert status == 1
        assert "eval.ipynb:cell 1:2:1: BN105" in out
        assert "1 | %matplotlib inline\n" in out
        assert "2 | model.eval\n" in out


def test_json_and_sarif_carry_the_cell(tmp_path: Path) -> None:
    (tmp_path / "eval.ipynb").write_bytes(notebook(markdown("x"), "model.eval"))
    _, out, _ = bnlint(["check", "--format", "json", "--no-cache", "eval.ipynb"], tmp_path)
    (finding,) = json.loads(out)
    assert (finding["cell"], finding["location"]) == (2, {"row": 1, "column": 1})
    _, out, _ = bnlint(["check", "--format", "sarif", "--no-cache", "eval.ipynb"], tmp_path)
    (result,) = json.loads(out)["runs"][0]["results"]
    assert result["properties"]["cell"] == 2
    assert result["locations"][0]["logicalLocations"][0]["name"] == "cell 2"


def test_stdin_filename_ipynb_lints_a_notebook(tmp_path: Path) -> None:
    data = notebook("%load_ext autoreload", "model.eval")
    status, out, _ = bnlint(
        ["check", "--format", "concise", "--stdin-filename", "nb/eval.ipynb", "-"], tmp_path, data
    )
    assert status == 1
    assert out.startswith("nb/eval.ipynb:cell 2:1:1: BN105")


def test_stdin_fix_prints_the_fixed_notebook(tmp_path: Path) -> None:
    data = notebook("model.eval")
    status, out, _ = bnlint(
        ["check", "--fix", "--stdin-filename", "eval.ipynb", "-"], tmp_path, data
    )
    assert status == 0
    assert out == data.decode("utf-8").replace("model.eval", "model.eval()")


def test_directory_discovery_includes_notebooks_but_not_checkpoints(tmp_path: Path) -> None:
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "a.ipynb").write_bytes(notebook("model.eval"))
    checkpoints = tmp_path / "nb" / ".ipynb_checkpoints"
    checkpoints.mkdir()
    (checkpoints / "a-checkpoint.ipynb").write_bytes(notebook("model.eval"))
    _, out, _ = bnlint(["check", "--format", "concise", "-q", "--no-cache", "."], tmp_path)
    assert out.splitlines() == [
        "nb/a.ipynb:cell 1:1:1: BN105 [*] `model.eval` is never called, so `model` stays in its "
        "current mode; call it: `model.eval()`"
    ]


def test_cell_sources_for_code_frames_restore_magics() -> None:
    sources = notebook_cell_sources(notebook(markdown("x"), "%time f()\nmodel.eval"))
    assert list(sources) == [2]
    assert sources[2].line(1) == "%time f()"
    assert notebook_cell_sources(b"not json") == {}
