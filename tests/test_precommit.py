"""The shipped pre-commit hook, run for real with `pre-commit try-repo` in a fresh git
repository (pre-commit installs bnlint from this repository's committed HEAD)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT

yaml = pytest.importorskip("yaml", reason="PyYAML comes with pre-commit")


def _pre_commit() -> str | None:
    beside_python = Path(sys.executable).parent / "pre-commit"
    return str(beside_python) if beside_python.exists() else shutil.which("pre-commit")


PRE_COMMIT = _pre_commit()
needs_pre_commit = pytest.mark.skipif(
    PRE_COMMIT is None or shutil.which("git") is None,
    reason="needs the pre-commit and git executables",
)


def _git(cwd: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    )
    return completed.stdout.strip()


def _committed_head() -> str:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: try-repo needs a commit of bnlint")
    return _git(ROOT, "rev-parse", "HEAD")


@pytest.fixture
def user_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "user-project"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "dev@example.com")
    _git(repo, "config", "user.name", "Dev")
    return repo


def _try_repo(repo: Path, *files: str) -> subprocess.CompletedProcess[str]:
    assert PRE_COMMIT is not None
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    environment["NO_COLOR"] = "1"
    return subprocess.run(
        [
            PRE_COMMIT,
            "try-repo",
            str(ROOT),
            "bnlint",
            "--ref",
            _committed_head(),
            "--color",
            "never",
            "--files",
            *files,
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        env=environment,
        timeout=900,
        check=False,
    )


def _hooks(path: Path) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    hooks = data if isinstance(data, list) else [h for repo in data["repos"] for h in repo["hooks"]]
    return {hook["id"]: hook for hook in hooks}


def test_shipped_hook_definition() -> None:
    hook = _hooks(ROOT / ".pre-commit-hooks.yaml")["bnlint"]
    # pre-commit names every staged file: only --force-exclude keeps `exclude` in force.
    assert hook["entry"] == "bnlint check --force-exclude"
    assert hook["language"] == "python"
    assert set(hook["types_or"]) == {"python", "pyi", "jupyter"}


def test_own_config_runs_the_shipped_hook_on_bnlint() -> None:
    shipped = _hooks(ROOT / ".pre-commit-hooks.yaml")["bnlint"]
    own = _hooks(ROOT / ".pre-commit-config.yaml")
    assert {"ruff", "ruff-format", "mypy", "bnlint"} <= own.keys()
    assert own["bnlint"]["entry"] == shipped["entry"]
    assert own["bnlint"]["types_or"] == shipped["types_or"]
    assert own["bnlint"]["files"] == "^bnlint/"


@needs_pre_commit
def test_hook_fails_on_a_staged_buggy_file_and_passes_on_a_clean_one(user_repo: Path) -> None:
    (user_repo / "bad.py").write_text(
        "def validate(model, loader):\n    model.eval\n    return [model(x) for x in loader]\n",
        encoding="utf-8",
    )
    (user_repo / "good.py").write_text(
        "def validate(model, loader):\n    model.eval()\n    return [model(x) for x in loader]\n",
        encoding="utf-8",
    )
    _git(user_repo, "add", "bad.py", "good.py")

    failing = _try_repo(user_repo, "bad.py")
    output = failing.stdout + failing.stderr
    assert failing.returncode == 1, output
    assert "bnlint" in output
    assert "Failed" in output
    assert "bad.py:2:5: BN105" in output

    passing = _try_repo(user_repo, "good.py")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout


@needs_pre_commit
def test_hook_skips_a_staged_file_the_configuration_excludes(user_repo: Path) -> None:
    buggy = "def validate(model, loader):\n    model.eval\n    return [model(x) for x in loader]\n"
    (user_repo / "pyproject.toml").write_text(
        '[tool.bnlint]\nextend-exclude = ["generated/"]\n', encoding="utf-8"
    )
    (user_repo / "generated").mkdir()
    (user_repo / "generated" / "model_pb.py").write_text(buggy, encoding="utf-8")
    (user_repo / "own.py").write_text(buggy, encoding="utf-8")
    _git(user_repo, "add", "pyproject.toml", "generated/model_pb.py", "own.py")

    excluded = _try_repo(user_repo, "generated/model_pb.py")
    assert excluded.returncode == 0, excluded.stdout + excluded.stderr
    assert "BN105" not in excluded.stdout + excluded.stderr

    # The same bug in a file the configuration does not exclude still blocks the commit.
    both = _try_repo(user_repo, "generated/model_pb.py", "own.py")
    output = both.stdout + both.stderr
    assert both.returncode == 1, output
    assert "own.py:2:5: BN105" in output
    assert "model_pb.py" not in output
