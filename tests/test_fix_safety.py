"""`--fix` loses nothing: a write that fails at any step leaves each file old or new.

test_fixes.py covers what fixes produce, permissions, CRLF and the digest check of
`write_atomic` itself; here: failures at every step of the writer, several files at once,
someone else's edit between bnlint's read and its write (end to end), symlinks, encodings.
"""

from __future__ import annotations

import codecs
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bnlint.check_command
import bnlint.engine.session
import bnlint.fixes

from .cli_helpers import run_bnlint
from .conftest import FIXTURES

SOURCE = (FIXTURES / "fix" / "conv_blocks.py").read_text(encoding="utf-8")
FIXED = (FIXTURES / "fix" / "conv_blocks.fixed.py").read_text(encoding="utf-8")
FIX = ["check", "--fix", "--no-cache", "--exit-zero", "--jobs", "1"]


def _folder(tmp_path: Path, count: int = 1) -> list[Path]:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    scripts = []
    for i in range(count):
        script = tmp_path / f"blocks_{i}.py"
        script.write_text(SOURCE, encoding="utf-8")
        scripts.append(script)
    return scripts


def _safe_fixed() -> str:
    """What `--fix` (safe fixes only) makes of SOURCE."""
    with tempfile.TemporaryDirectory() as folder:
        (script,) = _folder(Path(folder))
        run_bnlint(FIX, Path(folder))
        return script.read_text(encoding="utf-8")


NEW = _safe_fixed()


class _Crash(BaseException):
    """A stop in the middle of a write that no `except Exception` handles: a kill, a signal."""


# The steps of write_atomic that can fail (a full disk, a signal, a kill between two of
# them), each replaced by one that raises.
_STEPS: dict[str, tuple[Any, str]] = {
    "mkstemp": (tempfile, "mkstemp"),
    "fdopen": (os, "fdopen"),
    "fsync": (os, "fsync"),
    "chmod": (os, "chmod"),
    "replace": (os, "replace"),
}


def _failing(original: Callable[..., Any], error: BaseException) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    return fail


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".bnlint"))


def test_the_fix_changes_the_file_at_all() -> None:
    assert NEW != SOURCE


@pytest.mark.parametrize("step", sorted(_STEPS))
@pytest.mark.parametrize(
    "error", [OSError(28, "No space left on device"), _Crash("killed")], ids=["oserror", "crash"]
)
def test_a_write_failing_at_any_step_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, error: BaseException
) -> None:
    (script,) = _folder(tmp_path)
    module, name = _STEPS[step]
    monkeypatch.setattr(module, name, _failing(getattr(module, name), error))
    if isinstance(error, OSError):
        result = run_bnlint(FIX, tmp_path)
        assert result.exit_code == 2
        assert "cannot write blocks_0.py" in result.stderr
    else:
        with pytest.raises(_Crash):
            run_bnlint(FIX, tmp_path)
    monkeypatch.undo()
    assert script.read_text(encoding="utf-8") == SOURCE
    assert _leftovers(tmp_path) == []


