"""Every rule has rules/<CODE>.md: required sections, a header matching the registry,
an Example that triggers the rule and a Use-instead that triggers nothing."""

from __future__ import annotations

import ast
import re

import pytest

from bnlint.docs import header_line, readme_rules_table
from bnlint.registry import all_rules

from .conftest import ROOT, RULES_DOCS, codes, lint

_REQUIRED = ("## What it does", "## Why is this bad?", "## Example")
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _document(code: str) -> str:
    return (RULES_DOCS / f"{code}.md").read_text(encoding="utf-8")


def _examples(document: str) -> tuple[str, str | None]:
    example_part = document.split("## Example", 1)[1]
    bad_part, _, good_part = example_part.partition("Use instead:")
    bad = _BLOCK.search(bad_part)
    assert bad is not None, "no ```python block under ## Example"
    good = _BLOCK.search(good_part) if good_part else None
    return bad.group(1), good.group(1) if good else None


@pytest.mark.parametrize("code", list(all_rules()))
def test_document_has_sections_and_header(code: str) -> None:
    rule = all_rules()[code]
    document = _document(code)
    lines = document.splitlines()
    assert lines[0] == f"# {rule.name} ({code})"
    assert lines[2] == header_line(code), "stale header: run scripts/sync_rule_docs.py"
    for section in _REQUIRED:
        assert section in document, f"{code}.md lacks {section}"


@pytest.mark.parametrize(
    "code", [c for c, r in all_rules().items() if not r.runtime_only and c != "BN001"]
)
def test_example_triggers_and_use_instead_does_not(code: str) -> None:
    bad, good = _examples(_document(code))
    ast.parse(bad)
    assert code in codes(lint(bad, select=[code])), f"{code}.md's Example does not trigger {code}"
    assert good is not None, f"{code}.md has no 'Use instead:' example"
    ast.parse(good)
    everything = [c for c in all_rules() if c != "BN001"]
    assert lint(good, select=everything) == [], f"{code}.md's 'Use instead' triggers a rule"


def test_readme_rule_table_is_in_sync() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- rules-table:start -->\n", "\n<!-- rules-table:end -->"
    assert start in readme
    assert end in readme
    table = readme.split(start, 1)[1].split(end, 1)[0]
    assert table == readme_rules_table(), (
        "README rule table is stale: run scripts/sync_rule_docs.py"
    )
