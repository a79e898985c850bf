"""Findings that explain themselves: a rule's (node, message) steps become related
locations, and every format that can show them does (text notes, JSON, SARIF code flows,
rdjson related locations, the cache)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import libcst as cst
import pytest

from bnlint import registry
from bnlint.diagnostics import Finding, Position, RelatedLocation, Severity, Span
from bnlint.registry import Rule
from bnlint.report import RunReport, render
from bnlint.source import SourceText

from .conftest import lint

SARIF_SCHEMA = Path(__file__).resolve().parent / "schemas" / "sarif-2.1.0.json"

SOURCE = """\
def fit(model, loader):
    model.train()
    for epoch in range(3):
        for batch in loader:
            model(batch)
        predict(model)
"""


class _ExplainedCall(Rule):
    """A test rule: flags `predict(...)` and explains it with the steps that lead there."""

    code = "BN999"
    name = "explained-call"
    severity = Severity.WARNING
    message = "`{name}` is called while the model may train"
    hint = "call `model.eval()` first"
    steps: ClassVar[list[tuple[cst.CSTNode, str]]] = []

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "train":
            self.steps.append((node, "`model.train()` sets training mode"))
        if isinstance(node.func, cst.Name) and node.func.value == "predict":
            self.report(node, related=list(self.steps), name="predict")

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.iter, cst.Call):
            self.steps.append((node.iter, "the epoch loop"))


@pytest.fixture
def explained_rule(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    _ExplainedCall.steps = []
    monkeypatch.setitem(registry._REGISTRY, _ExplainedCall.code, _ExplainedCall)
    yield
    _ExplainedCall.steps = []


def _finding() -> Finding:
    (finding,) = lint(SOURCE, ["BN999"], filename="src/fit.py")
    return finding


def test_rule_steps_become_related_locations_in_order(explained_rule: None) -> None:
    finding = _finding()
    assert finding.related == (
        RelatedLocation("src/fit.py", Span(Position(2, 5), Position(2, 18)), _STEP_1),
        RelatedLocation("src/fit.py", Span(Position(3, 18), Position(3, 26)), "the epoch loop"),
    )


_STEP_1 = "`model.train()` sets training mode"


def test_report_without_related_has_no_steps() -> None:
    (finding,) = lint("model.eval\n", ["BN105"])
    assert finding.related == ()
    assert "related" not in finding.to_json()


def _report(finding: Finding) -> RunReport:
    return RunReport(
        findings=[finding],
        sources={finding.filename: SourceText(SOURCE)},
        files_checked=1,
        rules={"BN999": ("explained-call", "A test rule.", Severity.WARNING)},
        version="1.2.3",
        root="/project",
    )


def test_text_prints_numbered_notes_under_the_frame(explained_rule: None) -> None:
    text = render("text", _report(_finding()))
    lines = text.splitlines()
    help_line = next(i for i, line in enumerate(lines) if "= help:" in line)
    assert re.fullmatch(
        r"\s+= note: 1\. src/fit\.py:2:5: `model\.train\(\)` sets training mode",
        lines[help_line + 1],
    )
    assert re.fullmatch(r"\s+= note: 2\. src/fit\.py:3:18: the epoch loop", lines[help_line + 2])


def test_json_lists_the_steps_as_locations(explained_rule: None) -> None:
    (data,) = json.loads(render("json", _report(_finding())))
    assert data["related"] == [
        {
            "message": _STEP_1,
            "filename": "src/fit.py",
            "location": {"row": 2, "column": 5},
            "end_location": {"row": 2, "column": 18},
        },
        {
            "message": "the epoch loop",
            "filename": "src/fit.py",
            "location": {"row": 3, "column": 18},
            "end_location": {"row": 3, "column": 26},
        },
    ]


def test_sarif_code_flow_ends_at_the_finding_and_validates(explained_rule: None) -> None:
    document = json.loads(render("sarif", _report(_finding())))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)
    (result,) = document["runs"][0]["results"]
    (flow,) = result["codeFlows"]
    (thread,) = flow["threadFlows"]
    steps: list[dict[str, Any]] = [item["location"] for item in thread["locations"]]
    assert [step["message"]["text"] for step in steps] == [
        _STEP_1,
        "the epoch loop",
        "`predict` is called while the model may train",
    ]
    assert [step["physicalLocation"]["region"]["startLine"] for step in steps] == [2, 3, 6]
    for step in steps:
        assert step["physicalLocation"]["artifactLocation"] == {
            "uri": "src/fit.py",
            "uriBaseId": "%SRCROOT%",
        }


def test_sarif_without_steps_has_no_code_flow() -> None:
    (finding,) = lint("model.eval\n", ["BN105"])
    document = json.loads(render("sarif", _report(finding)))
    assert "codeFlows" not in document["runs"][0]["results"][0]


def test_rdjson_lists_related_locations(explained_rule: None) -> None:
    document = json.loads(render("rdjson", _report(_finding())))
    (diagnostic,) = document["diagnostics"]
    assert [step["message"] for step in diagnostic["related_locations"]] == [
        _STEP_1,
        "the epoch loop",
    ]
    assert diagnostic["related_locations"][0]["location"] == {
        "path": "src/fit.py",
        "range": {"start": {"line": 2, "column": 5}, "end": {"line": 2, "column": 18}},
    }


def test_related_locations_survive_the_cache(explained_rule: None, tmp_path: Path) -> None:
    from bnlint.cache import Cache

    finding = _finding()
    cache = Cache(tmp_path)
    cache.put("src/fit.py", SOURCE.encode(), [finding], None)
    cached = cache.get("src/fit.py", SOURCE.encode())
    assert cached is not None
    assert cached[0] == [finding]
    assert cached[0][0].related == finding.related
