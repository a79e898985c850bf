"""Snapshots of bnlint's output over fixtures/: one concise golden per script, and the
whole run in every format. `pytest --update-goldens` rewrites them for review."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import jsonschema
import pytest

from bnlint._version import __version__
from bnlint.report import FORMATS

from .cli_helpers import run_bnlint
from .conftest import FIXTURES, GOLDEN, ROOT, check_golden

SARIF_SCHEMA = Path(__file__).resolve().parent / "schemas" / "sarif-2.1.0.json"
_SCRIPT_SUFFIXES = (".py", ".pyi", ".ipynb")
_VERSION_MASK = "<version>"
_ROOT_MASK = "file:///<checkout>/"


def _fixture_scripts() -> list[Path]:
    return sorted(
        path
        for path in FIXTURES.rglob("*")
        if path.suffix in _SCRIPT_SUFFIXES and "__pycache__" not in path.parts
    )


def _golden_name(script: Path) -> str:
    return script.relative_to(FIXTURES).as_posix().replace("/", "__") + ".txt"


def _mask_versions(text: str) -> str:
    if __version__ not in text:
        return text
    return re.sub(rf"(?<![\w.]){re.escape(__version__)}(?![\w.])", _VERSION_MASK, text)


def _check_all(output_format: str) -> str:
    result = run_bnlint(
        ["check", "--format", output_format, "--jobs", "1", "fixtures"], ROOT, env={"NO_COLOR": "1"}
    )
    assert result.exit_code == 1, result.stderr
    assert result.stderr == ""
    # SARIF names the checkout's own folder as %SRCROOT%: the golden must not.
    return _mask_versions(result.stdout).replace(ROOT.as_uri() + "/", _ROOT_MASK)


def test_fixtures_exist() -> None:
    assert _fixture_scripts(), "fixtures/ holds no script"


@pytest.mark.parametrize(
    "script", _fixture_scripts(), ids=lambda p: p.relative_to(FIXTURES).as_posix()
)
def test_fixture_golden(script: Path, update_goldens: bool) -> None:
    relative = script.relative_to(ROOT).as_posix()
    # Findings only: the summary line is the whole-run goldens' business.
    result = run_bnlint(["check", "--format", "concise", "--quiet", relative], ROOT)
    assert result.exit_code in (0, 1), result.stderr
    assert result.stderr == ""
    assert (result.exit_code == 1) == bool(result.stdout)
    check_golden(GOLDEN / _golden_name(script), _mask_versions(result.stdout), update_goldens)


def test_no_stale_fixture_goldens() -> None:
    expected = {_golden_name(script) for script in _fixture_scripts()}
    per_script = {path.name for path in GOLDEN.glob("*.txt") if not path.name.startswith("all.")}
    assert per_script <= expected, f"goldens without a fixture: {sorted(per_script - expected)}"


@pytest.mark.parametrize("output_format", FORMATS)
def test_whole_run_golden(output_format: str, update_goldens: bool) -> None:
    check_golden(GOLDEN / f"all.{output_format}", _check_all(output_format), update_goldens)


def test_text_format_has_code_frames_and_no_colour() -> None:
    output = _check_all("text")
    assert "\x1b[" not in output
    assert re.search(r"^\s*\d+ \| ", output, re.MULTILINE), "no code frame line"
    assert re.search(r"^\s* \| +\^+ BN\d{3}$", output, re.MULTILINE), "no caret line"
    assert re.search(r"^Found \d+ findings?\.$", output, re.MULTILINE)


def test_json_matches_the_contract_schema() -> None:
    findings = json.loads(_check_all("json"))
    assert findings
    keys = {
        "code",
        "name",
        "severity",
        "message",
        "filename",
        "location",
        "end_location",
        "fix",
        "url",
        "confirmed",
    }
    for finding in findings:
        assert keys <= finding.keys()
        assert set(finding) - keys <= {"cell", "count", "related"}
        for step in finding.get("related", []):
            assert set(step) - {"cell"} == {"message", "filename", "location", "end_location"}
            assert step["message"]
            assert step["location"]["row"] >= 1
        assert re.fullmatch(r"BN\d{3}", finding["code"])
        assert finding["severity"] in ("error", "warning", "info")
        assert not Path(finding["filename"]).is_absolute()
        assert finding["filename"].startswith("fixtures/")
        for key in ("location", "end_location"):
            assert set(finding[key]) == {"row", "column"}
            assert finding[key]["row"] >= 1
            assert finding[key]["column"] >= 1
        assert finding["url"].endswith(f"/rules/{finding['code']}.md")
        assert finding["confirmed"] is False
        fix = finding["fix"]
        if fix is not None:
            assert set(fix) == {"applicability", "message", "edits"}
            assert fix["applicability"] in ("safe", "unsafe")
            for edit in fix["edits"]:
                assert set(edit) == {"content", "location", "end_location"}


def test_sarif_is_valid_against_the_official_schema() -> None:
    document = json.loads(_check_all("sarif"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)
    (run,) = document["runs"]
    fired = {result["ruleId"] for result in run["results"]}
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} == fired
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_github_annotations_are_workflow_commands() -> None:
    lines = _check_all("github").splitlines()
    assert lines
    pattern = re.compile(
        r"^::(error|warning|notice) file=[^,]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=[^:]+::BN\d{3} .+$"
    )
    for line in lines:
        assert pattern.match(line), line


def test_gitlab_report_has_unique_fingerprints() -> None:
    issues = json.loads(_check_all("gitlab"))
    assert issues
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    for issue in issues:
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert issue["location"]["lines"]["begin"] >= 1


def test_junit_counts_one_failure_per_finding() -> None:
    junit = _check_all("junit")
    findings = json.loads(_check_all("json"))
    root = ElementTree.fromstring(junit.split("\n", 1)[1])
    assert root.tag == "testsuites"
    assert int(root.get("failures", "-1")) == len(findings)
    assert len(root.findall(".//failure")) == len(findings)
