"""Faults around the linting: special files, corrupt cache entries, bugs, a killed command,
huge sparse files, a full disk, symlink loops. None hangs, crashes or leaves files behind.

Commands that could hang on a regression run as subprocesses with a timeout.
"""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

import bnlint.cache
import bnlint.check_command
import bnlint.discovery
from bnlint.analysis.project import build_index, indexable_bytes
from bnlint.cache import TEMPORARY_FOLDER, Cache, cache_version, write_entry
from bnlint.config import FileSettings
from bnlint.discovery import FileTooLarge, NotRegularFile, read_regular
from bnlint.engine.files import MAX_FILE_BYTES, lint_path
from bnlint.engine.workers import exit_with_parent

from .cli_helpers import run_bnlint

FINDING = "import torch.nn as nn\n\nbn = nn.BatchNorm2d(64, momentum=0.9)\n"
SECOND = "import torch.nn as nn\n\nnorm = nn.BatchNorm1d(16, momentum=0.8)\n"
posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / "model.py").write_text(FINDING, encoding="utf-8")
    (tmp_path / "norm.py").write_text(SECOND, encoding="utf-8")
    return tmp_path


def _bnlint(
    cwd: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`bnlint ARGS` in a process of its own: a regression that blocks fails the test
    after `timeout` instead of hanging the suite."""
    environment = {**os.environ, **(env or {})}
    environment.pop("BNLINT_CACHE_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "bnlint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
    )


def _files(report: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in json.loads(report):
        found.setdefault(item["filename"], []).append(item["code"])
    return found


# --- item: FIFOs, sockets and devices ------------------------------------------------------


@posix_only
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fifo_in_a_folder_is_skipped_with_a_warning(project: Path, jobs: str) -> None:
    os.mkfifo(project / "pipe.py")
    for number in range(4):  # enough files for worker processes with --jobs 2
        (project / f"copy_{number}.py").write_text(FINDING, encoding="utf-8")
    run = _bnlint(
        project, "check", "--no-cache", "--format", "json", "--jobs", jobs, ".", timeout=60
    )
    assert run.returncode == 1, run.stderr
    found = _files(run.stdout)
    assert "pipe.py" not in found
    assert found["model.py"] == ["BN401"]
    assert found["copy_3.py"] == ["BN401"]
    assert "warning: pipe.py: a FIFO (named pipe), not a regular file; skipped" in run.stderr
    assert "Traceback" not in run.stderr


@posix_only
def test_fifo_named_directly_exits_2_with_a_message(project: Path) -> None:
    os.mkfifo(project / "pipe.py")
    for args in (["pipe.py"], ["model.py", "pipe.py"], ["--show-files", "pipe.py"]):
        run = _bnlint(project, "check", "--no-cache", *args, timeout=60)
        assert run.returncode == 2, (args, run.stderr)
        assert "path `pipe.py` is a FIFO (named pipe), not a regular file" in run.stderr
        assert "Traceback" not in run.stderr


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="needs unix sockets")
def test_socket_is_refused_named_and_skipped_in_a_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)  # a relative name keeps under the socket path length limit
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind("sock.py")
        named = _bnlint(project, "check", "--no-cache", "sock.py", timeout=60)
        walked = _bnlint(project, "check", "--no-cache", "--format", "json", ".", timeout=60)
    finally:
        server.close()
    assert named.returncode == 2
    assert "path `sock.py` is a socket, not a regular file" in named.stderr
    assert walked.returncode == 1, walked.stderr
    assert "sock.py" not in _files(walked.stdout)
    assert "warning: sock.py: a socket, not a regular file; skipped" in walked.stderr


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_device_linked_into_a_folder_is_skipped(project: Path) -> None:
    # /dev/zero would never end; /dev/null shows the same refusal without the risk.
    os.symlink("/dev/null", project / "device.py")
    run = _bnlint(project, "check", "--no-cache", "--format", "json", ".", timeout=60)
    assert run.returncode == 1, run.stderr
    assert "warning: device.py: a character device, not a regular file; skipped" in run.stderr
    named = _bnlint(project, "check", "--no-cache", "device.py", timeout=60)
    assert named.returncode == 2
    assert "is a character device, not a regular file" in named.stderr


TRAINING_WITH_CONFIG = (
    "import torch, torchvision, yaml\nfrom torch.utils.data import DataLoader\n"
    "cfg = yaml.safe_load(open('config.yaml'))\nmodel = torchvision.models.resnet50()\n"
    "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
    "train_loader = DataLoader(train_set, batch_size=cfg['data']['batch_size'])\n"
)


@posix_only
def test_config_file_that_is_a_fifo_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(TRAINING_WITH_CONFIG, encoding="utf-8")
    (tmp_path / "config.yaml").write_text("data:\n  batch_size: 2\n", encoding="utf-8")
    args = ("check", "--no-cache", "--select", "BN301", "--format", "json", "train.py")
    regular = _bnlint(tmp_path, *args, timeout=60)
    assert "config.yaml" in regular.stdout, "the batch size is read from the config file"
    (tmp_path / "config.yaml").unlink()
    os.mkfifo(tmp_path / "config.yaml")
    fifo = _bnlint(tmp_path, *args, timeout=60)
    assert fifo.returncode in (0, 1), fifo.stderr
    assert "config.yaml" not in fifo.stdout


def _in_thread(call: Any, timeout: float = 10) -> Any:
    """Run `call` in a daemon thread; fail (not hang) if it blocks."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "blocked"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@posix_only
def test_reader_refuses_a_fifo_swapped_in_after_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    regular = tmp_path / "regular.py"
    regular.write_text("x = 1\n", encoding="utf-8")
    pipe = tmp_path / "pipe.py"
    os.mkfifo(pipe)
    real_stat = os.stat
    # The first look at the path sees a regular file; by the open it is a FIFO.
    monkeypatch.setattr(
        bnlint.discovery.os,
        "stat",
        lambda path, *a, **k: real_stat(regular if Path(path) == pipe else path, *a, **k),
    )
    with pytest.raises(NotRegularFile, match="FIFO"):
        _in_thread(lambda: read_regular(pipe, 1000))
    monkeypatch.undo()
    result = _in_thread(lambda: lint_path(pipe, "pipe.py", _settings()))
    assert result.notice == "a FIFO (named pipe), not a regular file; skipped"
    assert result.findings == []
    assert result.error is None
    assert _in_thread(lambda: indexable_bytes(pipe)) is None


# --- item: corrupt cache entries, and bugs outside the per-file linting ------------------


def _entries(project: Path) -> list[Path]:
    folder = project / ".bnlint_cache" / cache_version()
    return [
        path
        for path in folder.glob("*/*.json")
        if path.parent.name not in ("project-index", TEMPORARY_FOLDER)
    ]


def _corruptions(valid: str) -> Iterator[tuple[str, str]]:
    entry = json.loads(valid)
    finding = entry["findings"][0]
    yield "finding not an object", json.dumps({"findings": [1]})
    yield "findings not a list", json.dumps({"findings": "BN401"})
    yield "entry a list", "[]"
    yield "deep nesting", "[" * 100_000 + "]" * 100_000
    yield (
        "deep nesting in a finding",
        json.dumps({"findings": []})[:-1] + (', "x": ' + "[" * 50_000 + "]" * 50_000 + "}"),
    )
    yield "row 1e999", valid.replace('"row": ', '"row": 1e999, "was": ', 1)
    yield "row negative", valid.replace('"row": ', '"row": -5, "was": ', 1)
    yield "row a string", valid.replace('"row": ', '"row": "1", "was": ', 1)
    yield "count true", json.dumps({**entry, "findings": [{**finding, "count": True}]})
    yield "unknown severity", json.dumps({**entry, "findings": [{**finding, "severity": "x"}]})
    yield (
        "fix without edits",
        json.dumps(
            {**entry, "findings": [{**finding, "fix": {"applicability": "safe", "message": "m"}}]}
        ),
    )
    yield "related not a list", json.dumps({**entry, "findings": [{**finding, "related": 3}]})
    yield "notice a number", json.dumps({**entry, "notice": 5})
    yield "dependencies a list", json.dumps({**entry, "dependencies": ["a"]})
    yield "dependency digest a number", json.dumps({**entry, "dependencies": {"a": 1}})
    yield "not utf-8", "\udcff"
    yield "nan", valid.replace('"row": ', '"row": NaN, "was": ', 1)


def test_corrupt_cache_entries_are_rebuilt_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / "model.py").write_text(FINDING, encoding="utf-8")
    args = ["check", "--format", "json", "model.py"]
    first = run_bnlint(args, tmp_path)
    assert first.exit_code == 1
    expected = json.loads(first.stdout)
    [entry] = _entries(tmp_path)
    valid = entry.read_text(encoding="utf-8")
    assert json.loads(valid)["findings"], "the entry holds the finding"
    for name, corrupt in _corruptions(valid):
        entry.write_bytes(corrupt.encode("utf-8", "surrogateescape"))
        again = run_bnlint(args, tmp_path)
        assert again.exit_code == 1, (name, again.stderr)
        assert json.loads(again.stdout) == expected, name
        assert "error" not in again.stderr, name
        # Linted afresh and written back whole.
        assert json.loads(entry.read_text(encoding="utf-8")) == json.loads(valid), name


