"""Configuration abuse: huge, malformed, deeply nested, wrongly typed and self-defeating configs.

Each is a clear message and the right exit code, never a traceback (the everyday key
errors are in test_config.py; these are the files nobody writes on purpose).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bnlint.registry import all_rules

from .cli_helpers import run_bnlint

BAD = "import torch.nn as nn\n\nbn = nn.BatchNorm2d(64, momentum=0.9)\n"


def _project(tmp_path: Path, config: str | bytes) -> Path:
    data = config.encode("utf-8") if isinstance(config, str) else config
    (tmp_path / "pyproject.toml").write_bytes(data)
    (tmp_path / "train.py").write_text(BAD, encoding="utf-8")
    return tmp_path


def _check(cwd: Path, *args: str) -> tuple[int, str, str]:
    result = run_bnlint(["check", "--no-cache", "--format", "concise", *args], cwd)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


def _config_error(cwd: Path, *args: str) -> str:
    code, stdout, stderr = _check(cwd, *args)
    assert code == 2, (stdout, stderr)
    assert stdout == ""
    assert stderr.startswith("error: ")
    return stderr


def test_huge_pyproject_is_refused_before_parsing(tmp_path: Path) -> None:
    filler = "".join(f"key_{i} = {i}\n" for i in range(120_000))
    stderr = _config_error(_project(tmp_path, "[tool.bnlint]\n[tool.other]\n" + filler), "train.py")
    assert "pyproject.toml" in stderr
    assert "larger than 1 MB" in stderr


@pytest.mark.parametrize(
    "config",
    [
        "[tool.bnlint]\nselect = " + "[" * 50_000 + "]" * 50_000 + "\n",
        "[tool.bnlint]\nselect = " + "{a = " * 20_000 + "1" + "}" * 20_000 + "\n",
    ],
    ids=["nested-arrays", "nested-inline-tables"],
)
def test_deeply_nested_toml_is_invalid_toml_not_a_recursion_error(
    tmp_path: Path, config: str
) -> None:
    stderr = _config_error(_project(tmp_path, config), "train.py")
    assert "pyproject.toml" in stderr
    assert "invalid TOML" in stderr


@pytest.mark.parametrize(
    "config",
    [
        b"[tool.bnlint]\nselect = ['BN4']\x00\n",
        b"[tool.bnlint]\nselect = ['BN4\xff']\n",
        b"\xff\xfe[\x00t\x00o\x00o\x00l\x00]\x00",
        b"[tool.bnlint]\nselect = ['BN4']\n[tool.bnlint]\n",
        b"[tool.bnlint]\nselect = ['BN4'\n",
        b"[tool.bnlint]\n" + b"select = ['BN4']\n" * 2,
        b"\xef\xbb\xbf[tool.bnlint]\nselect = ['BN4']\r\n\x1a",
    ],
    ids=["nul", "bad-utf8", "utf16", "table-twice", "unclosed", "key-twice", "bom-and-ctrl-z"],
)
def test_malformed_pyproject_is_a_config_error_naming_the_file(
    tmp_path: Path, config: bytes
) -> None:
    stderr = _config_error(_project(tmp_path, config), "train.py")
    assert "pyproject.toml" in stderr


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ("select = [['BN4']]", "select"),
        ("select = {BN4 = true}", "select"),
        ("select = 401", "select"),
        ("ignore = [true]", "ignore"),
        ("exclude = [{}]", "exclude"),
        ("min-batch-size = 8.0", "min-batch-size"),
        ("min-batch-size = -3", "min-batch-size"),
        ("min-batch-size = 1979-05-27", "min-batch-size"),
        ("min-batch-size = [8]", "min-batch-size"),
        ("per-file-ignores = 3", "per-file-ignores"),
        ("per-file-ignores = {'*.py' = [1]}", "per-file-ignores"),
        ("'' = 1", "``"),
        ("'sélect' = ['BN4']", "sélect"),
        ("BN401 = 3", "BN401"),
        ("select = ['']", "select"),
    ],
)
def test_wrong_types_and_unknown_keys_name_the_key(tmp_path: Path, table: str, named: str) -> None:
    stderr = _config_error(_project(tmp_path, f"[tool.bnlint]\n{table}\n"), "train.py")
    assert named in stderr


@pytest.mark.parametrize(
    "pattern", ["\\", "!", "[z-a].py"], ids=["lone-backslash", "lone-bang", "bad-range"]
)
@pytest.mark.parametrize("key", ["exclude", "extend-exclude", "per-file-ignores"])
def test_invalid_patterns_are_config_errors(tmp_path: Path, key: str, pattern: str) -> None:
    value = f"{{'{pattern}' = ['BN4']}}" if key == "per-file-ignores" else f"['{pattern}']"
    stderr = _config_error(_project(tmp_path, f"[tool.bnlint]\n{key} = {value}\n"), ".")
    assert key in stderr
    assert "invalid pattern" in stderr


def test_unknown_per_rule_option_and_wrong_option_type_name_the_option(tmp_path: Path) -> None:
    with_options = [(code, rule) for code, rule in all_rules().items() if rule.options]
    if not with_options:
        pytest.skip("no rule declares options yet")
    code, rule = with_options[0]
    name = next(iter(rule.options))
    stderr = _config_error(_project(tmp_path, f"[tool.bnlint.{code}]\n{name} = [[]]\n"), "train.py")
    assert f"{code}.{name}" in stderr
    stderr = _config_error(
        _project(tmp_path, f"[tool.bnlint.{code}]\nno-such-option = 1\n"), "train.py"
    )
    assert "no-such-option" in stderr


def test_config_that_excludes_everything_warns_and_exits_0(tmp_path: Path) -> None:
    code, _stdout, stderr = _check(_project(tmp_path, "[tool.bnlint]\nexclude = ['*']\n"), ".")
    assert code == 0
    assert "no Python files found" in stderr


def test_config_that_selects_nothing_finds_nothing(tmp_path: Path) -> None:
    code, stdout, _ = _check(_project(tmp_path, "[tool.bnlint]\nselect = []\n"), ".")
    assert code == 0
    assert "BN" not in stdout


def test_config_that_ignores_every_rule_finds_nothing(tmp_path: Path) -> None:
    code, stdout, _ = _check(_project(tmp_path, "[tool.bnlint]\nignore = ['BN']\n"), ".")
    assert code == 0
    assert "BN" not in stdout


def test_excluded_everything_but_a_file_named_directly_is_linted(tmp_path: Path) -> None:
    code, stdout, _ = _check(_project(tmp_path, "[tool.bnlint]\nexclude = ['*']\n"), "train.py")
    assert code == 1
    assert stdout.startswith("train.py:3:")


def test_many_per_file_ignores_and_long_lists_are_fine(tmp_path: Path) -> None:
    patterns = "".join(f"'gen_{i}/*.py' = ['BN4']\n" for i in range(2000))
    excludes = ", ".join(f"'skip_{i}'" for i in range(2000))
    config = f"[tool.bnlint]\nexclude = [{excludes}]\n[tool.bnlint.per-file-ignores]\n{patterns}"
    code, stdout, _ = _check(_project(tmp_path, config), ".")
    assert code == 1
    assert "BN401" in stdout


def test_pyproject_that_is_a_directory_or_unreadable(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").mkdir()
    (tmp_path / "train.py").write_text(BAD, encoding="utf-8")
    code, stdout, stderr = _check(tmp_path, "train.py")
    # A folder named pyproject.toml is not a configuration: the defaults apply.
    assert code == 1, stderr
    assert "BN401" in stdout


def test_config_option_pointing_at_a_directory_or_garbage(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "folder").mkdir()
    (tmp_path / "garbage.toml").write_bytes(b"\x00\x01\x02 = = =")
    code, _, stderr = _check(tmp_path, "--config", "folder", "train.py")
    assert code == 2
    assert "folder" in stderr
    assert "garbage.toml" in _config_error(tmp_path, "--config", "garbage.toml", "train.py")


def test_command_line_selectors_that_are_junk_exit_2(tmp_path: Path) -> None:
    _project(tmp_path, "[tool.bnlint]\n")
    for junk in ("BN4\x00", "💥", "BN" * 500, ",,,;BN4"):
        code, _stdout, stderr = _check(tmp_path, "--select", junk, "train.py")
        assert code == 2, junk
        assert stderr.startswith("error: ") or "Error" in stderr
