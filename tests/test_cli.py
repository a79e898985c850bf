"""The `bnlint` command: exit codes, subcommands, options, stdin and colour."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bnlint._version import __version__
from bnlint.checks.mode import ModeMethodNotCalled
from bnlint.registry import all_rules

from .cli_helpers import run_bnlint

BAD_MODE = "def validate(model, loader):\n    model.eval\n    return [model(x) for x in loader]\n"
BAD_MOMENTUM = "import torch.nn as nn\n\nbn = nn.BatchNorm2d(64, momentum=0.9)\n"
CLEAN = "import torch.nn as nn\n\nbn = nn.BatchNorm2d(64, momentum=0.1)\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with its own (empty) [tool.bnlint], so no configuration above it applies."""
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    return tmp_path


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _codes(output: str) -> list[str]:
    return [line.split(": ", 1)[1].split()[0] for line in output.splitlines() if line]


# Exit codes


def test_clean_file_exits_0_with_a_summary(project: Path) -> None:
    _write(project, "clean.py", CLEAN)
    result = run_bnlint(["check", "clean.py"], project)
    assert result.exit_code == 0
    assert result.stdout == "All checks passed!\n"


def test_findings_exit_1(project: Path) -> None:
    _write(project, "bad.py", BAD_MODE)
    result = run_bnlint(["check", "--format", "concise", "bad.py"], project)
    assert result.exit_code == 1
    assert result.stdout.startswith("bad.py:2:5: BN105 ")


def test_exit_zero_keeps_the_report(project: Path) -> None:
    _write(project, "bad.py", BAD_MODE)
    result = run_bnlint(["check", "--exit-zero", "--format", "concise", "bad.py"], project)
    assert result.exit_code == 0
    assert "BN105" in result.stdout


def test_missing_path_exits_2_naming_it(project: Path) -> None:
    _write(project, "bad.py", BAD_MODE)
    result = run_bnlint(["check", "bad.py", "no/such/file.py"], project)
    assert result.exit_code == 2
    assert "no/such/file.py" in result.stderr
    assert "does not exist" in result.stderr


def test_bad_config_exits_2_naming_the_key(project: Path) -> None:
    _write(project, "pyproject.toml", "[tool.bnlint]\nselct = ['BN1']\n")
    _write(project, "bad.py", BAD_MODE)
    result = run_bnlint(["check", "bad.py"], project)
    assert result.exit_code == 2
    assert "selct" in result.stderr
    assert result.stdout == ""