def test_a_write_failing_while_writing_bytes_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (script,) = _folder(tmp_path)
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, data: bytes) -> int:
            self.handle.write(data[: len(data) // 2])
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    result = run_bnlint(FIX, tmp_path)
    monkeypatch.undo()
    assert result.exit_code == 2
    assert script.read_text(encoding="utf-8") == SOURCE
    assert _leftovers(tmp_path) == []


def test_a_run_killed_after_some_files_leaves_each_file_old_or_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripts = _folder(tmp_path, count=5)
    real_replace = os.replace
    calls = {"n": 0}

    def replace_then_die(source: Any, target: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise _Crash("killed during the third replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace_then_die)
    with pytest.raises(_Crash):
        run_bnlint(FIX, tmp_path)
    monkeypatch.undo()
    contents = [script.read_text(encoding="utf-8") for script in scripts]
    assert all(text in (SOURCE, NEW) for text in contents)
    assert contents.count(NEW) == 2
    assert _leftovers(tmp_path) == []


def test_one_unwritable_file_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripts = _folder(tmp_path, count=3)
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args: Any, **kwargs: Any) -> Any:
        if str(kwargs.get("prefix", "")).startswith(".blocks_1.py"):
            raise PermissionError(13, "Permission denied")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    result = run_bnlint(FIX, tmp_path)
    monkeypatch.undo()
    assert result.exit_code == 2
    assert "cannot write blocks_1.py: Permission denied" in result.stderr
    texts = [script.read_text(encoding="utf-8") for script in scripts]
    assert texts == [NEW, SOURCE, NEW]


def test_file_edited_between_lint_and_write_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripts = _folder(tmp_path, count=2)
    real_lint_many = bnlint.engine.session.lint_many
    edited = SOURCE + "\n# saved from the editor while bnlint ran\n"

    def lint_then_someone_edits(*args: Any, **kwargs: Any) -> Any:
        results = real_lint_many(*args, **kwargs)
        scripts[0].write_text(edited, encoding="utf-8")
        return results

    monkeypatch.setattr(bnlint.engine.session, "lint_many", lint_then_someone_edits)
    result = run_bnlint(FIX, tmp_path)
    assert result.exit_code == 2
    assert "blocks_0.py changed while bnlint was fixing it; not written" in result.stderr
    assert scripts[0].read_text(encoding="utf-8") == edited
    assert scripts[1].read_text(encoding="utf-8") == NEW


def test_diff_shows_the_text_that_was_linted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (script,) = _folder(tmp_path)
    real_lint_many = bnlint.engine.session.lint_many

    def lint_then_truncate(*args: Any, **kwargs: Any) -> Any:
        results = real_lint_many(*args, **kwargs)
        script.write_text("", encoding="utf-8")
        return results

    monkeypatch.setattr(bnlint.engine.session, "lint_many", lint_then_truncate)
    result = run_bnlint(["check", "--diff", "--no-cache", "--jobs", "1"], tmp_path)
    assert result.exit_code == 1
    removed = [
        line
        for line in result.stdout.splitlines()
        if line.startswith("-") and not line.startswith("---")
    ]
    assert removed
    assert all(line[1:] in SOURCE for line in removed)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_fix_through_a_symlink_fixes_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    _folder(tmp_path)
    real = tmp_path / "real"
    real.mkdir()
    target = real / "model.py"
    target.write_text(SOURCE, encoding="utf-8")
    link = tmp_path / "link.py"
    link.symlink_to(target)
    result = run_bnlint([*FIX, "link.py"], tmp_path)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == NEW
    assert _leftovers(real) == []
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("encode", "name"),
    [
        (lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), "bom"),
        (
            lambda text: ("# -*- coding: latin-1 -*-\n# caf\u00e9\n" + text).encode("latin-1"),
            "latin-1",
        ),
        (lambda text: text.replace("\n", "\r").encode("utf-8"), "cr"),
        (lambda text: text.replace("\n", "\r\n", 3).encode("utf-8"), "mixed"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_fix_keeps_encoding_bom_and_line_endings(
    tmp_path: Path, encode: Callable[[str], bytes], name: str
) -> None:
    (script,) = _folder(tmp_path)
    script.write_bytes(encode(SOURCE))
    result = run_bnlint(FIX, tmp_path)
    assert result.exit_code == 0, result.stderr
    assert script.read_bytes() == encode(NEW)


def test_second_run_after_an_interrupted_one_finishes_the_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripts = _folder(tmp_path, count=3)
    monkeypatch.setattr(os, "replace", _failing(os.replace, _Crash("killed")))
    with pytest.raises(_Crash):
        run_bnlint(FIX, tmp_path)
    monkeypatch.undo()
    result = run_bnlint(FIX, tmp_path)
    assert result.exit_code == 0, result.stderr
    assert [s.read_text(encoding="utf-8") for s in scripts] == [NEW] * 3
    assert _leftovers(tmp_path) == []
