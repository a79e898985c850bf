"""`bnlint check --watch`: a real watcher process, a real file change, a real Ctrl-C."""

from __future__ import annotations

import io
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from bnlint.watch import change_filter, watched_roots
from tests.cli_helpers import run_bnlint

CLEAN = (
    "import torch\n\n\ndef validate(model, loader):\n    model.eval()\n    return model(loader)\n"
)
BAD = CLEAN.replace("model.eval()", "model.eval")
# Starting Python, the first lint and watchfiles' debounce (1.6 s) on a busy machine.
_TIMEOUT = 60.0

pytest.importorskip("watchfiles")


class Watcher:
    """`bnlint check --watch` in a subprocess, its merged output read line by line."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bnlint", "check", "--watch", "--no-cache", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1"},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        for line in iter(stream.readline, b""):
            self.lines.put(line.decode("utf-8", errors="replace"))

    def wait_for(self, text: str) -> list[str]:
        """The lines up to and including the first one containing `text`."""
        deadline = time.monotonic() + _TIMEOUT
        got: list[str] = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            got.append(line)
            self.seen.append(line)
            if text in line:
                return got
        self.stop()
        raise AssertionError(f"no line with {text!r}; output so far:\n{''.join(self.seen)}")

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=_TIMEOUT)
        finally:
            self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT stands for Ctrl-C on POSIX only")
def test_watch_lints_again_after_a_change_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    (tmp_path / "validate.py").write_text(CLEAN, encoding="utf-8")
    watcher = Watcher(tmp_path, ".")
    try:
        first = watcher.wait_for("(Ctrl-C stops)")
        assert any("All checks passed!" in line for line in first)
        # An unrelated file type changes nothing.
        (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
        (tmp_path / "validate.py").write_text(BAD, encoding="utf-8")
        second = watcher.wait_for("(Ctrl-C stops)")
        assert any("validate.py changed; linting again" in line for line in second)
        assert any("validate.py:5:5: BN105" in line for line in second)
        assert not any("notes.txt" in line for line in second)
        (tmp_path / "validate.py").write_text(CLEAN, encoding="utf-8")
        third = watcher.wait_for("(Ctrl-C stops)")
        assert any("All checks passed!" in line for line in third)
        status = watcher.interrupt()
    finally:
        watcher.stop()
    output = "".join(watcher.seen) + "".join(iter_queue(watcher.lines))
    assert status == 0
    assert "Traceback" not in output
    assert "Aborted" not in output
    # Not a terminal: every run's output stays, no screen clearing.
    assert "\x1b[2J" not in output


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT stands for Ctrl-C on POSIX only")
def test_a_configuration_change_lints_again(tmp_path: Path) -> None:
    (tmp_path / "validate.py").write_text(BAD, encoding="utf-8")
    watcher = Watcher(tmp_path, "validate.py")
    try:
        first = watcher.wait_for("(Ctrl-C stops)")
        assert any("BN105" in line for line in first)
        (tmp_path / "pyproject.toml").write_text(
            '[tool.bnlint]\nignore = ["BN105"]\n', encoding="utf-8"
        )
        second = watcher.wait_for("(Ctrl-C stops)")
        assert any("pyproject.toml changed" in line for line in second)
        assert any("All checks passed!" in line for line in second)
        assert watcher.interrupt() == 0
    finally:
        watcher.stop()


def iter_queue(lines: queue.Queue[str]) -> list[str]:
    out = []
    while not lines.empty():
        out.append(lines.get())
    return out


def test_watch_without_watchfiles_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "watchfiles", None)
    result = run_bnlint(["check", "--watch", "."], tmp_path)
    assert result.exit_code == 2
    assert 'pip install "bnlint[watch]"' in result.stderr


def test_watch_refuses_standard_input_and_missing_paths(tmp_path: Path) -> None:
    result = run_bnlint(["check", "--watch", "-"], tmp_path)
    assert result.exit_code == 2
    assert "cannot watch standard input" in result.stderr
    result = run_bnlint(["check", "--watch", "nowhere.py"], tmp_path)
    assert result.exit_code == 2
    assert "path `nowhere.py` does not exist" in result.stderr
    # ruff's short name works too.
    result = run_bnlint(["check", "-w", "-"], tmp_path)
    assert result.exit_code == 2
    assert "cannot watch standard input" in result.stderr


def test_only_sources_notebooks_and_configuration_start_a_run(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "one.py").write_text("", encoding="utf-8")
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        relevant = change_filter(
            ["src", "one.py"], lambda change, name: ".bnlint_cache" not in name
        )
        assert relevant(None, str(tmp_path / "src" / "deep" / "a.py"))
        assert relevant(None, str(tmp_path / "src" / "book.ipynb"))
        assert relevant(None, str(tmp_path / "one.py"))
        assert relevant(None, str(tmp_path / "pyproject.toml"))
        assert relevant(None, str(tmp_path / "bnlint.toml"))
        assert not relevant(None, str(tmp_path / "two.py"))  # a file that was not named
        assert not relevant(None, str(tmp_path / "src" / "data.csv"))
        assert not relevant(None, str(tmp_path / ".bnlint_cache" / "0.1.0" / "x.py"))
        assert watched_roots(["src", "one.py", "src/../src"]) == [tmp_path.absolute()]
    finally:
        os.chdir(cwd)


def test_the_screen_is_cleared_only_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bnlint import watch

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    calls: list[dict[str, object]] = []
    monkeypatch.setattr("bnlint.check_command.run_check", lambda **o: calls.append(o) or 0)
    terminal, pipe = Terminal(), io.StringIO()
    watch._lint({"paths": ("a.py",)}, terminal, changed=[str(tmp_path / "a.py")])
    watch._lint({"paths": ("a.py",)}, pipe, changed=[])
    assert terminal.getvalue().startswith("\x1b[2J")
    assert pipe.getvalue() == ""
    assert calls == [{"paths": ("a.py",)}, {"paths": ("a.py",)}]


def test_ctrl_c_during_a_run_ends_the_watch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import watchfiles

    from bnlint.engine.status import ExitStatus
    from bnlint.watch import watch_check

    ticks: list[int] = []

    def fake_watch(*paths: object, **options: object) -> Iterator[set[object]]:
        while len(ticks) < 100:
            ticks.append(1)
            yield set()

    monkeypatch.setattr(watchfiles, "watch", fake_watch)
    # The check caught Ctrl-C itself and says so with its exit status.
    monkeypatch.setattr("bnlint.check_command.run_check", lambda **options: ExitStatus.INTERRUPTED)
    monkeypatch.chdir(tmp_path)
    assert watch_check({"paths": (".",)}) == ExitStatus.CLEAN
    assert len(ticks) == 1  # the set-up tick only: no second run, no waiting for changes
