"""Helpers for the in-process tests of the runtime monitor (import after torch is known)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bnlint.probe.runtime import Monitor


@contextmanager
def watching(min_batch_size: int = 8) -> Iterator[list]:
    """Run the block under the monitor; the list it yields holds the findings afterwards."""
    monitor = Monitor(min_batch_size=min_batch_size)
    found: list = []
    monitor.install()
    try:
        yield found
    finally:
        monitor.uninstall()
        found.extend(monitor.findings())
