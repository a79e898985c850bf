"""Older import path of the engine's per-file functions; new code imports `bnlint.engine`."""

from __future__ import annotations

from bnlint.engine.files import MAX_FILE_CHARS, lint_bytes, lint_path, lint_source
from bnlint.engine.results import FileResult, LintOptions
from bnlint.engine.syntax import SYNTAX_ERROR
from bnlint.engine.workers import Job, build_project, default_workers, lint_many
from bnlint.fixes import apply_edits

__all__ = [
    "MAX_FILE_CHARS",
    "SYNTAX_ERROR",
    "FileResult",
    "Job",
    "LintOptions",
    "apply_edits",
    "build_project",
    "default_workers",
    "lint_bytes",
    "lint_many",
    "lint_path",
    "lint_source",
]
