"""`--output-format` (ruff's name) and `--format`, the summary of the line formats, JSON
statistics, and report paths counted from the repository's root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bnlint.diagnostics import OUTPUT_FORMATS

from .cli_helpers import run_bnlint

BAD = "def validate(model):\n    model.eval\n    return model\n"
KERAS = "import torch.nn as nn\nbn = nn.BatchNorm2d(8, momentum=0.9)\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the repository's root, as a checkout has it
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(BAD + KERAS, encoding="utf-8")
    (tmp_path / "src" / "clean.py").write_text("import torch\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
def test_output_format_and_format_are_the_same_option(project: Path, output_format: str) -> None:
    ruff_name = run_bnlint(["check", "--output-format", output_format, "src"], project)
    ours = run_bnlint(["check", "--format", output_format, "src"], project)
    assert ruff_name.exit_code == ours.exit_code == 1, ruff_name.stderr
    assert ruff_name.stdout == ours.stdout
    assert ruff_name.stdout


def test_unknown_output_format_is_a_usage_error(project: Path) -> None:
    result = run_bnlint(["check", "--output-format", "xml", "src"], project)
    assert result.exit_code == 2
    assert "xml" in result.stderr


def test_concise_ends_with_the_summary_like_text(project: Path) -> None:
    result = run_bnlint(["check", "--output-format", "concise", "src"], project)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("src/train.py:2:5: BN105 [*] ")
    assert lines[1].startswith("src/train.py:5:")
    assert lines[2:] == [
        "Found 2 findings.",
        "[*] 1 fixable with `--fix` (1 more with `--unsafe-fixes`).",
    ]


def test_concise_says_all_checks_passed_on_a_clean_run(project: Path) -> None:
    result = run_bnlint(["check", "--output-format", "concise", "src/clean.py"], project)
    assert (result.exit_code, result.stdout) == (0, "All checks passed!\n")


def test_concise_quiet_prints_findings_only(project: Path) -> None:
    result = run_bnlint(["check", "--output-format", "concise", "--quiet", "src"], project)
    assert len(result.stdout.splitlines()) == 2
    clean = run_bnlint(["check", "--output-format", "concise", "-q", "src/clean.py"], project)
    assert clean.stdout == ""


@pytest.mark.parametrize("output_format", ["json", "json-lines"])
def test_statistics_as_json(project: Path, output_format: str) -> None:
    result = run_bnlint(["check", "--statistics", "--output-format", output_format, "src"], project)
    assert result.exit_code == 1
    if output_format == "json":
        entries = json.loads(result.stdout)
    else:
        entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(entries, key=lambda e: e["code"]) == [
        {"code": "BN105", "name": "mode-method-not-called", "count": 1, "fixable": True},
        {"code": "BN401", "name": "keras-momentum", "count": 1, "fixable": False},
    ]


def test_statistics_as_a_table_otherwise(project: Path) -> None:
    result = run_bnlint(["check", "--statistics", "src"], project)
    assert result.stdout.splitlines() == [
        "    1\tBN105\t[*] mode-method-not-called",
        "    1\tBN401\tkeras-momentum",
    ]


@pytest.mark.parametrize("given", ["./src/train.py", "{root}/src/train.py", "../src/train.py"])
def test_gitlab_paths_count_from_the_repository_root(project: Path, given: str) -> None:
    # From a subfolder, `../src/train.py` is still `src/train.py` to GitLab.
    cwd = project / "docs" if given.startswith("../") else project
    cwd.mkdir(exist_ok=True)
    result = run_bnlint(["check", "--output-format", "gitlab", given.format(root=project)], cwd)
    paths = {issue["location"]["path"] for issue in json.loads(result.stdout)}
    assert paths == {"src/train.py"}


def test_sarif_uris_count_from_srcroot(project: Path) -> None:
    result = run_bnlint(["check", "--output-format", "sarif", "./src"], project)
    (run,) = json.loads(result.stdout)["runs"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.as_uri() + "/"
    for item in run["results"]:
        location = item["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location == {"uri": "src/train.py", "uriBaseId": "%SRCROOT%"}


@pytest.mark.parametrize("option", ["--output", "--output-file", "-o"])
def test_output_file_takes_ruffs_name_too(project: Path, option: str) -> None:
    result = run_bnlint(["check", "--output-format", "json", option, "report.json", "src"], project)
    assert result.exit_code == 1
    assert result.stdout == ""
    report = json.loads((project / "report.json").read_text(encoding="utf-8"))
    assert {finding["code"] for finding in report} == {"BN105", "BN401"}


def test_statistics_count_unsafe_fixes_as_fixable_when_the_run_allows_them(
    project: Path,
) -> None:
    safe_only = run_bnlint(["check", "--statistics", "--output-format", "json", "src"], project)
    by_code = {e["code"]: e["fixable"] for e in json.loads(safe_only.stdout)}
    assert by_code == {"BN105": True, "BN401": False}
    unsafe = run_bnlint(
        ["check", "--statistics", "--unsafe-fixes", "--output-format", "json", "src"], project
    )
    # `--unsafe-fixes` without `--fix` only marks them: nothing is written.
    assert {e["code"]: e["fixable"] for e in json.loads(unsafe.stdout)} == {
        "BN105": True,
        "BN401": True,
    }
    assert (project / "src" / "train.py").read_text(encoding="utf-8") == BAD + KERAS


def test_ruffs_short_options_exit_zero_and_no_cache(project: Path) -> None:
    result = run_bnlint(["check", "-e", "-n", "src"], project)
    assert result.exit_code == 0
    assert "Found 2 findings." in result.stdout
    assert not (project / ".bnlint_cache").exists()
