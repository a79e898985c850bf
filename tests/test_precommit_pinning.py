"""The README's tag-free pre-commit instructions, followed as written: `rev: main`, then
`pre-commit autoupdate --bleeding-edge --freeze` pins a commit, and the pinned hook blocks a
buggy file (pre-commit installs bnlint from this repository's committed history)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT
from .test_precommit import PRE_COMMIT, needs_pre_commit

yaml = pytest.importorskip("yaml", reason="PyYAML comes with pre-commit")

README = ROOT / "README.md"
_PUBLIC_URL = "https://github.com/bnlint/bnlint"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def _blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def test_readme_names_no_release_tag() -> None:
    text = README.read_text(encoding="utf-8")
    tags = subprocess.run(
        ["git", "tag"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    for reference in re.findall(r"rev: (\S+)", text) + re.findall(r"bnlint/bnlint@(\S+)", text):
        assert not re.fullmatch(r"v?\d+(\.\d+)*", reference) or reference in tags, reference


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()


@needs_pre_commit
def test_readme_pre_commit_instructions_pin_a_commit_that_blocks_a_bad_file(
    tmp_path: Path,
) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: pre-commit needs bnlint's history")
    assert PRE_COMMIT is not None
    section = _section("pre-commit")
    (config,) = _blocks(section, "yaml")
    (command,) = _blocks(section, "sh")
    # This checkout stands in for the public repository.
    config = config.replace(_PUBLIC_URL, str(ROOT))
    argv = shlex.split(command.strip().replace(_PUBLIC_URL, str(ROOT)))
    assert argv[:2] == ["pre-commit", "autoupdate"]

    repo = tmp_path / "user-project"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "dev@example.com")
    _git(repo, "config", "user.name", "Dev")
    (repo / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    (repo / "bad.py").write_text(
        "def validate(model, loader):\n    model.eval\n    return [model(x) for x in loader]\n",
        encoding="utf-8",
    )
    _git(repo, "add", ".")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    environment["NO_COLOR"] = "1"

    def pre_commit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PRE_COMMIT, *args],
            cwd=repo,
            capture_output=True,
            text=True,
            env=environment,
            timeout=900,
            check=False,
        )

    before = _git(ROOT, "rev-parse", "HEAD")
    updated = pre_commit(*argv[1:])
    after = _git(ROOT, "rev-parse", "HEAD")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    (entry,) = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())["repos"]
    assert re.fullmatch(r"[0-9a-f]{40}", entry["rev"]), entry["rev"]
    assert entry["rev"] in {before, after}

    run = pre_commit("run", "--color", "never", "--files", "bad.py")
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "bad.py:2:5: BN105" in output
