"""The engine: one `LintSession` under every front end (CLI, API, language server).

    engine.session   configuration, discovery, project index, cache, workers, writing fixes
    engine.workers   many files at once, in worker processes
    engine.files     one file: decode, notebook adapter, cache entry, fix loop, suppression
    engine.linter    one text: parse, one walk that calls every rule (imports libcst)
    engine.findings  rule reports -> findings (tree nodes -> positions)

Importing this package is cheap: libcst is loaded only when a file must really be linted.
"""

from __future__ import annotations

from bnlint.engine.results import FileResult, LintOptions
from bnlint.engine.session import PROJECT_RULES, LintSession, RunResult
from bnlint.engine.status import ExitStatus

__all__ = ["PROJECT_RULES", "ExitStatus", "FileResult", "LintOptions", "LintSession", "RunResult"]
