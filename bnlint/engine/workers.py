"""Many files at once: worker processes for linting and for the project index."""

from __future__ import annotations

import ctypes
import errno
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, InvalidStateError, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bnlint.cache import Cache
from bnlint.config import FileSettings
from bnlint.engine.files import lint_path
from bnlint.engine.results import FileResult, LintOptions

if TYPE_CHECKING:
    from bnlint.analysis.project import ProjectIndex


@dataclass(frozen=True)
class Job:
    path: Path
    filename: str
    settings: FileSettings
    cache: Cache | None = None


# The run's project index in a worker process (set once by the pool's initializer).
_WORKER_PROJECT: ProjectIndex | None = None


def _start_worker(command: int, project: ProjectIndex | None = None) -> None:
    global _WORKER_PROJECT
    _WORKER_PROJECT = project
    # Ctrl-C is the command's to handle: a worker would print its own traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(command)
    tune_gc()


# prctl(2) option: the signal the kernel sends this process when its parent dies.
_PR_SET_PDEATHSIG = 1
# How often a worker without prctl looks for its parent.
_PARENT_POLL_SECONDS = 1.0


def exit_with_parent(command: int) -> None:
    """End this worker process when `command` (the bnlint command's pid) dies, even by
    `kill -9`.

    The pool would stop its workers on a normal exit, but a killed command leaves them
    linting a queue no one reads, holding memory, for as long as the queue lasts. On Linux
    the kernel kills the worker when its parent dies (PR_SET_PDEATHSIG); elsewhere a thread
    watches the parent. The parent is the command itself (fork, spawn) or its fork server
    (forkserver, Python 3.14's default on Linux), which exits when the command does.
    """
    starter = os.getppid()
    if not (sys.platform.startswith("linux") and _set_parent_death_signal()):
        threading.Thread(target=_watch_parent, args=(starter,), daemon=True).start()
    # The command may have died before the signal was asked for: it would never come.
    if os.getppid() != starter or not _running(command):
        os._exit(1)


def _running(pid: int) -> bool:
    if os.name != "posix":
        return True  # os.kill(pid, 0) would terminate it on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # alive, owned by someone else
    return True


def _set_parent_death_signal() -> bool:
    try:
        # The running program's own symbols include libc's (no library search, no subprocess).
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    # An orphan is adopted by another process (init, a subreaper), so its parent id changes.
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(1)


def tune_gc() -> None:
    """Fewer cyclic collections while parsing: a libcst tree is hundreds of thousands of
    objects, and the default thresholds rescan them all many times per file (about a
    tenth of the run); the trees themselves are freed by reference counting."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _ignore_failed_cancelled_futures() -> None:
    """Keep the pool's own thread quiet while the run is being stopped.

    `Executor.map` cancels the futures it has not yielded when the interrupt unwinds it; the
    pool's management thread then fails those futures for the terminated workers and raises
    `InvalidStateError` (a race in CPython's pool), which would print a traceback after
    "interrupted". Nothing else raises that error in bnlint's threads.
    """
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not None and issubclass(args.exc_type, InvalidStateError):
            return
        previous(args)

    threading.excepthook = hook
    # At exit the pool's wake-up pipe may already be closed by its own thread when the
    # interpreter wakes it once more (a race in CPython's pool): "Exception ignored ...
    # Bad file descriptor". The run is over; that write has nothing left to wake.
    previous_unraisable = sys.unraisablehook

    def unraisable(args: Any) -> None:
        if isinstance(args.exc_value, OSError) and args.exc_value.errno == errno.EBADF:
            return
        previous_unraisable(args)

    sys.unraisablehook = unraisable


@contextmanager
def _pool(workers: int, project: ProjectIndex | None = None) -> Iterator[Executor]:
    """A process pool that, on Ctrl-C, stops at once instead of finishing queued files.

    Stopping a worker mid-file loses nothing: workers only read the files they lint, and a
    cache entry is written to a temporary file and renamed, never half-written in place.
    """
    pool = ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=(os.getpid(), project)
    )
    try:
        yield pool
    except BaseException:
        # Chunks already queued to the workers cannot be cancelled; the workers can be
        # stopped. The pool then fails the files not done (never seen: the run is over),
        # which is also why no future is cancelled here: failing a cancelled future raises
        # in the pool's own thread.
        _ignore_failed_cancelled_futures()
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=False)
        raise
    pool.shutdown()


def _run_job(job: Job, options: LintOptions, project: ProjectIndex | None = None) -> FileResult:
    project = project if project is not None else _WORKER_PROJECT
    result = lint_path(job.path, job.filename, job.settings, options, project, cache=job.cache)
    if not result.findings and result.fixed_text is None:
        # The text goes back to the command only for a code frame or a fix: a whole
        # corpus of it would be copied between processes and held to the end of the run.
        result.source = None
    return result


def _index_paths(paths: Sequence[tuple[Path, str]], summaries: Path | None = None) -> ProjectIndex:
    from bnlint.analysis.project import build_index

    return build_index(paths, summaries)


def build_project(
    paths: Sequence[tuple[Path, str]], workers: int, summaries: Path | None = None
) -> ProjectIndex:
    """The project index over every (path, display name) of the run, built with `ast`.

    `summaries` is a cache folder of per-file summaries: unchanged files are not parsed.
    """
    from bnlint.analysis.project import ProjectIndex, cached_summaries

    index = ProjectIndex()
    if summaries is not None:
        # Reading summaries back is cheaper than starting worker processes.
        index, missing = cached_summaries(paths, summaries)
        paths = missing
    if workers <= 1 or len(paths) < 64:
        index.merge(_index_paths(paths, summaries))
        return index
    size = max(16, len(paths) // (workers * 4))
    batches = [paths[start : start + size] for start in range(0, len(paths), size)]
    with _pool(workers) as pool:
        for part in pool.map(_index_paths, batches, [summaries] * len(batches)):
            index.merge(part)
    return index


def lint_many(
    jobs: Sequence[Job],
    options: LintOptions,
    workers: int,
    progress: Callable[[int], None] | None = None,
    project: ProjectIndex | None = None,
) -> list[FileResult]:
    """Lint files, in worker processes when there are enough of them; input order kept.

    `progress` is called with the number of files finished so far.
    """
    results: list[FileResult] = []
    if workers <= 1 or len(jobs) < 4:
        for job in jobs:
            results.append(_run_job(job, options, project))
            if progress is not None:
                progress(len(results))
        return results
    with _pool(workers, project) as pool:
        chunk = max(1, min(16, len(jobs) // (workers * 8)))
        for result in pool.map(_run_job, jobs, [options] * len(jobs), chunksize=chunk):
            results.append(result)
            if progress is not None:
                progress(len(results))
    return results


def default_workers() -> int:
    return max(
        1,
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
    )
