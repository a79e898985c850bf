"""The pytest plugin's `bn_probe` fixture and `bnlint check --probe-report`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bnlint.confirm import mark_confirmed
from bnlint.diagnostics import Finding, Position, Severity, Span

from .conftest import ROOT

pytest_plugins = ["pytester"]


def test_plugin_import_does_not_import_torch() -> None:
    code = "import sys, bnlint.pytest_plugin; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_full_check_run_never_imports_torch() -> None:
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom bnlint.cli import main\n"
        "CliRunner().invoke(main, ['check', '--exit-zero', '--no-cache', 'fixtures'])\n"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "False"


USER_TESTS = """
import sys

import pytest
import torch
from torch import nn


def build():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(8, 2),
    )


def predict(model, images):
    with torch.no_grad():
        return model(images).argmax(1)


def test_check_finds_nothing_on_a_clean_model(bn_probe):
    assert bn_probe.check(build(), torch.randn(4, 3, 8, 8)) == []
    bn_probe.assert_clean(build(), torch.randn(4, 3, 8, 8))


def test_check_pins_findings_to_the_constructor(bn_probe):
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))
    built_at = sys._getframe().f_lineno - 1
    (finding,) = [f for f in bn_probe.check(model, torch.randn(4, 4)) if f.code == "BN202"]
    assert finding.span.start.row == built_at
    assert finding.filename.endswith("test_user.py")


def test_predict_without_eval_fails(bn_probe):
    model = build()
    with bn_probe.expect_eval(model):
        predict(model, torch.randn(2, 3, 8, 8))


def test_watch_collects_runtime_findings(bn_probe):
    model = build()
    with bn_probe.watch() as findings:
        predict(model, torch.randn(2, 3, 8, 8))
    assert [f.code for f in findings] == ["BN101"]
"""


def test_bn_probe_fixture_in_a_users_test_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        ["*TrainingModeError: `Sequential?1?` of `Sequential` ran in training mode*"]
    )
    assert "def expect_eval" not in result.stdout.str()  # bnlint's frame is hidden


def _finding(code: str, filename: str, row: int) -> Finding:
    position = Position(row, 5)
    return Finding(code, "name", Severity.ERROR, "message", "", filename, Span(position, position))


def _report(path: Path, *items: tuple[str, str, int, list[tuple[str, int]]]) -> Path:
    path.write_text(
        json.dumps(
            [
                {
                    "code": code,
                    "filename": filename,
                    "location": {"row": row, "column": 5},
                    "related": [
                        {"filename": name, "location": {"row": line, "column": 1}, "message": ""}
                        for name, line in related
                    ],
                }
                for code, filename, row, related in items
            ]
        )
    )
    return path


def test_probe_report_confirms_same_code_same_file_same_line_from_the_project_root(
    tmp_path: Path,
) -> None:
    report = _report(
        tmp_path / "probe.json",
        ("BN101", "src/infer.py", 12, []),
        ("BN103", "src/export.py", 3, []),
    )
    findings = [
        _finding("BN101", "project/src/infer.py", 12),
        _finding("BN101", "project/src/infer.py", 13),
        _finding("BN102", "project/src/infer.py", 12),
        _finding("BN103", "project/src/other.py", 3),
        # The same name elsewhere is another file: no suffix matching.
        _finding("BN101", "project/tools/src/infer.py", 12),
    ]
    marked = mark_confirmed(findings, [report], Path("project"))
    assert [f.confirmed for f in marked] == [True, False, False, False, False]


def test_several_reports_and_related_anchors_all_join(tmp_path: Path) -> None:
    first = _report(tmp_path / "a.json", ("BN101", "a/train.py", 5, []))
    # BN301 pinned at the batch_size value, the forward noted as related; BN201 at the
    # constructor, the call in forward noted as related.
    second = _report(
        tmp_path / "b.json",
        ("BN301", "b/train.py", 30, [("b/train.py", 41)]),
        ("BN201", "b/model.py", 9, [("b/model.py", 17)]),
    )
    findings = [
        _finding("BN101", "a/train.py", 5),
        _finding("BN101", "b/train.py", 5),
        _finding("BN301", "b/train.py", 41),
        _finding("BN301", "b/train.py", 30),
        _finding("BN201", "b/model.py", 17),
        _finding("BN201", "a/model.py", 17),
    ]
    marked = mark_confirmed(findings, [first, second], Path("."))
    assert [f.confirmed for f in marked] == [True, False, True, True, True, False]


def test_report_of_bnlint_run_confirms_bnlint_check_end_to_end(tmp_path: Path) -> None:
    """Two scripts of the same name in two folders: the report of one confirms only it."""
    script = (
        "import torch\nfrom torch import nn\n\n"
        "net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))\n"
        "with torch.no_grad():\n    for _ in range(2):\n        net(torch.randn(4, 4))\n"
    )
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n")
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "train.py").write_text(script)
    run = [sys.executable, "-m", "bnlint"]
    subprocess.run(
        [*run, "run", "--format", "json", "-o", "a.json", "a/train.py"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    assert json.loads((tmp_path / "a.json").read_text())[0]["filename"] == "a/train.py"
    (tmp_path / "other.json").write_text("[]")
    options = ["--no-cache", "--select", "BN101", "--format", "concise", "--quiet"]
    reports = ["--probe-report", "other.json", "--probe-report", "a.json"]
    checked = subprocess.run(
        [*run, "check", *options, *reports, "a", "b"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    lines = checked.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["a/train.py", "b/train.py"]
    assert lines[0].endswith("(confirmed at run time)")
    assert not lines[1].endswith("(confirmed at run time)")


def test_malformed_probe_report_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "probe.json"
    report.write_text("{not json")
    with pytest.raises(SystemExit) as exit_info:
        mark_confirmed([], report)
    assert exit_info.value.code == 2
    assert "not a JSON report" in capsys.readouterr().err
