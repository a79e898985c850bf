"""`[tool.bnlint]` loading and validation, and the settings each file is linted with."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec

from bnlint.catalog import RULES, UnknownSelector, expand_selector, resolve_selection

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_MIN_BATCH_SIZE = 8
_LIST_KEYS = ("select", "extend-select", "ignore", "exclude", "extend-exclude")
_KNOWN_KEYS = frozenset((*_LIST_KEYS, "per-file-ignores", "min-batch-size"))
# Refuse absurd files before parsing them: a config is a few hundred bytes.
_MAX_CONFIG_BYTES = 1_000_000


class ConfigError(Exception):
    """A configuration problem; the CLI prints it and exits 2."""


@dataclass(frozen=True)
class CliOverrides:
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FileSettings:
    """What one file is linted with: the enabled codes and the options rules read."""

    enabled: frozenset[str]
    min_batch_size: int = DEFAULT_MIN_BATCH_SIZE
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def rule_option(self, code: str, name: str, default: Any) -> Any:
        return self.rule_options.get(code, {}).get(name, default)


@dataclass
class Settings:
    """One configuration file (or the defaults) with the command line applied on top."""

    root: Path
    path: Path | None = None
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    min_batch_size: int = DEFAULT_MIN_BATCH_SIZE
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._enabled: frozenset[str] | None = None
        self._per_file: list[tuple[pathspec.GitIgnoreSpec, frozenset[str]]] | None = None
        self._exclude_spec: pathspec.GitIgnoreSpec | None = None
        self._resolved_root: Path | None = None

    def with_overrides(self, cli: CliOverrides) -> Settings:
        return Settings(
            root=self.root,
            path=self.path,
            select=cli.select if cli.select is not None else self.select,
            extend_select=[*self.extend_select, *cli.extend_select],
            ignore=[*self.ignore, *cli.ignore],
            per_file_ignores=self.per_file_ignores,
            exclude=self.exclude,
            extend_exclude=self.extend_exclude,
            min_batch_size=self.min_batch_size,
            rule_options=self.rule_options,
        )

    @property
    def enabled(self) -> frozenset[str]:
        if self._enabled is None:
            try:
                self._enabled = resolve_selection(self.select, self.extend_select, self.ignore)
            except UnknownSelector as error:
                raise ConfigError(f"unknown rule code or prefix `{error}`") from None
        return self._enabled

    def _relative(self, path: Path) -> str:
        try:
            resolved = path.resolve()
        except (RuntimeError, OSError):  # a symlink loop: its own path
            resolved = Path(os.path.abspath(path))
        try:
            if self._resolved_root is None:
                self._resolved_root = self.root.resolve()
            return resolved.relative_to(self._resolved_root).as_posix()
        except ValueError:
            return path.as_posix()

    def is_excluded(self, path: Path) -> bool:
        if self._exclude_spec is None:
            self._exclude_spec = pathspec.GitIgnoreSpec.from_lines(
                [*self.exclude, *self.extend_exclude]
            )
        relative = self._relative(path)
        return self._exclude_spec.match_file(relative) or (
            path.is_dir() and self._exclude_spec.match_file(relative + "/")
        )

    def for_file(self, path: Path | None) -> FileSettings:
        enabled = self.enabled
        if path is not None and self.per_file_ignores:
            if self._per_file is None:
                self._per_file = [
                    (
                        pathspec.GitIgnoreSpec.from_lines([pattern]),
                        frozenset(code for c in codes for code in expand_selector(c)),
                    )
                    for pattern, codes in self.per_file_ignores.items()
                ]
            relative = self._relative(path)
            for spec, codes in self._per_file:
                if spec.match_file(relative):
                    enabled = enabled - codes
        return FileSettings(enabled, self.min_batch_size, self.rule_options)


def _string_list(key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"`{key}` must be a list of strings")
    return list(value)


def _check_codes(key: str, selectors: list[str]) -> None:
    for selector in selectors:
        try:
            expand_selector(selector)
        except UnknownSelector:
            raise ConfigError(f"`{key}`: unknown rule code or prefix `{selector}`") from None


def _check_patterns(key: str, patterns: list[str]) -> None:
    for pattern in patterns:
        try:
            # pathspec compiles some patterns only on the first match.
            pathspec.GitIgnoreSpec.from_lines([pattern]).match_file("bnlint.py")
        except Exception:  # pathspec raises several kinds
            raise ConfigError(f"`{key}`: invalid pattern `{pattern}`") from None


def settings_from_table(table: dict[str, Any], root: Path, path: Path | None) -> Settings:
    """Validate a `[tool.bnlint]` table; every error names its key."""
    settings = Settings(root=root, path=path)
    for key, value in table.items():
        if key in _LIST_KEYS:
            items = _string_list(key, value)
            if key in ("select", "extend-select", "ignore"):
                _check_codes(key, items)
            if key in ("exclude", "extend-exclude"):
                _check_patterns(key, items)
            setattr(settings, key.replace("-", "_"), items)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError("`per-file-ignores` must be a table of pattern = [codes]")
            for pattern, codes in value.items():
                codes = _string_list(f"per-file-ignores.{pattern}", codes)
                _check_patterns("per-file-ignores", [pattern])
                _check_codes(f"per-file-ignores.{pattern}", codes)
                settings.per_file_ignores[pattern] = codes
        elif key == "min-batch-size":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError("`min-batch-size` must be a positive integer")
            settings.min_batch_size = value
        elif key.upper() in RULES and isinstance(value, dict):
            settings.rule_options[key.upper()] = _rule_options(
                key, RULES[key.upper()].options, value
            )
        else:
            raise ConfigError(f"unknown configuration key `{key}`")
    return settings


def _rule_options(code: str, declared: Mapping[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name, value in given.items():
        if name not in declared:
            raise ConfigError(f"unknown option `{code}.{name}`")
        expected = type(declared[name])
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ConfigError(f"`{code}.{name}` must be of type {expected.__name__}")
        options[name] = value
    return options


def read_config_file(path: Path, *, require_table: bool) -> Settings | None:
    """Settings from a pyproject.toml (`[tool.bnlint]`) or a bnlint.toml (top level)."""
    try:
        if path.stat().st_size > _MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: configuration file is larger than 1 MB")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("bnlint") if isinstance(tool, dict) else None
        if table is None:
            if require_table:
                raise ConfigError(f"{path}: no [tool.bnlint] table")
            return None
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: `tool.bnlint` must be a table")
    else:
        table = data
    try:
        return settings_from_table(table, path.parent, path)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


class ConfigResolver:
    """Finds the settings for each file: `--config`, else the nearest pyproject.toml."""

    def __init__(self, cli: CliOverrides, config_file: Path | None = None) -> None:
        self._cli = cli
        self._fixed: Settings | None = None
        self._by_directory: dict[Path, Settings] = {}
        if config_file is not None:
            if not config_file.is_file():
                raise ConfigError(f"configuration file {config_file} does not exist")
            loaded = read_config_file(config_file, require_table=True)
            assert loaded is not None
            self._fixed = loaded.with_overrides(cli)
            self._fixed.enabled  # noqa: B018  (validates the selection now, exit 2 early)
        else:
            Settings(root=Path.cwd()).with_overrides(cli).enabled  # noqa: B018

    def settings_for(self, path: Path) -> Settings:
        if self._fixed is not None:
            return self._fixed
        directory = path.parent if not path.is_dir() else path
        return self._for_directory(directory.resolve())

    def _for_directory(self, directory: Path) -> Settings:
        cached = self._by_directory.get(directory)
        if cached is not None:
            return cached
        candidate = directory / "pyproject.toml"
        found: Settings | None = None
        if candidate.is_file():
            loaded = read_config_file(candidate, require_table=False)
            if loaded is not None:
                found = loaded.with_overrides(self._cli)
                found.enabled  # noqa: B018
        if found is None:
            parent = directory.parent
            if parent == directory:
                found = Settings(root=Path.cwd()).with_overrides(self._cli)
            else:
                found = self._for_directory(parent)
        self._by_directory[directory] = found
        return found
