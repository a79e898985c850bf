"""Invariants every rule keeps: metadata, templates, fixes, selection."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pytest

from bnlint.analysis.context import FileContext
from bnlint.config import FileSettings
from bnlint.diagnostics import Applicability, FixAvailability, Severity
from bnlint.registry import _REGISTRY as REGISTRY
from bnlint.registry import (
    CODE_PATTERN,
    NAME_PATTERN,
    NodeFix,
    Replace,
    Rule,
    UnknownSelector,
    all_rules,
    catalog_info,
    expand_selector,
    register,
    resolve_selection,
    rule_by_name_or_code,
)
from bnlint.runner import lint_bytes
from bnlint.source import SourceText

from .conftest import CASES, FIXTURES

RULES = all_rules()
STATIC = [code for code, rule in RULES.items() if not rule.runtime_only]


def _context(source: str = "model.eval\n") -> FileContext:
    module = cst.parse_module(source)
    return FileContext("x.py", SourceText(source), module, FileSettings(frozenset()))


@pytest.fixture
def registry_snapshot() -> Iterator[None]:
    saved = dict(REGISTRY)
    yield
    REGISTRY.clear()
    REGISTRY.update(saved)


# Metadata


def test_codes_and_names_are_well_formed_and_unique() -> None:
    names = [rule.name for rule in RULES.values()]
    assert len(set(names)) == len(names)
    for code, rule in RULES.items():
        assert rule.code == code
        assert CODE_PATTERN.match(code), code
        assert NAME_PATTERN.match(rule.name), rule.name


@pytest.mark.parametrize("code", list(RULES))
def test_rule_metadata_is_complete(code: str) -> None:
    rule = RULES[code]
    assert isinstance(rule.severity, Severity)
    assert rule.summary(), f"{code} has no docstring"
    assert rule.summary().endswith("."), "the docstring is one sentence"
    for template in (rule.message, rule.hint):
        assert template == template.strip()
        assert not template.endswith("."), f"{code}: no trailing period"
        assert not re.match(r"(Detected|Please)\b", template), f"{code}: {template!r}"
    assert rule.message, f"{code} has no message"
    assert all(isinstance(token, bytes) for token in rule.triggers)
    assert rule.runtime_only == code.startswith("BN5"), "runtime-only rules are the BN5xx family"
    if rule.fixable is FixAvailability.NEVER:
        assert rule.fix_safety == "", f"{code} is unfixable but declares a fix safety"
    else:
        assert rule.fix_safety in ("safe", "unsafe", "safe or unsafe"), code
    for name, default in rule.options.items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), f"{code}: option {name!r}"
        assert isinstance(default, bool | int | float | str | list), f"{code}.{name}"


def test_rules_are_found_by_code_or_name() -> None:
    for code, rule in RULES.items():
        assert rule_by_name_or_code(code) is rule
        assert rule_by_name_or_code(code.lower()) is rule
        assert rule_by_name_or_code(rule.name) is rule
    assert rule_by_name_or_code("BN999") is None


# @register


def _rule_class(code: str, name: str) -> type[Rule]:
    return type(
        "Temporary",
        (Rule,),
        {
            "code": code,
            "name": name,
            "severity": Severity.INFO,
            "message": "m",
            "__doc__": "A rule.",
        },
    )


@pytest.mark.usefixtures("registry_snapshot")
@pytest.mark.parametrize(
    ("code", "name", "error"),
    [
        ("BN12", "short-code", "malformed"),
        ("XX123", "other-prefix", "malformed"),
        ("BN0001", "long-code", "malformed"),
        ("BN998", "Not_Kebab", "kebab-case"),
        ("BN998", "trailing-", "kebab-case"),
        ("BN105", "another-name", "duplicate rule code"),
        ("BN998", "mode-method-not-called", "duplicate rule name"),
    ],
)
def test_register_refuses_bad_codes_names_and_duplicates(code: str, name: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        register(_rule_class(code, name))
    assert all_rules() == RULES


@pytest.mark.usefixtures("registry_snapshot")
def test_register_adds_a_well_formed_rule() -> None:
    rule = register(_rule_class("BN998", "temporary-rule"))
    assert all_rules()["BN998"] is rule


# report()


class _Templated(Rule):
    """A rule with two template fields, for the report() tests."""

    code = "BN997"
    name = "templated"
    severity = Severity.WARNING
    message = "`{model}` does {thing}"
    hint = "fix `{model}`"


class _Fixable(_Templated):
    fixable = FixAvailability.ALWAYS
    fix_safety = "safe"


def _node(ctx: FileContext) -> cst.CSTNode:
    return ctx.module.body[0]


def test_report_fills_the_templates() -> None:
    ctx = _context()
    rule = _Templated(ctx)
    rule.report(_node(ctx), model="net", thing="nothing")
    (report,) = rule.reports
    assert (report.message, report.hint) == ("`net` does nothing", "fix `net`")
    assert report.severity is Severity.WARNING


def test_report_refuses_a_missing_field() -> None:
    ctx = _context()
    rule = _Templated(ctx)
    with pytest.raises(ValueError, match="missing \\['thing'\\]"):
        rule.report(_node(ctx), model="net")
    assert rule.reports == []


def test_report_refuses_an_unknown_field() -> None:
    ctx = _context()
    rule = _Templated(ctx)
    with pytest.raises(ValueError, match="unknown \\['colour'\\]"):
        rule.report(_node(ctx), model="net", thing="x", colour="red")
    assert rule.reports == []


def test_report_refuses_a_fix_from_an_unfixable_rule() -> None:
    ctx = _context()
    fix = NodeFix(Applicability.SAFE, "call it", (Replace(_node(ctx), "model.eval()"),))
    unfixable, fixable = _Templated(ctx), _Fixable(ctx)
    with pytest.raises(ValueError, match="unfixable"):
        unfixable.report(_node(ctx), model="net", thing="x", fix=fix)
    fixable.report(_node(ctx), model="net", thing="x", fix=fix)
    assert (len(unfixable.reports), len(fixable.reports)) == (0, 1)


def test_report_severity_can_be_raised_per_finding() -> None:
    ctx = _context()
    rule = _Templated(ctx)
    rule.report(_node(ctx), model="net", thing="x", severity=Severity.ERROR)
    assert rule.reports[0].severity is Severity.ERROR


# Fixes declared vs. fixes returned, over every case and fixture


EXAMPLES: list[tuple[str, bytes]] = [
    *((p.name, p.read_bytes()) for p in sorted([*CASES.glob("BN*/*.py"), *FIXTURES.rglob("*.py")])),
    ("broken.py", b"def broken(:\n    pass\n"),  # BN001 has no case folder of its own
]


@pytest.mark.parametrize("code", STATIC)
def test_declared_fixability_matches_the_findings(code: str) -> None:
    rule = RULES[code]
    settings = FileSettings(frozenset({code}))
    findings = [
        finding for name, data in EXAMPLES for finding in lint_bytes(data, name, settings).findings
    ]
    # A rule that fires nowhere would pass everything below without being checked.
    assert findings, f"{code} fires on none of the cases and fixtures"
    for finding in findings:
        if rule.fixable is FixAvailability.NEVER:
            assert finding.fix is None, f"{code} is declared unfixable: {finding.full_message}"
        elif rule.fixable is FixAvailability.ALWAYS:
            assert finding.fix is not None, f"{code} is declared always fixable"
        if finding.fix is not None:
            allowed = {"safe": {"safe"}, "unsafe": {"unsafe"}}.get(
                rule.fix_safety, {"safe", "unsafe"}
            )
            assert finding.fix.applicability.value in allowed, code
            assert finding.fix.edits
    if rule.fixable is not FixAvailability.NEVER:
        assert any(f.fix is not None for f in findings), f"{code} is fixable but never fixed"


# Selection


def test_expand_selector_codes_and_prefixes() -> None:
    assert expand_selector("BN105") == ["BN105"]
    assert expand_selector("bn1") == [c for c in RULES if c.startswith("BN1")]
    assert expand_selector("BN") == list(RULES)
    for bad in ("BN999", "XYZ", "", "BN1055"):
        with pytest.raises(UnknownSelector):
            expand_selector(bad)


def test_resolve_selection_is_select_plus_extend_minus_ignore() -> None:
    default_on = {c for c, r in RULES.items() if r.default_enabled}
    assert resolve_selection(None, [], []) == default_on
    assert resolve_selection(["BN1"], ["BN401"], ["BN105"]) == (
        {c for c in default_on if c.startswith("BN1")} | {"BN401"}
    ) - {"BN105"}
    assert resolve_selection([], [], []) == frozenset()


def test_the_catalog_describes_every_rule_as_its_class_does() -> None:
    # Selection, configuration and reports read the catalog (no libcst); its entries are
    # generated from the rule classes and must say what they say, field by field.
    import bnlint.catalog
    from bnlint.catalog import RULES as CATALOG
    from bnlint.catalog import entries_in, render_entries

    assert list(CATALOG) == list(RULES)
    for code, rule in RULES.items():
        assert CATALOG[code] == catalog_info(rule), code
    source = Path(bnlint.catalog.__file__).read_text(encoding="utf-8")
    expected = render_entries(catalog_info(rule) for rule in RULES.values())
    assert entries_in(source) == expected, "stale catalog: run python scripts/sync_rule_docs.py"


def test_project_rules_declare_it() -> None:
    needs = {code for code, rule in RULES.items() if rule.needs_project}
    assert {"BN101", "BN102", "BN103", "BN104"} <= needs