def test_internal_error_in_one_file_exits_2_and_the_others_are_linted(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = ModeMethodNotCalled.visit_Expr

    def explode(self: ModeMethodNotCalled, node: object) -> None:
        if self.ctx.filename.endswith("boom.py"):
            raise RuntimeError("simulated bug")
        original(self, node)  # type: ignore[arg-type]

    monkeypatch.setattr(ModeMethodNotCalled, "visit_Expr", explode)
    _write(project, "a_first.py", BAD_MODE)
    _write(project, "boom.py", BAD_MODE)
    _write(project, "z_last.py", BAD_MODE)
    result = run_bnlint(["check", "--jobs", "1", "--format", "concise", "."], project)
    assert result.exit_code == 2
    assert "boom.py" in result.stderr
    assert "simulated bug" in result.stderr
    assert "a_first.py:2:5: BN105" in result.stdout
    assert "z_last.py:2:5: BN105" in result.stdout
    assert "boom.py:" not in result.stdout


def test_internal_error_wins_over_exit_zero(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: ModeMethodNotCalled, node: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(ModeMethodNotCalled, "visit_Expr", explode)
    _write(project, "boom.py", BAD_MODE)
    result = run_bnlint(["check", "--jobs", "1", "--exit-zero", "boom.py"], project)
    assert result.exit_code == 2


def test_unknown_option_is_a_usage_error(project: Path) -> None:
    result = run_bnlint(["check", "--no-such-option", "."], project)
    assert result.exit_code == 2
    assert "--no-such-option" in result.stderr


# Commands


def test_bnlint_without_a_subcommand_checks_the_current_folder(project: Path) -> None:
    _write(project, "pkg/train.py", BAD_MODE)
    result = run_bnlint(["--format", "concise"], project)
    assert result.exit_code == 1
    assert result.stdout.startswith("pkg/train.py:2:5: BN105")
    no_arguments = run_bnlint([], project)
    assert no_arguments.exit_code == 1
    assert "pkg/train.py:2:5: BN105" in no_arguments.stdout


def test_bnlint_path_is_bnlint_check_path(project: Path) -> None:
    _write(project, "bad.py", BAD_MOMENTUM)
    short = run_bnlint(["bad.py"], project)
    long = run_bnlint(["check", "bad.py"], project)
    assert (short.exit_code, short.stdout, short.stderr) == (
        long.exit_code,
        long.stdout,
        long.stderr,
    )
    assert short.exit_code == 1


def test_version(project: Path) -> None:
    result = run_bnlint(["--version"], project)
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_rule_lists_every_rule(project: Path) -> None:
    result = run_bnlint(["rule"], project)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["code", "name", "severity", "fix", "default"]
    listed = {line.split()[0]: line.split() for line in lines[1:]}
    for code, rule in all_rules().items():
        assert listed[code][1] == rule.name
        assert listed[code][2] == rule.severity.value
        assert listed[code][3] == rule.fixable.value


@pytest.mark.parametrize("key", ["BN105", "bn105", "mode-method-not-called"])
def test_rule_prints_the_rule_document(project: Path, key: str) -> None:
    result = run_bnlint(["rule", key], project)
    assert result.exit_code == 0
    assert result.stdout.startswith("# mode-method-not-called (BN105)\n")
    assert "## Why is this bad?" in result.stdout


def test_unknown_rule_exits_2(project: Path) -> None:
    result = run_bnlint(["rule", "BN999"], project)
    assert result.exit_code == 2
    assert "BN999" in result.stderr


# Report options


def test_statistics_counts_findings_per_rule(project: Path) -> None:
    _write(project, "a.py", BAD_MODE + BAD_MOMENTUM)
    _write(project, "b.py", BAD_MODE)
    result = run_bnlint(["check", "--statistics", "."], project)
    assert result.exit_code == 1
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [(row[0].strip(), row[1]) for row in rows] == [("2", "BN105"), ("1", "BN401")]
    assert rows[0][2].endswith("mode-method-not-called")


def test_output_writes_the_report_to_a_file(project: Path) -> None:
    _write(project, "bad.py", BAD_MODE)
    result = run_bnlint(["check", "--format", "json", "--output", "report.json", "bad.py"], project)
    assert result.exit_code == 1
    assert result.stdout == ""
    (finding,) = json.loads((project / "report.json").read_text(encoding="utf-8"))
    assert finding["code"] == "BN105"
    assert finding["filename"] == "bad.py"
    assert finding["location"] == {"row": 2, "column": 5}
    assert finding["end_location"] == {"row": 2, "column": 15}


def test_output_to_a_file_has_no_colour_even_when_forced(project: Path) -> None:
    _write(project, "bad.py", BAD_MODE)
    run_bnlint(["check", "--output", "report.txt", "bad.py"], project, env={"FORCE_COLOR": "1"})
    report = (project / "report.txt").read_text(encoding="utf-8")
    assert "BN105" in report
    assert "\x1b[" not in report


def test_output_to_an_unwritable_place_exits_2(project: Path) -> None:
    _write(project, "bad.py", BAD_MODE)
    result = run_bnlint(["check", "--output", "missing-folder/report.txt", "bad.py"], project)
    assert result.exit_code == 2
    assert "missing-folder/report.txt" in result.stderr


def test_quiet_prints_findings_without_the_summary(project: Path) -> None:
    _write(project, "bad.py", BAD_MODE)
    _write(project, "clean.py", CLEAN)
    loud = run_bnlint(["check", "bad.py"], project)
    quiet = run_bnlint(["check", "--quiet", "bad.py"], project)
    assert "Found 1 finding." in loud.stdout
    assert "Found" not in quiet.stdout
    assert "BN105" in quiet.stdout
    assert quiet.exit_code == 1
    assert run_bnlint(["check", "-q", "clean.py"], project).stdout == ""


def test_every_format_is_accepted(project: Path) -> None:
    _write(project, "bad.py", BAD_MODE)
    for output_format in ("text", "concise", "json", "sarif", "github", "gitlab", "junit"):
        result = run_bnlint(["check", "--format", output_format, "bad.py"], project)
        assert result.exit_code == 1, output_format
        assert "BN105" in result.stdout, output_format


def test_an_unknown_format_is_a_usage_error(project: Path) -> None:
    result = run_bnlint(["check", "--format", "xml", "."], project)
    assert result.exit_code == 2


def test_many_jobs_give_the_same_report_as_one(project: Path) -> None:
    for index in range(6):
        _write(project, f"pkg/m{index}.py", BAD_MODE if index % 2 else BAD_MOMENTUM)
    one = run_bnlint(["check", "--jobs", "1", "--format", "json", "pkg"], project)
    many = run_bnlint(["check", "--jobs", "3", "--format", "json", "pkg"], project)
    assert one.exit_code == many.exit_code == 1
    assert one.stdout == many.stdout
    assert len(json.loads(one.stdout)) == 6


# Selection


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], ["BN105", "BN401"]),
        (["--select", "BN105"], ["BN105"]),
        (["--select", "BN1"], ["BN105"]),
        (["--select", "BN4,BN105"], ["BN105", "BN401"]),
        (["--select", "BN"], ["BN105", "BN401"]),
        (["--select", "bn401"], ["BN401"]),
        (["--ignore", "BN105"], ["BN401"]),
        (["--ignore", "BN4"], ["BN105"]),
        (["--ignore", "BN"], []),
        (["--select", "BN105", "--extend-select", "BN401"], ["BN105", "BN401"]),
        (["--select", "BN1", "--extend-select", "BN4", "--ignore", "BN105"], ["BN401"]),
    ],
)
def test_select_ignore_and_extend_select(
    project: Path, options: list[str], expected: list[str]
) -> None:
    _write(project, "both.py", BAD_MODE + BAD_MOMENTUM)
    result = run_bnlint(["check", "--format", "concise", "-q", *options, "both.py"], project)
    assert _codes(result.stdout) == expected
    assert result.exit_code == (1 if expected else 0)


