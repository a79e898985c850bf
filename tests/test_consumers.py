"""Each machine format against what its consumer reads: GitLab Code Quality, JUnit XML,
GitHub workflow commands and SARIF 2.1.0 (validated against the official schema)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bnlint.config import FileSettings
from bnlint.diagnostics import Finding, Position, Severity, Span
from bnlint.registry import all_rules
from bnlint.report import RunReport, render
from bnlint.runner import FileResult, LintOptions, lint_bytes

SARIF_SCHEMA = Path(__file__).resolve().parent / "schemas" / "sarif-2.1.0.json"
ALL = frozenset(code for code, rule in all_rules().items() if rule.default_enabled)

TRAIN = """\
import torch
from torch import nn


def build():
    return nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8, momentum=0.99))


def validate(model, loader):
    model.eval
    return [model(x) for x in loader]
"""


def report_for(files: dict[str, str | bytes]) -> RunReport:
    results: list[FileResult] = []
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        results.append(lint_bytes(data, name, FileSettings(enabled=ALL), LintOptions()))
    rules = all_rules()
    return RunReport(
        findings=[f for r in results for f in r.findings],
        sources={r.filename: r.source for r in results if r.source is not None},
        cell_sources={(r.filename, n): s for r in results for n, s in r.cell_sources.items()},
        files_checked=len(results),
        rules={code: (rule.name, rule.summary(), rule.severity) for code, rule in rules.items()},
        version="1.2.3",
    )


def notebook(*cells: str) -> bytes:
    document = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": c,
            }
            for c in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1).encode("utf-8")


def finding(message: str, filename: str = "src/a.py", **extra: Any) -> Finding:
    return Finding(
        code="BN105",
        name="mode-method-not-called",
        severity=Severity.ERROR,
        message=message,
        hint="",
        filename=filename,
        span=Span(Position(3, 5), Position(3, 15)),
        **extra,
    )


# --- GitLab Code Quality ----------------------------------------------------------------


def gitlab(files: dict[str, str | bytes]) -> list[dict[str, Any]]:
    issues = json.loads(render("gitlab", report_for(files)))
    assert isinstance(issues, list)
    return issues


def test_gitlab_issues_have_the_fields_code_quality_reads() -> None:
    issues = gitlab({"src/train.py": TRAIN})
    assert [issue["check_name"] for issue in issues] == ["BN401", "BN105"]
    for issue in issues:
        assert isinstance(issue["description"], str)
        assert issue["description"].startswith(issue["check_name"] + " ")
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(issue["fingerprint"], str)
        assert len(issue["fingerprint"]) >= 16
        assert issue["location"]["path"] == "src/train.py"
        assert isinstance(issue["location"]["lines"]["begin"], int)
    assert [issue["location"]["lines"]["begin"] for issue in issues] == [6, 10]


def test_gitlab_fingerprints_survive_unrelated_lines_moving() -> None:
    before = gitlab({"src/train.py": TRAIN})
    moved = TRAIN.replace(
        "def build():",
        '"""Training helpers."""\n\nSEED = 0\n\n\ndef seed_everything():\n    torch.manual_seed(SEED)\n\n\ndef build():',
    )
    after = gitlab({"src/train.py": moved})
    assert [i["location"]["lines"]["begin"] for i in after] == [15, 19]
    assert [i["fingerprint"] for i in after] == [i["fingerprint"] for i in before]


def test_gitlab_fingerprint_changes_with_the_finding_itself() -> None:
    before = gitlab({"src/train.py": TRAIN})
    changed = gitlab({"src/train.py": TRAIN.replace("momentum=0.99", "momentum=0.9")})
    other_file = gitlab({"src/other.py": TRAIN})
    assert changed[0]["fingerprint"] != before[0]["fingerprint"]
    assert changed[1]["fingerprint"] == before[1]["fingerprint"]
    assert {i["fingerprint"] for i in other_file}.isdisjoint(i["fingerprint"] for i in before)


def test_gitlab_identical_lines_get_distinct_stable_fingerprints() -> None:
    twice = "def check(model):\n    model.eval\n    model(1)\n    model.eval\n"
    first = gitlab({"a.py": twice})
    again = gitlab({"a.py": "import os\n" + twice})
    fingerprints = [i["fingerprint"] for i in first]
    assert len(set(fingerprints)) == 2
    assert [i["fingerprint"] for i in again] == fingerprints


def test_gitlab_notebook_issue_names_the_cell() -> None:
    (issue,) = gitlab({"nb/eval.ipynb": notebook("import torch\n", "x = 1\nmodel.eval\n")})
    assert issue["location"]["path"] == "nb/eval.ipynb"
    assert issue["location"]["lines"]["begin"] == 2
    assert issue["description"].endswith("(cell 2)")


def test_gitlab_clean_run_is_an_empty_array() -> None:
    assert gitlab({"a.py": "import torch\n"}) == []


@pytest.mark.parametrize(
    ("filename", "cwd", "expected"),
    [
        ("./src/a.py", "/repo", "src/a.py"),
        ("/repo/src/a.py", "/repo", "src/a.py"),
        ("a.py", "/repo/src", "src/a.py"),
        ("../lib/b.py", "/repo/src", "lib/b.py"),
        ("/elsewhere/c.py", "/repo", "/elsewhere/c.py"),
    ],
)
def test_gitlab_paths_are_relative_to_the_repository_root(
    filename: str, cwd: str, expected: str
) -> None:
    report = RunReport(findings=[finding("m", filename=filename)], root="/repo", cwd=cwd)
    (issue,) = json.loads(render("gitlab", report))
    assert issue["location"]["path"] == expected


def test_gitlab_fingerprint_does_not_depend_on_how_the_path_was_given() -> None:
    def fingerprint(filename: str) -> str:
        report = RunReport(findings=[finding("m", filename=filename)], root="/repo")
        return str(json.loads(render("gitlab", report))[0]["fingerprint"])

    assert fingerprint("./src/a.py") == fingerprint("/repo/src/a.py") == fingerprint("src/a.py")


# --- JUnit XML ---------------------------------------------------------------------------


def junit(files: dict[str, str | bytes]) -> ElementTree.Element:
    text = render("junit", report_for(files))
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ElementTree.fromstring(text.encode("utf-8"))


def test_junit_has_a_suite_per_file_and_a_failing_case_per_finding() -> None:
    root = junit({"src/train.py": TRAIN, "src/clean.py": "import torch\n", "b&c <x>.py": TRAIN})
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["src/train.py", "b&c <x>.py"]
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "0")) == len(cases) == 2
        assert int(suite.get("failures", "0")) == 2
        for case in cases:
            assert case.get("classname") == suite.get("name")
            (failure,) = case.findall("failure")
            assert failure.get("type") in {"BN105", "BN401"}
            assert failure.get("message")
            assert failure.text is not None
            assert failure.text.startswith(f"{suite.get('name')}:")
    assert int(root.get("failures", "0")) == 4


def test_junit_clean_run_is_one_passing_case() -> None:
    root = junit({"a.py": "import torch\n"})
    cases = root.findall(".//testcase")
    assert len(cases) == 1
    assert cases[0].find("failure") is None
    assert root.get("failures") == "0"


def test_junit_notebook_case_names_the_cell() -> None:
    root = junit({"eval.ipynb": notebook("model.eval\n")})
    (case,) = root.findall(".//testcase")
    assert case.get("name") == "BN105 at cell 1, line 1, column 1"


def test_junit_case_names_are_not_garbled_by_colons_in_paths() -> None:
    report = RunReport(findings=[finding("m", filename="C:/work/data:v2/a.py")])
    root = ElementTree.fromstring(render("junit", report).encode("utf-8"))
    (case,) = root.findall(".//testcase")
    assert case.get("name") == "BN105 at line 3, column 5"
    assert case.get("classname") == "C:/work/data:v2/a.py"
    assert case.get("file") == "C:/work/data:v2/a.py"
    assert case.get("line") == "3"


# --- GitHub workflow commands ------------------------------------------------------------


def test_github_escapes_data_and_properties_as_the_actions_toolkit_does() -> None:
    report = RunReport(findings=[finding("50% of `a,b`\r\nthen: more", filename="dir,1/a:b%.py")])
    (line,) = render("github", report).splitlines()
    properties, _, data = line.partition("::")[2].partition("::")
    assert properties.startswith(
        "error file=dir%2C1/a%3Ab%25.py,line=3,col=5,endLine=3,endColumn=15,"
    )
    assert "title=BN105 (mode-method-not-called)" in properties
    assert data == "BN105 50%25 of `a,b`%0D%0Athen: more"


@pytest.mark.parametrize(
    ("severity", "command"),
    [(Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "notice")],
)
def test_github_severity_picks_the_command(severity: Severity, command: str) -> None:
    item = finding("m")
    report = RunReport(findings=[Finding(**{**item.__dict__, "severity": severity})])
    assert render("github", report).startswith(f"::{command} ")


def test_github_notebook_annotation_names_the_cell() -> None:
    lines = render("github", report_for({"eval.ipynb": notebook("x = 1\n", "model.eval\n")}))
    assert lines.rstrip("\n").endswith("(cell 2)")


# --- SARIF 2.1.0 -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    return json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def sarif(files: dict[str, str | bytes], schema: dict[str, Any]) -> dict[str, Any]:
    document = json.loads(render("sarif", report_for(files)))
    jsonschema.validate(document, schema)
    return document  # type: ignore[no-any-return]


def test_sarif_with_fixes_notebooks_and_syntax_errors_is_valid(
    sarif_schema: dict[str, Any],
) -> None:
    document = sarif(
        {
            "src/train.py": TRAIN,
            "nb/eval.ipynb": notebook("%matplotlib inline\n", "model.eval\n"),
            "broken.py": "def f(:\n",
            "broken.ipynb": b"{not json",
        },
        sarif_schema,
    )
    (run,) = document["runs"]
    assert run["tool"]["driver"]["name"] == "bnlint"
    assert run["tool"]["driver"]["version"] == "1.2.3"
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["BN001", "BN105", "BN401"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith("/")
        assert location["region"]["startLine"] >= 1
    (cell_result,) = [r for r in run["results"] if r.get("properties", {}).get("cell")]
    assert cell_result["properties"]["cell"] == 2
    assert cell_result["locations"][0]["logicalLocations"] == [{"name": "cell 2", "kind": "module"}]
    fixed = [r for r in run["results"] if "fixes" in r]
    assert fixed, "fixable findings carry SARIF fixes"


def test_sarif_clean_run_is_valid_with_no_results(sarif_schema: dict[str, Any]) -> None:
    (run,) = sarif({"a.py": "import torch\n"}, sarif_schema)["runs"]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []


def test_sarif_uris_are_relative_to_srcroot(sarif_schema: dict[str, Any]) -> None:
    report = RunReport(
        findings=[
            finding("m", filename="./src/my model.py"),
            finding("m", filename="/elsewhere/b.py"),
        ],
        root="/repo",
    )
    document = json.loads(render("sarif", report))
    jsonschema.validate(document, sarif_schema)
    (run,) = document["runs"]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///repo/"}}
    inside, outside = (
        r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]
    )
    assert inside == {"uri": "src/my%20model.py", "uriBaseId": "%SRCROOT%"}
    assert outside == {"uri": "file:///elsewhere/b.py"}


# --- The other line formats ----------------------------------------------------------------


def test_json_lines_is_one_json_element_per_line() -> None:
    report = report_for({"src/train.py": TRAIN})
    lines = render("json-lines", report).splitlines()
    assert [json.loads(line) for line in lines] == json.loads(render("json", report))
    assert len(lines) == 2


def test_pylint_lines_are_path_line_code_message() -> None:
    text = render("pylint", report_for({"src/train.py": TRAIN}))
    first, second = text.splitlines()
    assert first.startswith("src/train.py:6: [BN401] `momentum=0.99` follows the Keras")
    assert second.startswith("src/train.py:10: [BN105] `model.eval` is never called")


def test_azure_logging_commands_escape_as_the_agent_does() -> None:
    report = RunReport(findings=[finding("50% of a;b]\nmore", filename="d;1/a].py")])
    (line,) = render("azure", report).splitlines()
    assert line == (
        "##vso[task.logissue type=error;sourcepath=d%3B1/a%5D.py;linenumber=3;columnnumber=5;"
        "code=BN105;]BN105 50%AZP25 of a;b]%0Amore"
    )


def test_rdjson_has_what_reviewdog_reads() -> None:
    document = json.loads(render("rdjson", report_for({"src/train.py": TRAIN})))
    assert document["source"]["name"] == "bnlint"
    keep, fixed = document["diagnostics"]
    assert fixed["location"] == {
        "path": "src/train.py",
        "range": {"start": {"line": 10, "column": 5}, "end": {"line": 10, "column": 15}},
    }
    assert fixed["severity"] == "ERROR"
    assert fixed["code"]["value"] == "BN105"
    assert fixed["code"]["url"].endswith("/rules/BN105.md")
    assert fixed["suggestions"] == [
        {
            # The method's name takes the call: `eval` becomes `eval()`.
            "range": {"start": {"line": 10, "column": 11}, "end": {"line": 10, "column": 15}},
            "text": "eval()",
        }
    ]
    assert keep["code"]["value"] == "BN401"


def test_grouped_has_a_heading_per_file_and_the_summary() -> None:
    text = render("grouped", report_for({"src/train.py": TRAIN, "b.py": "def f(m):\n    m.eval\n"}))
    lines = text.splitlines()
    assert lines[0] == "src/train.py:"
    assert re.fullmatch(r"   6:\d\d BN401 .+", lines[1])
    assert re.fullmatch(r"  10:5  BN105 \[\*\] .+", lines[2])
    assert lines[3] == ""
    assert lines[4] == "b.py:"
    assert lines[-2] == "Found 3 findings."


def test_full_shows_the_fix_as_a_diff_under_the_frame() -> None:
    text = render("full", report_for({"src/train.py": TRAIN}))
    assert "   = fix (safe): " in text
    assert "10 -     model.eval\n10 +     model.eval()\n" in text
    assert text.rstrip().splitlines()[-2].startswith("Found 2 findings.")


def test_every_report_format_is_an_output_format_choice() -> None:
    from bnlint.cli import OUTPUT_FORMATS
    from bnlint.report import FORMATS

    assert OUTPUT_FORMATS == FORMATS


def test_sarif_relative_uri_escapes_a_colon_that_would_read_as_a_scheme(
    sarif_schema: dict[str, Any],
) -> None:
    report = RunReport(
        findings=[finding("m", filename="data:v2/a.py"), finding("m", filename="/mnt/c:d/b.py")],
        root="/repo",
    )
    document = json.loads(render("sarif", report))
    jsonschema.validate(document, sarif_schema)
    inside, outside = (
        r["locations"][0]["physicalLocation"]["artifactLocation"]
        for r in document["runs"][0]["results"]
    )
    assert inside == {"uri": "data%3Av2/a.py", "uriBaseId": "%SRCROOT%"}
    assert outside == {"uri": "file:///mnt/c:d/b.py"}
