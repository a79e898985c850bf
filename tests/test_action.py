"""The composite GitHub Action: its structure, and the commands it runs, run for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT

yaml = pytest.importorskip("yaml")

ACTION = ROOT / "action.yml"
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_INPUT = re.compile(r"\binputs\.([A-Za-z0-9_-]+)")
BAD = "def validate(model, loader):\n    model.eval\n    return [model(x) for x in loader]\n"


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    loaded = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def steps(action: dict[str, Any]) -> list[dict[str, Any]]:
    return list(action["runs"]["steps"])


def step(action: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in steps(action) if s.get("name") == name)


def test_action_has_the_metadata_the_marketplace_requires(action: dict[str, Any]) -> None:
    assert set(action) <= {"name", "description", "author", "branding", "inputs", "outputs", "runs"}
    assert action["name"] == "bnlint"
    assert action["description"]
    assert set(action["branding"]) == {"icon", "color"}
    assert action["runs"]["using"] == "composite"


def test_inputs_are_documented_with_string_defaults(action: dict[str, Any]) -> None:
    assert {"paths", "args", "sarif"} <= set(action["inputs"])
    for name, spec in action["inputs"].items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name)
        assert spec["description"]
        assert isinstance(spec.get("default", ""), str), name
        assert spec.get("required", False) is False


def test_every_step_is_runnable_by_a_composite_action(action: dict[str, Any]) -> None:
    for item in steps(action):
        assert ("run" in item) != ("uses" in item), item
        if "run" in item:
            assert item["shell"] == "bash"  # composite run steps must name their shell
        else:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", item["uses"]), item["uses"]


def test_expressions_name_declared_inputs_and_steps(action: dict[str, Any]) -> None:
    text = ACTION.read_text(encoding="utf-8")
    for expression in _EXPRESSION.findall(text):
        for name in _INPUT.findall(expression):
            assert name in action["inputs"], name
    ids = {item["id"] for item in steps(action) if "id" in item}
    for output in action.get("outputs", {}).values():
        referenced = re.findall(r"steps\.([\w-]+)\.", output["value"])
        assert set(referenced) <= ids


def test_inputs_reach_scripts_only_through_the_environment(action: dict[str, Any]) -> None:
    # `${{ inputs.x }}` pasted into a script would let an input inject shell code.
    for item in steps(action):
        assert "${{" not in item.get("run", ""), item["name"]


def test_install_script_is_valid_bash(action: dict[str, Any]) -> None:
    script = step(action, "Install bnlint")["run"]
    subprocess.run(["bash", "-n", "-c", script], check=True)
    assert "$BNLINT_ACTION_PATH" in script


def _run_step(
    action: dict[str, Any], name: str, inputs: dict[str, str], cwd: Path, extra: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run one step's script as the runner would, with its `env:` expressions resolved."""
    values = {key: spec.get("default", "") for key, spec in action["inputs"].items()}
    values.update(inputs)
    item = step(action, name)

    def substitute(match: re.Match[str]) -> str:
        name = _INPUT.fullmatch(match.group(1))
        assert name is not None, f"unexpected expression {match.group(0)}"
        return values[name.group(1)]

    def resolve(value: str) -> str:
        return _EXPRESSION.sub(substitute, value)

    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "NO_COLOR": "1",
        **{key: resolve(str(value)) for key, value in item.get("env", {}).items()},
        **extra,
    }
    assert shutil.which("bnlint", path=env["PATH"]), "bnlint is not installed next to python"
    return subprocess.run(
        ["bash", "-e", "-c", item["run"]], cwd=cwd, env=env, capture_output=True, text=True
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "validate.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "src" / "clean.py").write_text("import torch\n", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ignored.py").write_text(BAD, encoding="utf-8")
    return tmp_path


def test_lint_step_annotates_findings_and_fails(action: dict[str, Any], project: Path) -> None:
    result = _run_step(action, "Lint", {"paths": "src"}, project, {})
    assert result.returncode == 1, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith("::error file=src/validate.py,line=2,col=5,")
    assert "title=BN105 (mode-method-not-called)::BN105 " in line


def test_lint_step_passes_args_through(action: dict[str, Any], project: Path) -> None:
    result = _run_step(action, "Lint", {"paths": "src docs", "args": "--ignore BN105"}, project, {})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_sarif_step_writes_the_report_and_the_output(
    action: dict[str, Any], project: Path, tmp_path: Path
) -> None:
    outputs = tmp_path / "github_output"
    result = _run_step(
        action,
        "Write the SARIF report",
        {"sarif": "true"},
        project,
        {"GITHUB_OUTPUT": str(outputs)},
    )
    assert result.returncode == 0, result.stderr
    document = json.loads((project / "bnlint.sarif").read_text(encoding="utf-8"))
    assert document["version"] == "2.1.0"
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in document["runs"][0]["results"]
    }
    assert uris == {"src/validate.py", "docs/ignored.py"}
    assert outputs.read_text(encoding="utf-8") == "sarif-file=bnlint.sarif\n"
    upload = step(action, "Upload the SARIF report to code scanning")
    assert upload["if"] == step(action, "Write the SARIF report")["if"]
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
