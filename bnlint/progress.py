"""A progress bar on stderr for long runs on a terminal; silent everywhere else."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

# Short runs (a pre-commit hook on a few files) never flash a bar.
_DELAY_SECONDS = 1.0


class ProgressBar:
    """Context manager giving a `progress(done)` callback; draws only after a delay on a tty."""

    def __init__(self, total: int, enabled: bool) -> None:
        self._total = total
        self._enabled = enabled and sys.stderr.isatty() and total > 1
        self._start = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Callable[[int], None] | None:
        return self.update if self._enabled else None

    def update(self, done: int) -> None:
        if self._bar is None:
            if time.monotonic() - self._start < _DELAY_SECONDS:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self._bar = Progress(
                "linting",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("lint", total=self._total)
        self._bar.update(self._task, completed=done)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
