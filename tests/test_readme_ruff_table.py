"""The README's side-by-side table with ruff says only what is true: every ruff option it
marks as bnlint's is an option of `bnlint check`, every one it leaves blank is not, and the
same for configuration keys."""

from __future__ import annotations

import re

import click

from bnlint.cli import main
from bnlint.config import VALID_KEYS

from .conftest import ROOT

_SECTION = "## bnlint and ruff side by side"


def _tables() -> list[list[tuple[str, str]]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(_SECTION)
    section = text[start : text.index("\n## ", start + 1)]
    tables: list[list[tuple[str, str]]] = []
    rows: list[tuple[str, str]] = []
    for line in section.splitlines():
        if line.startswith("|---"):
            continue
        if line.startswith("|"):
            ruff, bnlint = (cell.strip() for cell in line.strip("|").split(" | ", 1))
            rows.append((ruff, bnlint))
        elif rows:
            tables.append(rows[1:])  # without the heading
            rows = []
    if rows:
        tables.append(rows[1:])
    assert [len(table) > 3 for table in tables] == [True, True, True], "three tables"
    return tables


def _check_options() -> set[str]:
    command = main.commands["check"]
    names: set[str] = set()
    for parameter in command.params:
        if isinstance(parameter, click.Option):
            names.update(parameter.opts)
            names.update(parameter.secondary_opts)
    return names


def _options(cell: str) -> list[str]:
    return re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", cell)


def test_options_marked_as_bnlints_are_check_options() -> None:
    options_table = _tables()[0]
    accepted = _check_options()
    for ruff, bnlint in options_table:
        if not bnlint:
            for option in _options(ruff):
                assert option not in accepted, f"{option} works now: fill in its row"
        elif bnlint.startswith("same"):
            for option in _options(ruff):
                if f"no `{option}`" not in bnlint:
                    assert option in accepted, f"{option} is marked as bnlint's but is not"
        for option in re.findall(r"`(--[a-z-]+)`", bnlint):
            assert option in accepted, option


def test_settings_marked_as_bnlints_are_configuration_keys() -> None:
    settings_table = _tables()[1]
    for ruff, bnlint in settings_table:
        keys = [key for key in re.findall(r"`([a-z][a-z-]*)`", ruff) if key != "ruff"]
        if not bnlint:
            for key in keys:
                assert key not in VALID_KEYS, f"`{key}` works now: fill in its row"
        elif bnlint.startswith("same"):
            for key in keys:
                assert key in VALID_KEYS, f"`{key}` is marked as bnlint's but is not"
