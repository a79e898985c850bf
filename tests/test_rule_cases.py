"""Each file in tests/cases/<CODE>/ is linted with that rule; `# expect: CODE` marks each
line where a finding must start, and every other line must stay clean."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bnlint.config import FileSettings
from bnlint.registry import all_rules
from bnlint.runner import lint_bytes

from .conftest import CASES

_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>BN\d{3}(?:\s*,\s*BN\d{3})*)")
_OPTIONS = re.compile(r"^#\s*bnlint-test:\s*(?P<key>[\w-]+)\s*=\s*(?P<value>\S+)")


def _case_files() -> list[Path]:
    return sorted(CASES.glob("BN*/*.py"))


def _settings(code: str, first_line: str) -> FileSettings:
    options: dict[str, int] = {}
    match = _OPTIONS.match(first_line)
    if match:
        options[match.group("key")] = int(match.group("value"))
    return FileSettings(enabled=frozenset({code}), min_batch_size=options.get("min-batch-size", 8))


@pytest.mark.parametrize("case", _case_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case(case: Path) -> None:
    code = case.parent.name
    assert code in all_rules(), f"tests/cases/{code} names no registered rule"
    text = case.read_text(encoding="utf-8")
    expected = set()
    for row, line in enumerate(text.splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            expected.update((row, c.strip()) for c in match.group("codes").split(","))
    result = lint_bytes(text.encode("utf-8"), case.name, _settings(code, text.partition("\n")[0]))
    assert result.error is None
    actual = {(f.span.start.row, f.code) for f in result.findings}
    assert actual == expected, "\n".join(f.full_message for f in result.findings)


def test_every_static_rule_has_a_positive_and_a_negative_case() -> None:
    for code, rule in all_rules().items():
        if rule.runtime_only or code == "BN001":
            continue
        files = list((CASES / code).glob("*.py"))
        positives = [f for f in files if "# expect:" in f.read_text(encoding="utf-8")]
        negatives = [f for f in files if "# expect:" not in f.read_text(encoding="utf-8")]
        assert positives, f"{code} has no positive case in tests/cases/{code}"
        assert negatives, f"{code} has no negative case in tests/cases/{code}"