def test_select_on_the_command_line_replaces_the_configured_one(project: Path) -> None:
    _write(project, "pyproject.toml", "[tool.bnlint]\nselect = ['BN4']\n")
    _write(project, "both.py", BAD_MODE + BAD_MOMENTUM)
    configured = run_bnlint(["check", "--format", "concise", "-q", "both.py"], project)
    assert _codes(configured.stdout) == ["BN401"]
    replaced = run_bnlint(
        ["check", "-q", "--format", "concise", "--select", "BN1", "both.py"], project
    )
    assert _codes(replaced.stdout) == ["BN105"]


@pytest.mark.parametrize("option", ["--select", "--ignore", "--extend-select"])
def test_unknown_code_on_the_command_line_exits_2_naming_it(project: Path, option: str) -> None:
    _write(project, "bad.py", BAD_MODE)
    result = run_bnlint(["check", option, "BN105,BN999", "bad.py"], project)
    assert result.exit_code == 2
    assert "BN999" in result.stderr
    assert result.stdout == ""


# Standard input


def test_stdin_with_a_filename(project: Path) -> None:
    result = run_bnlint(
        ["check", "--format", "concise", "--stdin-filename", "src/train.py", "-"],
        project,
        stdin=BAD_MODE,
    )
    assert result.exit_code == 1
    assert result.stdout.startswith("src/train.py:2:5: BN105 ")


def test_stdin_without_a_filename_is_shown_as_a_dash(project: Path) -> None:
    result = run_bnlint(["check", "--format", "concise", "-"], project, stdin=BAD_MOMENTUM)
    assert result.exit_code == 1
    assert result.stdout.startswith("-:3:34: BN401 ")


def test_stdin_clean_exits_0(project: Path) -> None:
    result = run_bnlint(["check", "-", "--stdin-filename", "ok.py"], project, stdin=CLEAN)
    assert result.exit_code == 0


def test_stdin_filename_picks_the_configuration(project: Path) -> None:
    _write(project, "pyproject.toml", "[tool.bnlint.per-file-ignores]\n'tests/*' = ['BN105']\n")
    args = ["check", "--format", "concise", "-", "--stdin-filename"]
    ignored = run_bnlint([*args, "tests/test_eval.py"], project, stdin=BAD_MODE)
    linted = run_bnlint([*args, "src/eval.py"], project, stdin=BAD_MODE)
    assert ignored.exit_code == 0
    assert linted.exit_code == 1


def test_stdin_syntax_error_is_bn001(project: Path) -> None:
    result = run_bnlint(["check", "--format", "concise", "-"], project, stdin="def broken(:\n")
    assert result.exit_code == 1
    assert " BN001 " in result.stdout


# Colour


def test_no_colour_when_not_a_terminal(project: Path) -> None:
    _write(project, "bad.py", BAD_MODE)
    assert "\x1b[" not in run_bnlint(["check", "bad.py"], project).stdout


def test_force_color_colours_the_text_format(project: Path) -> None:
    _write(project, "bad.py", BAD_MODE)
    result = run_bnlint(["check", "bad.py"], project, env={"FORCE_COLOR": "1"})
    assert "\x1b[" in result.stdout
    assert "BN105" in result.stdout


def test_no_color_wins_over_force_color(project: Path) -> None:
    _write(project, "bad.py", BAD_MODE)
    result = run_bnlint(["check", "bad.py"], project, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in result.stdout


def test_force_color_leaves_machine_formats_alone(project: Path) -> None:
    _write(project, "bad.py", BAD_MODE)
    for output_format in ("concise", "json", "sarif", "github", "gitlab", "junit"):
        result = run_bnlint(
            ["check", "--format", output_format, "bad.py"], project, env={"FORCE_COLOR": "1"}
        )
        assert "\x1b[" not in result.stdout, output_format


def test_fix_marker_only_on_findings_plain_fix_applies_to(project: Path) -> None:
    _write(project, "both.py", BAD_MODE + BAD_MOMENTUM)
    concise = run_bnlint(["check", "--format", "concise", "both.py"], project).stdout.splitlines()
    assert concise[0].startswith("both.py:2:5: BN105 [*] ")
    assert concise[1].startswith("both.py:6:34: BN401 `momentum=0.9`")
    statistics = run_bnlint(["check", "--statistics", "both.py"], project).stdout
    assert "BN105\t[*] mode-method-not-called" in statistics
    assert "BN401\tkeras-momentum" in statistics


@pytest.mark.parametrize("command", [["probe", "models.py:build"], ["run", "train.py"]])
def test_probe_commands_without_torch_say_how_to_install_it(
    project: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    # As if torch were not installed: the import system finds no `torch` module.
    monkeypatch.setitem(sys.modules, "torch", None)
    _write(project, "train.py", "print('training')\n")
    result = run_bnlint(command, project)
    assert result.exit_code == 2
    assert 'pip install "bnlint[probe]"' in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
