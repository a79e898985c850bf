"""Findings from the processes a probed script starts, merged into the parent's report.

`bnlint run` puts `child_site/` first on PYTHONPATH, so every Python process started with
this interpreter (mp.spawn and the `spawn`/`forkserver` start methods, torchrun's workers,
`subprocess.run([sys.executable, ...])`) loads the probe's `sitecustomize`. Such a child
installs the monitor when it imports torch and, at exit, pickles its findings into the
folder the parent named. Forked children (the `fork` start method, DataLoader workers) end
with `os._exit`, which runs no exit handler: what they observe is not reported.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from bnlint.diagnostics import Finding

_FOLDER = "BNLINT_PROBE_CHILDREN"
_MIN_BATCH = "BNLINT_PROBE_MIN_BATCH"
_ROOT = "BNLINT_PROBE_ROOT"
SITE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child_site")


@contextmanager
def children_observed(min_batch_size: int, root: str | None) -> Iterator[str]:
    """Ask child processes to probe themselves; yields the folder their findings go to."""
    saved = {key: os.environ.get(key) for key in (_FOLDER, _MIN_BATCH, _ROOT, "PYTHONPATH")}
    with tempfile.TemporaryDirectory(prefix="bnlint-probe-") as folder:
        os.environ[_FOLDER] = folder
        os.environ[_MIN_BATCH] = str(min_batch_size)
        if root:
            os.environ[_ROOT] = root
        path = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = SITE_DIR + (os.pathsep + path if path else "")
        try:
            yield folder
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def child_findings(folder: str) -> list[Finding]:
    """Every finding the children left in `folder`."""
    found: list[Finding] = []
    with contextlib.suppress(OSError):
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".pickle"):
                continue
            try:
                with open(os.path.join(folder, name), "rb") as handle:
                    data = pickle.load(handle)
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
                continue
            if isinstance(data, list):
                found.extend(item for item in data if isinstance(item, Finding))
    return found


def merge(*groups: Sequence[Finding]) -> list[Finding]:
    """One finding per code and line across processes, their counts added."""
    from bnlint.probe.findings import Collector

    collector = Collector()
    for group in groups:
        for finding in group:
            collector.add(finding, count=True)
    return collector.findings()


def start_child() -> None:
    """In a child process: observe it as the parent is observed, and leave the findings."""
    folder = os.environ[_FOLDER]
    try:
        minimum = int(os.environ.get(_MIN_BATCH, "8"))
    except ValueError:
        minimum = 8
    from bnlint.probe.frames import set_display_root
    from bnlint.probe.script import when_torch_imported

    set_display_root(os.environ.get(_ROOT))
    monitors: list[object] = []

    def install() -> None:
        from bnlint.probe.runtime import Monitor

        monitor = Monitor(min_batch_size=minimum)
        monitor.install()
        monitors.append(monitor)

    def leave() -> None:
        if not monitors:  # the child never imported torch: nothing observed, import nothing
            return
        from bnlint.probe.runtime import Monitor

        for monitor in monitors:
            if not isinstance(monitor, Monitor):
                continue
            findings = monitor.findings()
            if not findings:
                continue
            target = os.path.join(folder, f"{os.getpid()}.pickle")
            with contextlib.suppress(OSError), open(target + ".tmp", "wb") as handle:
                pickle.dump(findings, handle)
            with contextlib.suppress(OSError):
                os.replace(target + ".tmp", target)

    when_torch_imported(install)
    atexit.register(leave)
