"""Shared test helpers: paths, linting a snippet, the --update-goldens switch."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from bnlint.config import FileSettings
from bnlint.diagnostics import Finding
from bnlint.registry import all_rules
from bnlint.runner import LintOptions, lint_bytes

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = Path(__file__).resolve().parent / "cases"
RULES_DOCS = ROOT / "rules"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/golden from the current output (review the diff)",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


def lint(
    source: str,
    select: Iterable[str] | None = None,
    *,
    filename: str = "example.py",
    min_batch_size: int = 8,
    fix: bool = False,
    unsafe_fixes: bool = False,
) -> list[Finding]:
    """Lint a snippet with the given codes enabled (default: every default-on rule)."""
    rules = all_rules()
    enabled = (
        frozenset(select)
        if select is not None
        else frozenset(c for c, r in rules.items() if r.default_enabled)
    )
    settings = FileSettings(enabled=enabled, min_batch_size=min_batch_size)
    return lint_bytes(
        source.encode("utf-8"), filename, settings, LintOptions(fix, unsafe_fixes)
    ).findings


def codes(findings: Iterable[Finding]) -> list[str]:
    return [f.code for f in findings]


def check_golden(path: Path, actual: str, update: bool) -> None:
    """Compare `actual` with the golden file, or rewrite it with --update-goldens."""
    if update or not path.exists():
        if not update:
            pytest.fail(f"missing golden {path.name}; run pytest --update-goldens and review it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{path.name} differs; run pytest --update-goldens and review the diff"
    )


@pytest.fixture
def libcst_parser_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything reaches libcst's native parser (it overflows the C stack
    on deep files instead of raising)."""

    def refuse(text: str) -> None:
        raise AssertionError("a deep file reached libcst's parser")

    monkeypatch.setattr("bnlint.engine.linter.cst.parse_module", refuse)
