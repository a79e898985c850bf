"""`bnlint rule`: one rule's document, every document (--all), and JSON (ruff's
`ruff rule --output-format json`)."""

from __future__ import annotations

import json
from pathlib import Path

from bnlint.registry import all_rules

from .cli_helpers import run_bnlint
from .conftest import RULES_DOCS


def test_rule_all_prints_every_document_in_code_order(tmp_path: Path) -> None:
    result = run_bnlint(["rule", "--all"], tmp_path)
    assert result.exit_code == 0, result.stderr
    titles = [line for line in result.stdout.splitlines() if line.startswith("# ")]
    expected = [
        (RULES_DOCS / f"{code}.md").read_text(encoding="utf-8").splitlines()[0]
        for code in all_rules()
    ]
    assert titles == expected
    first = next(iter(all_rules()))
    assert result.stdout.startswith((RULES_DOCS / f"{first}.md").read_text(encoding="utf-8"))


def test_rule_json_has_the_registry_metadata_and_the_document(tmp_path: Path) -> None:
    result = run_bnlint(["rule", "--output-format", "json", "mode-method-not-called"], tmp_path)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    rule = all_rules()["BN105"]
    assert data["code"] == "BN105"
    assert data["name"] == rule.name
    assert data["severity"] == rule.severity.value
    assert data["fix"] == rule.fixable.value
    assert data["default_enabled"] is rule.default_enabled
    assert data["message_formats"] == [rule.message]
    assert data["url"].endswith("/rules/BN105.md")
    assert data["explanation"] == (RULES_DOCS / "BN105.md").read_text(encoding="utf-8")


def test_rule_json_without_a_code_lists_every_rule(tmp_path: Path) -> None:
    result = run_bnlint(["rule", "--output-format", "json"], tmp_path)
    data = json.loads(result.stdout)
    assert [item["code"] for item in data] == list(all_rules())
    assert json.loads(run_bnlint(["rule", "--all", "--format", "json"], tmp_path).stdout) == data


def test_rule_with_a_code_and_all_is_a_usage_error(tmp_path: Path) -> None:
    result = run_bnlint(["rule", "--all", "BN101"], tmp_path)
    assert result.exit_code == 2
    assert "--all" in result.stderr


def test_unknown_rule_exits_2(tmp_path: Path) -> None:
    result = run_bnlint(["rule", "--output-format", "json", "BN999"], tmp_path)
    assert result.exit_code == 2
    assert "BN999" in result.stderr
