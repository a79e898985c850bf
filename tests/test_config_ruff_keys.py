"""The configuration conventions ruff users expect: `extend`, `bnlint.toml`, `ALL`,
`fixable`/`unfixable`, `!` in per-file-ignores, command defaults in the file,
`--config KEY=VALUE` and `--show-settings`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bnlint.catalog import RULES
from bnlint.config import (
    VALID_KEYS,
    CliOverrides,
    ConfigError,
    ConfigResolver,
    parse_config_arguments,
    read_config_file,
    settings_from_table,
)

from .cli_helpers import run_bnlint

BAD_MODE = "def validate(model):\n    model.eval\n    return model\n"
KERAS = "import torch.nn as nn\nbn = nn.BatchNorm2d(8, momentum=0.9)\n"
DEFAULT_ON = frozenset(code for code, info in RULES.items() if info.default_enabled)
OFF = sorted(code for code, info in RULES.items() if not info.default_enabled)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _codes(cwd: Path, *args: str) -> tuple[int, list[str], str]:
    result = run_bnlint(["check", "--output-format", "json", *args], cwd)
    found = json.loads(result.stdout) if result.stdout.strip() else []
    return result.exit_code, sorted(f["code"] for f in found), result.stderr


# --- extend --------------------------------------------------------------------------------


def test_extend_inherits_a_base_file_relative_to_the_extending_file(tmp_path: Path) -> None:
    _write(tmp_path / "shared" / "base.toml", "select = ['BN4']\nmin-batch-size = 32\n")
    child = _write(
        tmp_path / "proj" / "pyproject.toml",
        "[tool.bnlint]\nextend = '../shared/base.toml'\nextend-select = ['BN105']\n",
    )
    settings = read_config_file(child, require_table=True)
    assert settings is not None
    assert settings.min_batch_size == 32
    assert settings.enabled == {code for code in DEFAULT_ON if code.startswith("BN4")} | {"BN105"}
    assert settings.root == child.parent
    assert settings.sources == [child, tmp_path / "shared" / "base.toml"]


def test_extend_from_the_command_line_folder_does_not_matter(tmp_path: Path) -> None:
    _write(tmp_path / "base.toml", "ignore = ['BN105']\n")
    _write(tmp_path / "proj" / "bnlint.toml", "extend = '../base.toml'\n")
    _write(tmp_path / "proj" / "train.py", BAD_MODE + KERAS)
    status, found, _ = _codes(tmp_path, "proj")
    assert status == 1
    assert found == ["BN401"]


def test_extended_additions_accumulate_and_a_new_select_starts_over(tmp_path: Path) -> None:
    base = settings_from_table({"ignore": ["BN105"], "extend-select": [OFF[0]]}, tmp_path, None)
    added = settings_from_table({"ignore": ["BN401"]}, tmp_path, None, base=base)
    assert "BN105" not in added.enabled
    assert "BN401" not in added.enabled
    assert OFF[0] in added.enabled
    restarted = settings_from_table({"select": ["BN1"]}, tmp_path, None, base=base)
    assert "BN105" in restarted.enabled
    assert OFF[0] not in restarted.enabled


def test_extended_rule_options_merge_per_option(tmp_path: Path) -> None:
    with_options = [code for code, info in RULES.items() if info.options]
    if not with_options:
        pytest.skip("no rule declares options")
    code = with_options[0]
    name, default = next(iter(RULES[code].options.items()))
    base = settings_from_table({code: {name: default}}, tmp_path, None)
    child = settings_from_table({"min-batch-size": 4}, tmp_path, None, base=base)
    assert child.rule_options == {code: {name: default}}


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"bnlint.toml": "extend = 'missing.toml'\n"}, "missing.toml does not exist"),
        ({"bnlint.toml": "extend = 'bnlint.toml'\n"}, "cycle"),
        (
            {"bnlint.toml": "extend = 'a.toml'\n", "a.toml": "extend = 'bnlint.toml'\n"},
            "cycle",
        ),
        ({"bnlint.toml": "extend = 3\n"}, "`extend` must be a path"),
        ({"bnlint.toml": "extend = 'a.toml'\n", "a.toml": "selct = []\n"}, "selct"),
    ],
)
def test_extend_errors_exit_2(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        _write(tmp_path / name, text)
    _write(tmp_path / "train.py", BAD_MODE)
    result = run_bnlint(["check", "train.py"], tmp_path)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# --- bnlint.toml and .bnlint.toml -------------------------------------------------------------


def test_bnlint_toml_is_found_like_pyproject_and_wins_in_the_same_folder(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.bnlint]\nselect = ['BN4']\n")
    _write(tmp_path / "bnlint.toml", "select = ['BN1']\n")
    _write(tmp_path / "pkg" / "train.py", BAD_MODE + KERAS)
    assert _codes(tmp_path, ".")[1] == ["BN105"]
    _write(tmp_path / ".bnlint.toml", "select = ['BN401']\n")
    assert _codes(tmp_path, ".")[1] == ["BN401"]


def test_a_nearer_pyproject_wins_over_a_farther_bnlint_toml(tmp_path: Path) -> None:
    _write(tmp_path / "bnlint.toml", "select = ['BN1']\n")
    _write(tmp_path / "pkg" / "pyproject.toml", "[tool.bnlint]\nselect = ['BN4']\n")
    _write(tmp_path / "pkg" / "train.py", BAD_MODE + KERAS)
    assert _codes(tmp_path, ".")[1] == ["BN401"]


def test_bnlint_toml_keys_are_top_level_and_validated(tmp_path: Path) -> None:
    _write(tmp_path / "bnlint.toml", "[tool.bnlint]\nselect = ['BN1']\n")
    _write(tmp_path / "train.py", BAD_MODE)
    result = run_bnlint(["check", "train.py"], tmp_path)
    assert result.exit_code == 2
    assert "unknown configuration key `tool`" in result.stderr
    assert "bnlint.toml" in result.stderr


# --- the unknown-key error ------------------------------------------------------------------


def test_unknown_key_error_lists_every_valid_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_table({"selct": ["BN1"]}, tmp_path, None)
    message = str(caught.value)
    assert message.startswith("unknown configuration key `selct`; valid keys are ")
    for key in VALID_KEYS:
        assert f"`{key}`" in message


# --- ALL, fixable / unfixable, `!` in per-file-ignores -------------------------------------


def test_all_selects_every_rule_including_those_off_by_default(tmp_path: Path) -> None:
    assert settings_from_table({"select": ["ALL"]}, tmp_path, None).enabled == frozenset(RULES)
    everything_but = settings_from_table({"select": ["ALL"], "ignore": ["BN1"]}, tmp_path, None)
    assert everything_but.enabled == {code for code in RULES if not code.startswith("BN1")}
    assert settings_from_table({"ignore": ["ALL"]}, tmp_path, None).enabled == frozenset()


def test_all_on_the_command_line(tmp_path: Path) -> None:
    _write(tmp_path / "train.py", BAD_MODE)
    status, found, _ = _codes(tmp_path, "--select", "ALL", "--ignore", "BN105", "train.py")
    assert (status, found) == (0, [])


def test_fixable_and_unfixable_decide_which_fixes_are_offered(tmp_path: Path) -> None:
    only = settings_from_table({"fixable": ["BN1"], "unfixable": ["BN105"]}, tmp_path, None)
    fixable = only.for_file(None).fixable
    assert "BN101" in fixable
    assert "BN105" not in fixable
    assert "BN401" not in fixable
    assert settings_from_table({}, tmp_path, None).for_file(None).fixable == frozenset(RULES)


def test_unfixable_rule_is_reported_without_a_fix(tmp_path: Path) -> None:
    _write(tmp_path / "bnlint.toml", "unfixable = ['BN105']\n")
    target = _write(tmp_path / "train.py", BAD_MODE)
    result = run_bnlint(["check", "--output-format", "json", "train.py"], tmp_path)
    (finding,) = json.loads(result.stdout)
    assert finding["code"] == "BN105"
    assert finding["fix"] is None
    fixed = run_bnlint(["check", "--fix", "train.py"], tmp_path)
    assert fixed.exit_code == 1
    assert target.read_text(encoding="utf-8") == BAD_MODE


def test_negated_per_file_ignores_pattern_applies_to_every_other_file(tmp_path: Path) -> None:
    settings = settings_from_table(
        {"per-file-ignores": {"!src/**": ["BN105"]}}, tmp_path, tmp_path / "bnlint.toml"
    )
    assert "BN105" in settings.for_file(tmp_path / "src" / "train.py").enabled
    assert "BN105" not in settings.for_file(tmp_path / "scripts" / "train.py").enabled


# --- fix, unsafe-fixes and output-format in the file --------------------------------------


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ("fix = 'yes'", "fix"),
        ("unsafe-fixes = 1", "unsafe-fixes"),
        ("output-format = 'xml'", "output-format"),
        ("fixable = ['BN999']", "BN999"),
        ("unfixable = 'BN105'", "unfixable"),
        ("[tool.bnlint.per-file-ignores]\n'!tests/*' = ['BN777']", "BN777"),
    ],
)
def test_new_keys_are_validated(tmp_path: Path, table: str, named: str) -> None:
    _write(tmp_path / "pyproject.toml", f"[tool.bnlint]\n{table}\n")
    _write(tmp_path / "train.py", BAD_MODE)
    result = run_bnlint(["check", "train.py"], tmp_path)
    assert result.exit_code == 2, result.stdout
    assert named in result.stderr


def test_output_format_key_sets_the_default_format(tmp_path: Path) -> None:
    _write(tmp_path / "bnlint.toml", "output-format = 'json'\n")
    _write(tmp_path / "train.py", BAD_MODE)
    result = run_bnlint(["check", "train.py"], tmp_path)
    assert json.loads(result.stdout)[0]["code"] == "BN105"
    given = run_bnlint(["check", "--output-format", "pylint", "train.py"], tmp_path)
    assert given.stdout.startswith("train.py:2: [BN105] ")


def test_fix_key_fixes_and_no_fix_overrides_it(tmp_path: Path) -> None:
    _write(tmp_path / "bnlint.toml", "fix = true\n")
    target = _write(tmp_path / "train.py", BAD_MODE)
    kept = run_bnlint(["check", "--no-fix", "train.py"], tmp_path)
    assert kept.exit_code == 1
    assert target.read_text(encoding="utf-8") == BAD_MODE
    fixed = run_bnlint(["check", "train.py"], tmp_path)
    assert fixed.exit_code == 0, fixed.stdout + fixed.stderr
    assert "model.eval()" in target.read_text(encoding="utf-8")


# --- --config KEY=VALUE -------------------------------------------------------------------


def test_config_arguments_split_into_a_file_and_a_table(tmp_path: Path) -> None:
    config = _write(tmp_path / "ci.toml", "select = ['BN1']\n")
    path, table = parse_config_arguments([str(config), "min-batch-size = 16", "ignore = ['BN105']"])
    assert path == config
    assert table == {"min-batch-size": 16, "ignore": ["BN105"]}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("select = BN1", "neither a file nor a `key = value` TOML fragment"),
        ("colour = true", "unknown configuration key `colour`"),
        ("min-batch-size = 0", "min-batch-size"),
    ],
)
def test_config_argument_errors_exit_2(tmp_path: Path, value: str, message: str) -> None:
    _write(tmp_path / "train.py", BAD_MODE)
    result = run_bnlint(["check", "--config", value, "train.py"], tmp_path)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr


def test_config_key_value_overrides_every_configuration_file(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.bnlint]\nselect = ['BN1']\n")
    _write(tmp_path / "sub" / "bnlint.toml", "select = ['BN1']\nignore = ['BN105']\n")
    _write(tmp_path / "a.py", BAD_MODE + KERAS)
    _write(tmp_path / "sub" / "b.py", BAD_MODE + KERAS)
    assert _codes(tmp_path, ".")[1] == ["BN105"]
    status, found, _ = _codes(tmp_path, "--config", "select = ['BN4']", ".")
    assert (status, found) == (1, ["BN401", "BN401"])


def test_config_file_and_key_value_together(tmp_path: Path) -> None:
    _write(tmp_path / "ci.toml", "select = ['BN1', 'BN4']\n")
    _write(tmp_path / "train.py", BAD_MODE + KERAS)
    status, found, _ = _codes(
        tmp_path, "--config", "ci.toml", "--config", "ignore = ['BN401']", "train.py"
    )
    assert (status, found) == (1, ["BN105"])


def test_resolver_applies_the_override_table(tmp_path: Path) -> None:
    _write(tmp_path / "bnlint.toml", "min-batch-size = 4\n")
    resolver = ConfigResolver(CliOverrides(table={"min-batch-size": 64}))
    assert resolver.settings_for(tmp_path / "x.py").min_batch_size == 64


# --- --show-settings ----------------------------------------------------------------------


def test_show_settings_prints_the_resolved_settings_and_lints_nothing(tmp_path: Path) -> None:
    _write(tmp_path / "base.toml", "min-batch-size = 32\n")
    _write(tmp_path / "bnlint.toml", "extend = 'base.toml'\nselect = ['BN1']\nfix = true\n")
    target = _write(tmp_path / "train.py", BAD_MODE)
    result = run_bnlint(["check", "--show-settings", "train.py"], tmp_path)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert 'select = ["BN1"]' in lines
    assert "min-batch-size = 32" in lines
    assert "fix = true" in lines
    assert any(line.startswith("config-files = [") and "base.toml" in line for line in lines)
    enabled = next(line for line in lines if line.startswith("enabled = "))
    assert '"BN105"' in enabled
    assert '"BN401"' not in enabled
    assert target.read_text(encoding="utf-8") == BAD_MODE


# --- the list keys as command-line options -------------------------------------------------


def test_exclude_options_override_the_configuration(tmp_path: Path) -> None:
    _write(tmp_path / "bnlint.toml", "extend-exclude = ['gen/']\n")
    _write(tmp_path / "gen" / "a.py", BAD_MODE)
    _write(tmp_path / "src" / "b.py", BAD_MODE)
    _write(tmp_path / "scratch" / "c.py", BAD_MODE)
    assert len(_codes(tmp_path, ".")[1]) == 2
    assert len(_codes(tmp_path, "--extend-exclude", "scratch/", ".")[1]) == 1
    # `--exclude` replaces the configured `exclude`; `extend-exclude` still adds to it.
    assert len(_codes(tmp_path, "--exclude", "src/,scratch/", ".")[1]) == 0


def test_fixable_options_decide_which_fixes_are_offered(tmp_path: Path) -> None:
    _write(tmp_path / "train.py", BAD_MODE)

    def fix_of(*args: str) -> object:
        result = run_bnlint(["check", "--output-format", "json", *args, "train.py"], tmp_path)
        return json.loads(result.stdout)[0]["fix"]

    assert fix_of() is not None
    assert fix_of("--unfixable", "BN105") is None
    assert fix_of("--fixable", "BN4") is None
    assert fix_of("--fixable", "BN1") is not None
    result = run_bnlint(["check", "--fixable", "BN999", "train.py"], tmp_path)
    assert result.exit_code == 2
    assert "BN999" in result.stderr


def test_isolated_reads_no_configuration_file(tmp_path: Path) -> None:
    _write(tmp_path / "bnlint.toml", "ignore = ['BN105']\n")
    _write(tmp_path / "train.py", BAD_MODE)
    assert _codes(tmp_path, "train.py")[1] == []
    assert _codes(tmp_path, "--isolated", "train.py")[1] == ["BN105"]
    assert _codes(tmp_path, "--isolated", "--config", "ignore = ['BN1']", "train.py")[1] == []
    result = run_bnlint(["check", "--isolated", "--config", "bnlint.toml", "train.py"], tmp_path)
    assert result.exit_code == 2
    assert "--isolated" in result.stderr
