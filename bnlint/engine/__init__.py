"""The engine: one `LintSession` under every front end (CLI, API, language server).

    engine.session   configuration, discovery, project index, cache, workers, writing fixes
    engine.workers   many files at once, in worker processes
    engine.files     one file: decode, notebook adapter, cache entry, fix loop, suppression
    engine.linter    one text: parse, one walk that calls every rule (imports libcst)
    engine.findings  rule reports -> findings (tree nodes -> positions)
    engine.noqa      BN002, the `noqa` comments that suppress nothing

Importing this package is cheap: its names load on first use (`bnlint --version` and
`bnlint rule` need only `ExitStatus`), and libcst only when a file must really be linted.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bnlint.engine.results import FileResult, LintOptions
    from bnlint.engine.session import PROJECT_RULES, LintSession, RunResult
    from bnlint.engine.status import ExitStatus

_WHERE = {
    "FileResult": "bnlint.engine.results",
    "LintOptions": "bnlint.engine.results",
    "PROJECT_RULES": "bnlint.engine.session",
    "LintSession": "bnlint.engine.session",
    "RunResult": "bnlint.engine.session",
    "ExitStatus": "bnlint.engine.status",
}

__all__ = ["PROJECT_RULES", "ExitStatus", "FileResult", "LintOptions", "LintSession", "RunResult"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(name)
    return getattr(importlib.import_module(_WHERE[name]), name)
