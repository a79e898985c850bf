"""`[tool.bnlint]`: where it is found, every key, and the errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bnlint.config import (
    DEFAULT_MIN_BATCH_SIZE,
    CliOverrides,
    ConfigError,
    ConfigResolver,
    settings_from_table,
)
from bnlint.registry import all_rules

from .cli_helpers import run_bnlint

BAD_MODE = "def validate(model):\n    model.eval\n    return model\n"
BAD_BOTH = BAD_MODE + "import torch.nn as nn\nbn = nn.BatchNorm2d(8, momentum=0.9)\n"
DEFAULT_ON = frozenset(code for code, rule in all_rules().items() if rule.default_enabled)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _concise(cwd: Path, *args: str) -> tuple[int, list[tuple[str, str]], str]:
    result = run_bnlint(["check", "--format", "concise", "--quiet", *args], cwd)
    found = []
    for line in result.stdout.splitlines():
        location, rest = line.split(": ", 1)
        found.append((location.split(":")[0], rest.split()[0]))
    return result.exit_code, found, result.stderr


# Where the configuration comes from


def test_nearest_pyproject_above_each_file_applies(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.bnlint]\nselect = ['BN4']\n")
    _write(tmp_path / "sub" / "pyproject.toml", "[tool.bnlint]\nselect = ['BN1']\n")
    _write(tmp_path / "top.py", BAD_BOTH)
    _write(tmp_path / "sub" / "deeper" / "inner.py", BAD_BOTH)
    code, found, _ = _concise(tmp_path, ".")
    assert code == 1
    assert sorted(found) == [("sub/deeper/inner.py", "BN105"), ("top.py", "BN401")]


def test_pyproject_without_a_bnlint_table_is_skipped(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.bnlint]\nignore = ['BN105']\n")
    _write(tmp_path / "pkg" / "pyproject.toml", "[project]\nname = 'pkg'\n")
    _write(tmp_path / "pkg" / "train.py", BAD_BOTH)
    _, found, _ = _concise(tmp_path, "pkg")
    assert found == [("pkg/train.py", "BN401")]


def test_configuration_is_found_from_the_file_not_the_working_directory(tmp_path: Path) -> None:
    _write(tmp_path / "project" / "pyproject.toml", "[tool.bnlint]\nignore = ['BN401']\n")
    _write(tmp_path / "project" / "train.py", BAD_BOTH)
    (tmp_path / "elsewhere").mkdir()
    _, found, _ = _concise(tmp_path / "elsewhere", "../project/train.py")
    assert found == [("../project/train.py", "BN105")]


def test_config_option_applies_to_every_file(tmp_path: Path) -> None:
    _write(tmp_path / "sub" / "pyproject.toml", "[tool.bnlint]\nselect = ['BN4']\n")
    _write(tmp_path / "sub" / "train.py", BAD_BOTH)
    _write(tmp_path / "ci" / "bnlint.toml", "select = ['BN105']\n")
    _, found, _ = _concise(tmp_path, "--config", "ci/bnlint.toml", "sub")
    assert found == [("sub/train.py", "BN105")]


def test_config_option_with_a_pyproject(tmp_path: Path) -> None:
    _write(tmp_path / "settings" / "pyproject.toml", "[tool.bnlint]\nignore = ['BN105']\n")
    _write(tmp_path / "train.py", BAD_BOTH)
    _, found, _ = _concise(tmp_path, "--config", "settings/pyproject.toml", "train.py")
    assert found == [("train.py", "BN401")]


def test_config_option_pyproject_without_the_table_exits_2(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    _write(tmp_path / "train.py", BAD_MODE)
    code, _, stderr = _concise(tmp_path, "--config", "pyproject.toml", "train.py")
    assert code == 2
    assert "[tool.bnlint]" in stderr


def test_config_option_missing_file_exits_2(tmp_path: Path) -> None:
    _write(tmp_path / "train.py", BAD_MODE)
    code, _, stderr = _concise(tmp_path, "--config", "nope.toml", "train.py")
    assert code == 2
    assert "nope.toml" in stderr


# Every key


def test_select_extend_select_and_ignore_keys(tmp_path: Path) -> None:
    _write(
        tmp_path / "pyproject.toml",
        "[tool.bnlint]\nselect = ['BN1']\nextend-select = ['BN401']\nignore = ['BN105']\n",
    )
    _write(tmp_path / "train.py", BAD_BOTH)
    _, found, _ = _concise(tmp_path, "train.py")
    assert found == [("train.py", "BN401")]


def test_ignore_on_the_command_line_adds_to_the_configured_one(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.bnlint]\nignore = ['BN105']\n")
    _write(tmp_path / "train.py", BAD_BOTH)
    code, found, _ = _concise(tmp_path, "--ignore", "BN4", "train.py")
    assert (code, found) == (0, [])


def test_per_file_ignores_match_relative_to_the_configuration(tmp_path: Path) -> None:
    _write(
        tmp_path / "pyproject.toml",
        "[tool.bnlint.per-file-ignores]\n"
        "'tests/*' = ['BN1']\n"
        "'legacy/keras_port.py' = ['BN401', 'BN105']\n",
    )
    for name in ("tests/test_model.py", "legacy/keras_port.py", "src/train.py"):
        _write(tmp_path / name, BAD_BOTH)
    _, found, _ = _concise(tmp_path, ".")
    assert found == [
        ("src/train.py", "BN105"),
        ("src/train.py", "BN401"),
        ("tests/test_model.py", "BN401"),
    ]


def test_exclude_and_extend_exclude_skip_walked_files(tmp_path: Path) -> None:
    _write(
        tmp_path / "pyproject.toml",
        "[tool.bnlint]\nexclude = ['third_party/']\nextend-exclude = ['*_generated.py']\n",
    )
    _write(tmp_path / "third_party" / "vendored.py", BAD_MODE)
    _write(tmp_path / "src" / "model_generated.py", BAD_MODE)
    _write(tmp_path / "src" / "train.py", BAD_MODE)
    _, found, _ = _concise(tmp_path, ".")
    assert found == [("src/train.py", "BN105")]


def test_excluded_file_named_directly_is_still_linted(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.bnlint]\nexclude = ['third_party/']\n")
    _write(tmp_path / "third_party" / "vendored.py", BAD_MODE)
    _, found, _ = _concise(tmp_path, "third_party/vendored.py")
    assert found == [("third_party/vendored.py", "BN105")]


def test_min_batch_size_reaches_the_file_settings(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.bnlint]\nmin-batch-size = 32\n")
    resolver = ConfigResolver(CliOverrides())
    file = tmp_path / "train.py"
    assert resolver.settings_for(file).for_file(file).min_batch_size == 32


def test_defaults_without_any_configuration(tmp_path: Path) -> None:
    settings = settings_from_table({}, tmp_path, None)
    assert settings.enabled == DEFAULT_ON
    assert settings.for_file(tmp_path / "x.py").min_batch_size == DEFAULT_MIN_BATCH_SIZE


def test_prefixes_expand_to_every_matching_code(tmp_path: Path) -> None:
    settings = settings_from_table({"select": ["BN"], "ignore": ["BN0"]}, tmp_path, None)
    expected = {c for c, r in all_rules().items() if r.default_enabled and not c.startswith("BN0")}
    assert settings.enabled == expected


def test_off_by_default_rules_need_their_full_code(tmp_path: Path) -> None:
    off = [code for code, rule in all_rules().items() if not rule.default_enabled]
    if not off:
        pytest.skip("no off-by-default rule is registered yet")
    by_prefix = settings_from_table({"select": ["BN"]}, tmp_path, None)
    by_code = settings_from_table({"extend-select": [off[0]]}, tmp_path, None)
    assert off[0] not in by_prefix.enabled
    assert off[0] in by_code.enabled


# Errors name the key


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ("selct = ['BN1']", "selct"),
        ("select = ['BN999']", "BN999"),
        ("select = ['XYZ']", "XYZ"),
        ("extend-select = ['BN9']", "BN9"),
        ("ignore = ['BN1', 'FOO1']", "FOO1"),
        ("select = 'BN1'", "select"),
        ("exclude = [1, 2]", "exclude"),
        ("extend-exclude = 'build'", "extend-exclude"),
        ("min-batch-size = 'eight'", "min-batch-size"),
        ("min-batch-size = 0", "min-batch-size"),
        ("min-batch-size = true", "min-batch-size"),
        ("per-file-ignores = ['tests/*']", "per-file-ignores"),
        ("[tool.bnlint.per-file-ignores]\n'tests/*' = ['BN777']", "BN777"),
        ("[tool.bnlint.per-file-ignores]\n'tests/*' = 'BN105'", "tests/*"),
        ("[tool.bnlint.BN105]\nstrictness = 3", "BN105.strictness"),
        ("[tool.bnlint.BN999]\nlevel = 1", "BN999"),
    ],
)
def test_invalid_configuration_exits_2_naming_the_key(
    tmp_path: Path, table: str, named: str
) -> None:
    _write(tmp_path / "pyproject.toml", f"[tool.bnlint]\n{table}\n")
    _write(tmp_path / "train.py", BAD_MODE)
    result = run_bnlint(["check", "train.py"], tmp_path)
    assert result.exit_code == 2, result.stdout
    assert named in result.stderr
    assert "pyproject.toml" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_malformed_toml_exits_2_naming_the_file(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.bnlint\nselect = ['BN1'\n")
    _write(tmp_path / "train.py", BAD_MODE)
    result = run_bnlint(["check", "train.py"], tmp_path)
    assert result.exit_code == 2
    assert "pyproject.toml" in result.stderr
    assert "invalid TOML" in result.stderr


def test_invalid_configuration_in_a_subfolder_exits_2(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.bnlint]\n")
    _write(tmp_path / "pkg" / "pyproject.toml", "[tool.bnlint]\nselect = ['BN999']\n")
    _write(tmp_path / "pkg" / "train.py", BAD_MODE)
    result = run_bnlint(["check", "."], tmp_path)
    assert result.exit_code == 2
    assert "BN999" in result.stderr


def test_tool_bnlint_must_be_a_table(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool]\nbnlint = 3\n")
    _write(tmp_path / "train.py", BAD_MODE)
    result = run_bnlint(["check", "train.py"], tmp_path)
    assert result.exit_code == 2
    assert "tool.bnlint" in result.stderr


def test_settings_from_table_error_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="`colour`"):
        settings_from_table({"colour": True}, tmp_path, None)
