"""`bnlint check --baseline FILE`: record today's findings, report only new ones later."""

from __future__ import annotations

import json
from pathlib import Path

from bnlint.baseline import ScopeIndex, normalized_line
from tests.cli_helpers import run_bnlint

VALIDATE = (
    "import torch\n"
    "\n"
    "\n"
    "class Trainer:\n"
    "    def validate(self, model, loader):\n"
    "        model.eval\n"
    "        return [model(x) for x in loader]\n"
)
OTHER = "\n\ndef predict(model, batch):\n    model.eval\n    return model(batch)\n"


def concise(tmp_path: Path, *extra: str) -> tuple[int, list[str], str]:
    """Exit code, the finding lines and standard error of a concise run over the folder."""
    result = run_bnlint(
        ["check", "--no-cache", "--format", "concise", "--baseline", "baseline.json", *extra, "."],
        tmp_path,
    )
    lines = [line for line in result.stdout.splitlines() if ": BN" in line]
    return result.exit_code, lines, result.stderr


def recorded(tmp_path: Path) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = json.loads(
        (tmp_path / "baseline.json").read_text(encoding="utf-8")
    )["findings"]
    return entries


def test_first_run_records_the_findings_and_reports_none(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(VALIDATE, encoding="utf-8")
    code, lines, stderr = concise(tmp_path)
    assert (code, lines) == (0, [])
    assert "recorded 1 finding in the baseline baseline.json" in stderr
    (entry,) = recorded(tmp_path)
    assert entry["code"] == "BN105"
    assert entry["path"] == "train.py"
    assert entry["scope"] == "Trainer.validate"
    assert entry["occurrence"] == 0
    assert set(entry) == {"code", "path", "scope", "fingerprint", "occurrence"}


def test_lines_added_above_keep_a_recorded_finding_hidden(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(VALIDATE, encoding="utf-8")
    concise(tmp_path)
    # New imports, a new helper above, the class re-indented into an `if`: no line number holds.
    moved = "import os\nimport sys\n\n\ndef helper():\n    return os.sep\n\n\n" + VALIDATE
    path.write_text(moved, encoding="utf-8")
    code, lines, stderr = concise(tmp_path)
    assert (code, lines) == (0, [])
    assert "1 finding hidden by the baseline" in stderr
    # Without the baseline the finding is still there, on another line.
    plain = run_bnlint(["check", "--no-cache", "--format", "concise", "."], tmp_path)
    assert "train.py:14:9: BN105" in plain.stdout


def test_a_new_instance_of_the_same_rule_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(VALIDATE, encoding="utf-8")
    concise(tmp_path)
    path.write_text(VALIDATE + OTHER, encoding="utf-8")
    code, lines, _ = concise(tmp_path)
    assert code == 1
    assert [line.split(" ")[:2] for line in lines] == [["train.py:11:5:", "BN105"]]


def test_a_second_identical_line_in_the_same_function_is_new(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(VALIDATE, encoding="utf-8")
    concise(tmp_path)
    path.write_text(VALIDATE.replace("        return", "        model.eval\n        return"))
    code, lines, _ = concise(tmp_path)
    assert code == 1
    assert [line.split(" ")[:2] for line in lines] == [["train.py:7:9:", "BN105"]]


def test_editing_the_anchored_line_makes_the_finding_new(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(VALIDATE, encoding="utf-8")
    concise(tmp_path)
    path.write_text(VALIDATE.replace("model.eval\n", "model.eval  # looks fine\n"))
    code, lines, _ = concise(tmp_path)
    assert code == 1
    assert [line.split(" ")[:2] for line in lines] == [["train.py:6:9:", "BN105"]]


def test_a_fixed_finding_disappears_and_write_baseline_drops_it(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(VALIDATE + OTHER, encoding="utf-8")
    concise(tmp_path)
    assert len(recorded(tmp_path)) == 2
    path.write_text(VALIDATE.replace("model.eval\n", "model.eval()\n") + OTHER)
    code, lines, stderr = concise(tmp_path)
    assert (code, lines) == (0, [])
    assert "1 recorded finding no longer occurs (fixed)" in stderr
    code, lines, stderr = concise(tmp_path, "--write-baseline")
    assert (code, lines) == (0, [])
    assert "recorded 1 finding" in stderr
    assert [entry["scope"] for entry in recorded(tmp_path)] == ["predict"]
    # The fixed finding, brought back, is new again: the baseline no longer covers it.
    path.write_text(VALIDATE + OTHER)
    code, lines, _ = concise(tmp_path)
    assert code == 1
    assert [line.split(" ")[:2] for line in lines] == [["train.py:6:9:", "BN105"]]


def test_the_baseline_is_stable_sorted_json_whatever_the_path_spelling(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "b.py").write_text(VALIDATE + OTHER, encoding="utf-8")
    (tmp_path / "a.py").write_text(OTHER + OTHER.replace("predict", "score"), encoding="utf-8")
    concise(tmp_path)
    first = (tmp_path / "baseline.json").read_bytes()
    # Again, from a subfolder, naming the files differently: the same bytes.
    run_bnlint(
        ["check", "--no-cache", "--baseline", "../baseline.json", "--write-baseline", ".", ".."],
        tmp_path / "src",
    )
    assert (tmp_path / "baseline.json").read_bytes() == first
    document = json.loads(first)
    assert document["bnlint-baseline"] == 1
    keys = [
        (e["path"], e["code"], e["scope"], e["fingerprint"], e["occurrence"])
        for e in document["findings"]
    ]
    assert keys == sorted(keys)
    assert [(k[0], k[2]) for k in keys] == [
        ("a.py", "predict"),
        ("a.py", "score"),
        ("src/b.py", "Trainer.validate"),
        ("src/b.py", "predict"),
    ]
    assert first.endswith(b"}\n")
    assert first.decode("utf-8") == json.dumps(document, indent=2) + "\n"


def test_the_baseline_applies_to_every_format(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(VALIDATE, encoding="utf-8")
    concise(tmp_path)
    (tmp_path / "train.py").write_text(VALIDATE + OTHER, encoding="utf-8")
    result = run_bnlint(
        ["check", "--no-cache", "--format", "json", "--baseline", "baseline.json", "."], tmp_path
    )
    assert result.exit_code == 1
    assert [(f["code"], f["location"]["row"]) for f in json.loads(result.stdout)] == [("BN105", 11)]


def test_quiet_prints_no_baseline_note(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(VALIDATE, encoding="utf-8")
    concise(tmp_path)
    _, _, stderr = concise(tmp_path, "--quiet")
    assert "baseline" not in stderr


def test_notebook_findings_survive_a_cell_added_above(tmp_path: Path) -> None:
    def notebook(*cells: str) -> str:
        return json.dumps(
            {
                "cells": [
                    {"cell_type": "code", "metadata": {}, "source": text, "outputs": []}
                    for text in cells
                ],
                "metadata": {"language_info": {"name": "python"}},
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )

    path = tmp_path / "eval.ipynb"
    path.write_text(notebook("import torch", "model.eval\nmodel(x)"), encoding="utf-8")
    concise(tmp_path)
    path.write_text(
        notebook("import torch", "x = torch.ones(2)\ny = x", "model.eval\nmodel(x)"),
        encoding="utf-8",
    )
    assert concise(tmp_path)[:2] == (0, [])
    path.write_text(
        notebook("import torch", "model.eval\nmodel(x)", "net.eval\nnet(x)"), encoding="utf-8"
    )
    code, lines, _ = concise(tmp_path)
    assert code == 1
    (line,) = lines
    assert line.startswith("eval.ipynb:cell 3:1:1: BN105")


def test_a_baseline_that_is_not_one_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(VALIDATE, encoding="utf-8")
    (tmp_path / "baseline.json").write_text('{"findings": []}', encoding="utf-8")
    code, _, stderr = concise(tmp_path)
    assert code == 2
    assert "is not a bnlint baseline" in stderr
    (tmp_path / "baseline.json").write_text("{", encoding="utf-8")
    code, _, stderr = concise(tmp_path)
    assert code == 2
    assert "not valid JSON" in stderr


def test_write_baseline_needs_a_baseline_file(tmp_path: Path) -> None:
    result = run_bnlint(["check", "--write-baseline", "."], tmp_path)
    assert result.exit_code == 2
    assert "--write-baseline needs --baseline FILE" in result.stderr


def test_scopes_are_qualified_names_of_the_innermost_definition() -> None:
    index = ScopeIndex(
        "class Net:\n"
        "    @staticmethod\n"
        "    def build():\n"
        "        def inner():\n"
        "            return 1\n"
        "        return inner\n"
        "if True:\n"
        "    def late():\n"
        "        pass\n"
        "x = 1\n"
    )
    assert [index.scope_at(row) for row in range(1, 11)] == [
        "Net",
        "Net.build",
        "Net.build",
        "Net.build.inner",
        "Net.build.inner",
        "Net.build",
        "",
        "late",
        "late",
        "",
    ]
    assert ScopeIndex("def f(:\n").scope_at(1) == ""
    assert normalized_line("\t model.eval  (  )  ") == "model.eval ( )"


def test_a_run_over_some_files_keeps_the_others_recorded(tmp_path: Path) -> None:
    # pre-commit passes only the changed files: the rest of the baseline must survive.
    (tmp_path / "a.py").write_text(OTHER, encoding="utf-8")
    (tmp_path / "b.py").write_text(VALIDATE, encoding="utf-8")
    concise(tmp_path)
    everything = (tmp_path / "baseline.json").read_bytes()
    result = run_bnlint(
        ["check", "--no-cache", "--format", "concise", "--baseline", "baseline.json", "a.py"],
        tmp_path,
    )
    assert result.exit_code == 0
    assert "no longer occur" not in result.stderr  # b.py was not linted, not fixed
    (tmp_path / "a.py").write_text(OTHER.replace("model.eval\n", "model.eval()\n"))
    result = run_bnlint(
        ["check", "--no-cache", "--baseline", "baseline.json", "--write-baseline", "a.py"],
        tmp_path,
    )
    assert "kept 1 recorded for files this run did not lint" in result.stderr
    assert [(e["path"], e["scope"]) for e in recorded(tmp_path)] == [("b.py", "Trainer.validate")]
    assert everything != (tmp_path / "baseline.json").read_bytes()


def test_write_baseline_replaces_a_file_that_is_not_a_baseline(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(VALIDATE, encoding="utf-8")
    (tmp_path / "baseline.json").write_text("not json", encoding="utf-8")
    code, lines, _ = concise(tmp_path, "--write-baseline")
    assert (code, lines) == (0, [])
    assert [entry["scope"] for entry in recorded(tmp_path)] == ["Trainer.validate"]
