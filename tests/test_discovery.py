"""Paths -> files: .gitignore, default folders, excludes, and files named directly."""

from __future__ import annotations

from pathlib import Path

import pytest

from bnlint.config import CliOverrides, ConfigResolver
from bnlint.discovery import DEFAULT_EXCLUDED_DIRS, MissingPath, discover

from .cli_helpers import run_bnlint, working_directory

BAD_MODE = "def validate(model):\n    model.eval\n"


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BAD_MODE, encoding="utf-8")


def _found(root: Path, *arguments: str) -> list[str]:
    (root / "pyproject.toml").touch()
    with working_directory(root):
        resolver = ConfigResolver(CliOverrides())
        return [item.display for item in discover(list(arguments) or ["."], resolver)]


def test_python_stub_and_notebook_files_are_found_and_nothing_else(tmp_path: Path) -> None:
    _touch(tmp_path, "train.py", "model.pyi", "explore.ipynb", "notes.txt", "cache.pyc", "py")
    assert _found(tmp_path) == ["explore.ipynb", "model.pyi", "train.py"]


def test_order_is_deterministic_and_each_file_once(tmp_path: Path) -> None:
    _touch(tmp_path, "b.py", "a.py", "pkg/z.py", "pkg/c.py")
    assert _found(tmp_path, ".", "a.py", "pkg") == ["a.py", "b.py", "pkg/c.py", "pkg/z.py"]


def test_display_names_join_the_argument_and_the_path_below_it(tmp_path: Path) -> None:
    _touch(tmp_path, "src/pkg/train.py")
    assert _found(tmp_path, "src") == ["src/pkg/train.py"]
    assert _found(tmp_path, "src/") == ["src/pkg/train.py"]
    assert _found(tmp_path, "src/pkg/train.py") == ["src/pkg/train.py"]


def test_gitignore_patterns_skip_walked_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("generated/\n*_pb2.py\n/scratch.py\n", encoding="utf-8")
    _touch(
        tmp_path,
        "generated/model.py",
        "src/generated/deep.py",
        "src/messages_pb2.py",
        "scratch.py",
        "src/scratch.py",
        "src/train.py",
    )
    assert _found(tmp_path) == ["src/scratch.py", "src/train.py"]


def test_nested_gitignore_is_relative_to_its_folder(tmp_path: Path) -> None:
    (tmp_path / "src" / "vendor").mkdir(parents=True)
    (tmp_path / "src" / ".gitignore").write_text("/vendor/\n", encoding="utf-8")
    _touch(tmp_path, "src/vendor/lib.py", "vendor/mine.py", "src/train.py")
    assert _found(tmp_path) == ["src/train.py", "vendor/mine.py"]


def test_gitignore_negation_keeps_a_file(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text(
        "experiments/*.py\n!experiments/keep.py\n", encoding="utf-8"
    )
    _touch(tmp_path, "experiments/run1.py", "experiments/keep.py")
    assert _found(tmp_path) == ["experiments/keep.py"]


@pytest.mark.parametrize(
    "folder",
    [
        ".git",
        ".venv",
        "venv",
        "build",
        "dist",
        "__pycache__",
        "node_modules",
        ".tox",
        ".mypy_cache",
    ],
)
def test_default_excluded_folders_are_skipped(tmp_path: Path, folder: str) -> None:
    assert folder in DEFAULT_EXCLUDED_DIRS
    _touch(tmp_path, f"{folder}/x.py", f"src/{folder}/y.py", "src/train.py")
    assert _found(tmp_path) == ["src/train.py"]


def test_egg_info_folders_are_skipped(tmp_path: Path) -> None:
    _touch(tmp_path, "bnlint_demo.egg-info/x.py", "train.py")
    assert _found(tmp_path) == ["train.py"]


def test_files_named_directly_are_linted_even_if_excluded(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("generated/\n", encoding="utf-8")
    _touch(tmp_path, "generated/model.py", "build/setup_helpers.py", ".venv/site.py")
    named = ["generated/model.py", "build/setup_helpers.py", ".venv/site.py"]
    assert _found(tmp_path, *named) == named


def test_folder_named_directly_is_walked_even_if_its_name_is_excluded(tmp_path: Path) -> None:
    _touch(tmp_path, "build/gen.py", "build/__pycache__/skip.py")
    assert _found(tmp_path, "build") == ["build/gen.py"]


def test_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(MissingPath, match=r"nope\.py"):
        _found(tmp_path, "nope.py")


def test_stub_file_is_linted(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / "model.pyi").write_text(
        "import torch.nn as nn\nbn: nn.BatchNorm2d = nn.BatchNorm2d(8, momentum=0.99)\n",
        encoding="utf-8",
    )
    result = run_bnlint(["check", "--format", "concise", "."], tmp_path)
    assert result.exit_code == 1
    assert result.stdout.startswith("model.pyi:2:")
    assert " BN401 " in result.stdout


def test_gitignored_file_is_not_linted_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / ".gitignore").write_text("wandb/\n", encoding="utf-8")
    _touch(tmp_path, "wandb/run/files/code/train.py")
    assert run_bnlint(["check", "."], tmp_path).exit_code == 0
    assert run_bnlint(["check", "wandb/run/files/code/train.py"], tmp_path).exit_code == 1


def test_no_python_files_is_a_warning_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("# nothing here\n", encoding="utf-8")
    result = run_bnlint(["check", "."], tmp_path)
    assert result.exit_code == 0
    assert "no Python files" in result.stderr
