"""The exit status of a run, shared by every command."""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    CLEAN = 0
    FINDINGS = 1
    ERROR = 2
    # Ctrl-C: the shell's 128 + SIGINT, as ruff and most tools exit.
    INTERRUPTED = 130
