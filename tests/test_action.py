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
    action: dict[str, Any],
    name: str,
    inputs: dict[str, str],
    cwd: Path,
    extra: dict[str, str],
    expressions: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one step's script as the runner would, with its `env:` expressions resolved
    (`inputs.x` from the inputs, anything else from `expressions`)."""
    values = {key: spec.get("default", "") for key, spec in action["inputs"].items()}
    values.update(inputs)
    item = step(action, name)

    def substitute(match: re.Match[str]) -> str:
        if expressions is not None and match.group(1) in expressions:
            return expressions[match.group(1)]
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
    if expressions is None:
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
    assert {"uri": "src/validate.py", "uriBaseId": "%SRCROOT%"} in [
        r["locations"][0]["physicalLocation"]["artifactLocation"]
        for r in document["runs"][0]["results"]
    ]
    upload = step(action, "Upload the SARIF report to code scanning")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"


# --- versions, Windows runners, forks ---------------------------------------------------------


def _resolve_version(
    action: dict[str, Any], inputs: dict[str, str], cwd: Path
) -> tuple[int, str, str]:
    outputs = cwd / "github_output"
    outputs.write_text("", encoding="utf-8")
    result = _run_step(
        action, "Resolve the bnlint version", inputs, cwd, {"GITHUB_OUTPUT": str(outputs)}, {}
    )
    return result.returncode, outputs.read_text(encoding="utf-8"), result.stdout


@pytest.mark.parametrize(
    ("files", "inputs", "expected"),
    [
        ({}, {}, ""),
        ({}, {"version": "0.1.0"}, "0.1.0"),
        ({"requirements-dev.txt": "ruff==0.6.0\nbnlint==0.2.1  # lint\n"}, {}, "0.2.1"),
        ({"pyproject.toml": '[x]\ndev = ["pytest", "bnlint == 1.0.0rc1"]\n'}, {}, "1.0.0rc1"),
        ({".bnlint-version": "0.3.0\n"}, {}, "0.3.0"),
        ({"requirements-dev.txt": "bnlint==0.2.1\n"}, {"version": "0.1.0"}, "0.1.0"),
    ],
)
def test_version_comes_from_the_input_or_the_version_file(
    action: dict[str, Any],
    tmp_path: Path,
    files: dict[str, str],
    inputs: dict[str, str],
    expected: str,
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        inputs = {"version-file": name, **inputs}
    status, outputs, _ = _resolve_version(action, inputs, tmp_path)
    assert status == 0
    assert outputs == f"version={expected}\n"


@pytest.mark.parametrize(
    ("files", "name", "message"),
    [({}, "missing.txt", "does not exist"), ({"req.txt": "ruff==0.6.0\n"}, "req.txt", "no bnlint")],
)
def test_unusable_version_file_fails_with_an_annotation(
    action: dict[str, Any], tmp_path: Path, files: dict[str, str], name: str, message: str
) -> None:
    for filename, text in files.items():
        (tmp_path / filename).write_text(text, encoding="utf-8")
    status, _, stdout = _resolve_version(action, {"version-file": name}, tmp_path)
    assert status == 2
    assert stdout.startswith("::error::")
    assert message in stdout


_FAKE_PYTHON = """#!/usr/bin/env bash
# Stands in for the runner's Python: `-m venv DIR` makes a Windows-style venv whose python
# records what it is asked to do.
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/Scripts"
  printf '#!/usr/bin/env bash\\necho "$*" >> "%s"\\n' "$PIP_LOG" > "$3/Scripts/python"
  chmod +x "$3/Scripts/python"
  exit 0
fi
exit 1
"""


def _install(action: dict[str, Any], tmp_path: Path, version: str) -> tuple[str, str]:
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    # A PATH with `python` (as on Windows) and no `python3`, plus the tools the scripts use.
    for tool in ("bash", "env", "mkdir", "chmod"):
        found = shutil.which(tool)
        assert found is not None, tool
        (fake_bin / tool).symlink_to(found)
    python = fake_bin / "python"
    python.write_text(_FAKE_PYTHON, encoding="utf-8")
    python.chmod(0o755)
    log, github_path = tmp_path / "pip.log", tmp_path / "github_path"
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    item = step(action, "Install bnlint")
    env = {
        "PATH": str(fake_bin),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_PATH": str(github_path),
        "PIP_LOG": str(log),
        "BNLINT_VERSION": version,
        "BNLINT_ACTION_PATH": "/actions/bnlint",
    }
    assert set(item["env"]) == {"BNLINT_VERSION", "BNLINT_ACTION_PATH"}
    result = subprocess.run(
        [str(fake_bin / "bash"), "-e", "-c", item["run"]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return log.read_text(encoding="utf-8"), github_path.read_text(encoding="utf-8")


def test_a_released_version_is_installed_from_pypi_not_built(
    action: dict[str, Any], tmp_path: Path
) -> None:
    pip, path = _install(action, tmp_path, "0.1.0")
    assert pip == "-m pip install --quiet bnlint==0.1.0\n"
    assert path == f"{tmp_path / 'runner-temp' / 'bnlint-venv' / 'Scripts'}\n"


def test_without_a_version_the_action_checkout_is_installed(
    action: dict[str, Any], tmp_path: Path
) -> None:
    pip, _ = _install(action, tmp_path, "")
    assert pip == "-m pip install --quiet /actions/bnlint\n"


def test_install_uses_the_version_step_output(action: dict[str, Any]) -> None:
    install = step(action, "Install bnlint")
    assert install["env"]["BNLINT_VERSION"] == "${{ steps.version.outputs.version }}"
    ids = [item.get("id") for item in steps(action)]
    assert ids.index("version") < steps(action).index(install)


def test_lint_runs_before_the_upload_and_a_fork_cannot_fail_the_job(
    action: dict[str, Any],
) -> None:
    names = [item["name"] for item in steps(action)]
    upload_name = "Upload the SARIF report to code scanning"
    assert names.index("Write the SARIF report") < names.index("Lint") < names.index(upload_name)
    upload = step(action, upload_name)
    assert upload["continue-on-error"] is True
    # Wrapped in ${{ }}: a condition that starts with `!` is YAML's tag syntax otherwise.
    assert upload["if"].startswith("${{ ")
    assert upload["if"].endswith(" }}")
    condition = " ".join(upload["if"][4:-3].split())
    # Runs after a failed Lint step too, only when the SARIF step wrote the report, and not
    # for a pull request from a fork (its token cannot write security events).
    assert condition.startswith("!cancelled() && inputs.sarif == 'true'")
    assert "steps.sarif.outcome == 'success'" in condition
    assert (
        "(github.event_name != 'pull_request' || "
        "github.event.pull_request.head.repo.full_name == github.repository)"
    ) in condition


def test_every_run_step_uses_bash_for_windows_runners(action: dict[str, Any]) -> None:
    for item in steps(action):
        if "run" in item:
            assert item["shell"] == "bash", item["name"]
            assert "python3 -m" not in item["run"], "Windows runners have no python3"