def test_cache_get_is_a_miss_for_every_corruption(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache", "key")
    assert cache is not None
    data = FINDING.encode()
    result = lint_path(_write(tmp_path / "model.py", FINDING), "model.py", _settings())
    cache.put("model.py", data, result.findings, None)
    got = cache.get("model.py", data)
    assert got is not None
    assert got[0] == result.findings
    entry = cache._entry("model.py", data)
    valid = entry.read_text(encoding="utf-8")
    for name, corrupt in _corruptions(valid):
        entry.write_bytes(corrupt.encode("utf-8", "surrogateescape"))
        assert cache.get("model.py", data) is None, name


@posix_only
def test_cache_entry_or_dependency_that_is_a_fifo_is_a_miss(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache", "key")
    assert cache is not None
    data = FINDING.encode()
    config = tmp_path / "config.yaml"
    config.write_text("batch_size: 2\n", encoding="utf-8")
    cache.put("model.py", data, [], None, {str(config): Cache.digest_of(config)})
    assert cache.get("model.py", data) == ([], None)
    config.unlink()
    os.mkfifo(config)
    assert _in_thread(lambda: Cache.digest_of(config)) is None
    assert _in_thread(lambda: cache.get("model.py", data)) is None
    entry = cache._entry("model.py", data)
    entry.unlink()
    os.mkfifo(entry)
    assert _in_thread(lambda: cache.get("model.py", data)) is None


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _settings() -> FileSettings:
    return FileSettings(enabled=frozenset({"BN401"}))


def test_a_bug_outside_file_linting_exits_2_as_an_internal_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(bnlint.check_command, "_render", broken)
    quiet = run_bnlint(["check", "--no-cache", "."], project)
    assert quiet.exit_code == 2
    assert "error: internal error: RuntimeError: renderer exploded" in quiet.stderr
    assert "--verbose" in quiet.stderr
    assert "Traceback" not in quiet.stderr
    verbose = run_bnlint(["check", "--no-cache", "--verbose", "."], project)
    assert verbose.exit_code == 2
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "renderer exploded" in verbose.stderr


def test_a_bug_in_clean_exits_2(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(folder: Path) -> bool:
        raise AttributeError("no such thing")

    monkeypatch.setattr(bnlint.check_command, "remove_cache", broken)
    result = run_bnlint(["clean"], project)
    assert result.exit_code == 2
    assert "internal error: AttributeError: no such thing" in result.stderr


def test_a_crashed_worker_process_exits_2(project: Path) -> None:
    # A worker dying outright (out of memory, a crash in native code) breaks the pool.
    for number in range(6):
        (project / f"copy_{number}.py").write_text(FINDING, encoding="utf-8")
    crash = (
        "import os, runpy, sys\n"
        "import bnlint.engine.workers as w\n"
        "def dying(*args, **kwargs):\n"
        "    os._exit(9)\n"
        "w._run_job = dying\n"
        "sys.argv = ['bnlint', 'check', '--no-cache', '--jobs', '2', '.']\n"
        "runpy.run_module('bnlint', run_name='__main__')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", crash],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    assert "internal error: BrokenProcessPool" in run.stderr
    assert "Traceback" not in run.stderr


# --- item: workers die with the command ----------------------------------------------------


def _children(parent: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's zombie waits for a reaper that may not come)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            state = handle.read().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_the_command_ends_its_workers(tmp_path: Path) -> None:
    # Enough work that the workers, left alone, would lint for minutes.
    body = "".join(
        f"class Block{n}(nn.Module):\n"
        f"    def __init__(self):\n"
        f"        super().__init__()\n"
        f"        self.bn = nn.BatchNorm2d({n + 1}, momentum=0.9)\n"
        f"    def forward(self, x):\n"
        f"        return self.bn(x) + {n}\n\n"
        for n in range(400)
    )
    for number in range(200):
        (tmp_path / f"module_{number}.py").write_text(
            "import torch.nn as nn\n\n" + body, encoding="utf-8"
        )
    command = subprocess.Popen(
        [sys.executable, "-m", "bnlint", "check", "--no-cache", "--jobs", "2", "."],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2:
            workers = {pid for pid in _children(command.pid) if _alive(pid)}
            time.sleep(0.1)
        assert len(workers) >= 2, "no worker processes started"
        time.sleep(1)  # let them take their first files
        os.kill(command.pid, signal.SIGKILL)
        command.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.1)
        left = [pid for pid in workers if _alive(pid)]
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
    for pid in left:  # clean up after a failure
        os.kill(pid, signal.SIGKILL)
    assert not left, f"workers {left} outlived the killed command"


def _square(number: int) -> int:
    return number * number


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_workers_watching_the_command_run_under_every_start_method(method: str) -> None:
    # Under forkserver (Python 3.14's default on Linux) a worker's parent is the fork
    # server, not the command: that must not read as the command having died.
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} here")
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(
        2, mp_context=context, initializer=exit_with_parent, initargs=(os.getpid(),)
    ) as pool:
        assert list(pool.map(_square, range(8))) == [n * n for n in range(8)]


def test_a_worker_whose_command_is_gone_exits_at_once() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with (
        ProcessPoolExecutor(1, initializer=exit_with_parent, initargs=(dead.pid,)) as pool,
        pytest.raises(BrokenProcessPool),
    ):
        pool.submit(_square, 3).result(timeout=60)


# --- item: huge sparse files are never read ------------------------------------------------

GIGABYTE = 1 << 30


def _sparse(path: Path, size: int = GIGABYTE) -> Path:
    with open(path, "wb") as handle:
        handle.write(b"import torch\n")
        handle.truncate(size)
    return path


def test_sparse_gigabyte_file_is_skipped_unread(tmp_path: Path) -> None:
    huge = _sparse(tmp_path / "huge.py")
    tracemalloc.start()
    try:
        result = lint_path(huge, "huge.py", _settings())
        index_data = indexable_bytes(huge)
        index = build_index([(huge, "huge.py")])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.notice == "larger than the 5 MB bnlint analyses; skipped"
    assert index_data is None
    assert not index.digests
    assert peak < 20_000_000, f"{peak} bytes allocated"
    with pytest.raises(FileTooLarge):
        read_regular(huge, MAX_FILE_BYTES)


def test_sparse_notebook_is_skipped_unread(tmp_path: Path) -> None:
    huge = _sparse(tmp_path / "huge.ipynb")
    tracemalloc.start()
    try:
        result = lint_path(huge, "huge.ipynb", _settings())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.notice is not None
    assert "notebook larger than" in result.notice
    assert peak < 20_000_000


def test_sparse_gigabyte_file_in_a_run_keeps_memory_low(project: Path) -> None:
    _sparse(project / "huge.py")
    # The peak memory of the command alone: a fresh process waits for it.
    measure = (
        "import resource, subprocess, sys\n"
        "run = subprocess.run([sys.executable, '-m', 'bnlint', 'check', '--no-cache',"
        " '--format', 'json', '.'], capture_output=True, text=True)\n"
        "sys.stderr.write(run.stderr)\n"
        "print(run.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", measure], cwd=project, capture_output=True, text=True, timeout=300
    )
    code, peak_kib = (int(part) for part in run.stdout.split())
    assert code == 1, run.stderr
    assert "huge.py: larger than the 5 MB bnlint analyses; skipped" in run.stderr
    assert peak_kib < 400_000, f"peak {peak_kib} KiB"


# --- item: a full disk leaves no temporary files in the cache ------------------------------


def _full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write to a temporary file fails as on a full disk."""
    real_write = os.write

    def write(descriptor: int, data: Any) -> int:
        target = os.readlink(f"/proc/self/fd/{descriptor}")
        if target.endswith(".tmp"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(descriptor, data)

    monkeypatch.setattr(os, "write", write)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")
def test_full_disk_leaves_no_temporary_files(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(30):
        (project / f"copy_{number}.py").write_text(FINDING, encoding="utf-8")
    _full_disk(monkeypatch)
    full = run_bnlint(["check", "--format", "json", "--jobs", "1", "."], project)
    assert full.exit_code == 1, full.stderr
    assert len(_files(full.stdout)) == 32
    cache = project / ".bnlint_cache"
    assert cache.is_dir()
    assert sorted(cache.rglob("*.tmp")) == []
    assert _entries(project) == []  # nothing written, nothing half-written
    monkeypatch.undo()
    again = run_bnlint(["check", "--format", "json", "--jobs", "1", "."], project)
    assert json.loads(again.stdout) == json.loads(full.stdout)
    assert len(_entries(project)) == 32


def test_failed_write_removes_its_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = tmp_path / "version" / "key" / "entry.json"
    entry.parent.mkdir(parents=True)

    def no_space(descriptor: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", no_space)
    assert write_entry(entry, "{}") is False
    monkeypatch.undo()
    assert not entry.exists()
    assert list((tmp_path / "version" / TEMPORARY_FOLDER).iterdir()) == []
    assert write_entry(entry, '{"findings": []}') is True
    assert json.loads(entry.read_text(encoding="utf-8")) == {"findings": []}


def test_next_run_removes_stale_temporary_files(project: Path) -> None:
    first = run_bnlint(["check", "."], project)
    assert first.exit_code == 1
    scratch = project / ".bnlint_cache" / cache_version() / TEMPORARY_FOLDER
    scratch.mkdir(exist_ok=True)
    stale = [scratch / f"left{number}.tmp" for number in range(3)]
    for path in stale:
        path.write_bytes(b"")
        os.utime(path, (time.time() - 600, time.time() - 600))
    fresh = scratch / "another_run_writing.tmp"
    fresh.write_bytes(b"")
    bnlint.cache._SWEPT.clear()  # the in-process runs share the module
    again = run_bnlint(["check", "."], project)
    assert again.exit_code == 1
    assert not any(path.exists() for path in stale)
    assert fresh.exists(), "a temporary file a live run may be writing is kept"


# --- item: symlink loops named directly ----------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_self_symlink_named_directly_is_a_symlink_loop(project: Path) -> None:
    os.symlink("self.py", project / "self.py")
    result = run_bnlint(["check", "--no-cache", "self.py"], project)
    assert result.exit_code == 2
    assert "path `self.py` is a symlink loop" in result.stderr
    assert "does not exist" not in result.stderr
    shown = run_bnlint(["check", "--show-files", "self.py"], project)
    assert shown.exit_code == 2
    assert "symlink loop" in shown.stderr


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_dangling_symlink_and_missing_path_named_directly(project: Path) -> None:
    os.symlink("nowhere.py", project / "dangling.py")
    dangling = run_bnlint(["check", "--no-cache", "dangling.py"], project)
    assert dangling.exit_code == 2
    assert "path `dangling.py` is a broken symbolic link" in dangling.stderr
    missing = run_bnlint(["check", "--no-cache", "absent.py"], project)
    assert missing.exit_code == 2
    assert "path `absent.py` does not exist" in missing.stderr


def test_regular_files_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "plain.py"
    path.write_bytes(b"x = 1\n" * 1000)
    assert read_regular(path, 6000) == b"x = 1\n" * 1000
    with pytest.raises(FileTooLarge):
        read_regular(path, 5999)
    with pytest.raises(IsADirectoryError):
        read_regular(tmp_path, 6000)
    assert stat.S_ISREG(os.stat(path).st_mode)
