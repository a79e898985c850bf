"""Configuration: `bnlint.toml`, `.bnlint.toml` or `[tool.bnlint]` in `pyproject.toml`,
`extend` chains, `--config KEY=VALUE` overrides, validation, and the settings each file is
linted with."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec

from bnlint.catalog import RULES, UnknownSelector, expand_selector, resolve_selection
from bnlint.diagnostics import OUTPUT_FORMATS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_MIN_BATCH_SIZE = 8
# Looked for in each folder, in this order: the first one found is the folder's
# configuration (as ruff prefers `.ruff.toml` and `ruff.toml` to `pyproject.toml`).
CONFIG_FILENAMES = (".bnlint.toml", "bnlint.toml", "pyproject.toml")
_SELECTOR_KEYS = ("select", "extend-select", "ignore", "fixable", "unfixable")
_PATTERN_KEYS = ("exclude", "extend-exclude")
_LIST_KEYS = (*_SELECTOR_KEYS, *_PATTERN_KEYS)
_BOOL_KEYS = ("fix", "unsafe-fixes")
# Keys whose values add up along an `extend` chain instead of replacing the base's.
_ACCUMULATED = ("extend-select", "ignore", "extend-exclude", "unfixable")
VALID_KEYS = (
    "extend",
    "select",
    "extend-select",
    "ignore",
    "fixable",
    "unfixable",
    "exclude",
    "extend-exclude",
    "per-file-ignores",
    "min-batch-size",
    "fix",
    "unsafe-fixes",
    "output-format",
)
# Refuse absurd files before parsing them: a config is a few hundred bytes.
_MAX_CONFIG_BYTES = 1_000_000
# A chain of `extend` longer than this is a mistake (or a cycle through symlinks).
_MAX_EXTEND_DEPTH = 32


class ConfigError(Exception):
    """A configuration problem; the CLI prints it and exits 2."""


@dataclass(frozen=True)
class CliOverrides:
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    # `--config KEY=VALUE` fragments, as one table applied on top of every configuration.
    table: Mapping[str, Any] = field(default_factory=dict)
    # `--isolated`: read no configuration file at all (the defaults and the command line).
    isolated: bool = False


@dataclass(frozen=True)
class FileSettings:
    """What one file is linted with: the enabled codes and the options rules read."""

    enabled: frozenset[str]
    min_batch_size: int = DEFAULT_MIN_BATCH_SIZE
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Codes whose fixes may be offered and applied (`fixable` minus `unfixable`).
    fixable: frozenset[str] = frozenset(RULES)

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
    fixable: list[str] | None = None
    unfixable: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    min_batch_size: int = DEFAULT_MIN_BATCH_SIZE
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Command defaults a project can set (`bnlint check` reads them from the project's file).
    fix: bool | None = None
    unsafe_fixes: bool | None = None
    output_format: str | None = None
    # The files this configuration was read from, the extending one first.
    sources: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._enabled: frozenset[str] | None = None
        self._fixable: frozenset[str] | None = None
        self._per_file: list[tuple[pathspec.GitIgnoreSpec, bool, frozenset[str]]] | None = None
        self._exclude_spec: pathspec.GitIgnoreSpec | None = None
        self._resolved_root: Path | None = None

    def with_overrides(self, cli: CliOverrides) -> Settings:
        if cli.table:
            # `--config 'select = ["BN1"]'` is a table on top of the file's own.
            merged = settings_from_table(dict(cli.table), self.root, self.path, base=self)
        else:
            merged = self
        return Settings(
            root=merged.root,
            path=merged.path,
            select=cli.select if cli.select is not None else merged.select,
            extend_select=[*merged.extend_select, *cli.extend_select],
            ignore=[*merged.ignore, *cli.ignore],
            fixable=merged.fixable,
            unfixable=merged.unfixable,
            per_file_ignores=merged.per_file_ignores,
            exclude=merged.exclude,
            extend_exclude=merged.extend_exclude,
            min_batch_size=merged.min_batch_size,
            rule_options=merged.rule_options,
            fix=merged.fix,
            unsafe_fixes=merged.unsafe_fixes,
            output_format=merged.output_format,
            sources=merged.sources,
        )

    @property
    def enabled(self) -> frozenset[str]:
        if self._enabled is None:
            try:
                self._enabled = resolve_selection(self.select, self.extend_select, self.ignore)
            except UnknownSelector as error:
                raise ConfigError(f"unknown rule code or prefix `{error}`") from None
        return self._enabled

    @property
    def fixable_codes(self) -> frozenset[str]:
        if self._fixable is None:
            allowed = (
                set(RULES)
                if self.fixable is None
                else {code for s in self.fixable for code in expand_selector(s)}
            )
            self._fixable = frozenset(
                allowed - {code for s in self.unfixable for code in expand_selector(s)}
            )
        return self._fixable

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
                        pathspec.GitIgnoreSpec.from_lines([pattern.removeprefix("!")]),
                        pattern.startswith("!"),
                        frozenset(code for c in codes for code in expand_selector(c)),
                    )
                    for pattern, codes in self.per_file_ignores.items()
                ]
            relative = self._relative(path)
            for spec, negated, codes in self._per_file:
                # `!pattern` (ruff's negation): the codes are off in every file it misses.
                if spec.match_file(relative) != negated:
                    enabled = enabled - codes
        return FileSettings(enabled, self.min_batch_size, self.rule_options, self.fixable_codes)

    def describe(self) -> str:
        """The resolved settings as TOML-like lines, for `--show-settings`."""
        values: list[tuple[str, object]] = [
            ("config-files", [str(p) for p in self.sources]),
            ("root", str(self.root)),
            ("select", self.select),
            ("extend-select", self.extend_select),
            ("ignore", self.ignore),
            ("enabled", sorted(self.enabled)),
            ("fixable", sorted(self.fixable_codes)),
            ("per-file-ignores", self.per_file_ignores),
            ("exclude", self.exclude),
            ("extend-exclude", self.extend_exclude),
            ("min-batch-size", self.min_batch_size),
            ("fix", bool(self.fix)),
            ("unsafe-fixes", bool(self.unsafe_fixes)),
            ("output-format", self.output_format or "text"),
        ]
        values.extend((code, options) for code, options in sorted(self.rule_options.items()))
        return "".join(f"{key} = {_toml_value(value)}\n" for key, value in values)


def _toml_value(value: object) -> str:
    if value is None:
        return '"default"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return _toml_value(str(value))


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


def _unknown_key(key: str) -> ConfigError:
    valid = ", ".join(f"`{name}`" for name in VALID_KEYS)
    return ConfigError(
        f"unknown configuration key `{key}`; valid keys are {valid}, and a rule's code"
        " (`[tool.bnlint.BN301]`) for its options"
    )


def settings_from_table(
    table: dict[str, Any], root: Path, path: Path | None, *, base: Settings | None = None
) -> Settings:
    """Validate a `[tool.bnlint]` table, on top of `base` (an `extend`ed file); every error
    names its key."""
    settings = _copy(base, root, path) if base is not None else Settings(root=root, path=path)
    if "select" in table and base is not None:
        # A new selection starts over, as in ruff: the base's additions and removals were
        # made to the selection this one replaces.
        settings.extend_select, settings.ignore = [], []
    if "fixable" in table and base is not None:
        settings.unfixable = []
    for key, value in table.items():
        if key == "extend":
            if not isinstance(value, str):
                raise ConfigError("`extend` must be a path (a string)")
        elif key in _LIST_KEYS:
            items = _string_list(key, value)
            if key in _SELECTOR_KEYS:
                _check_codes(key, items)
            else:
                _check_patterns(key, items)
            attribute = key.replace("-", "_")
            if key in _ACCUMULATED:
                items = [*getattr(settings, attribute), *items]
            setattr(settings, attribute, items)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError("`per-file-ignores` must be a table of pattern = [codes]")
            merged = dict(settings.per_file_ignores)
            for pattern, codes in value.items():
                codes = _string_list(f"per-file-ignores.{pattern}", codes)
                _check_patterns("per-file-ignores", [pattern])
                if pattern.startswith("!"):
                    # `!pattern`: the files the pattern misses; a lone `!` names nothing.
                    _check_patterns("per-file-ignores", [pattern[1:] or "!"])
                _check_codes(f"per-file-ignores.{pattern}", codes)
                merged[pattern] = codes
            settings.per_file_ignores = merged
        elif key == "min-batch-size":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError("`min-batch-size` must be a positive integer")
            settings.min_batch_size = value
        elif key in _BOOL_KEYS:
            if not isinstance(value, bool):
                raise ConfigError(f"`{key}` must be true or false")
            setattr(settings, key.replace("-", "_"), value)
        elif key == "output-format":
            if value not in OUTPUT_FORMATS:
                raise ConfigError(
                    f"`output-format` must be one of {', '.join(OUTPUT_FORMATS)}, not {value!r}"
                )
            settings.output_format = value
        elif key.upper() in RULES and isinstance(value, dict):
            code = key.upper()
            options = dict(settings.rule_options.get(code, {}))
            options.update(_rule_options(key, RULES[code].options, value))
            settings.rule_options = {**settings.rule_options, code: options}
        else:
            raise _unknown_key(key)
    return settings


def _copy(base: Settings, root: Path, path: Path | None) -> Settings:
    return Settings(
        root=root,
        path=path,
        select=base.select,
        extend_select=list(base.extend_select),
        ignore=list(base.ignore),
        fixable=base.fixable,
        unfixable=list(base.unfixable),
        per_file_ignores=dict(base.per_file_ignores),
        exclude=list(base.exclude),
        extend_exclude=list(base.extend_exclude),
        min_batch_size=base.min_batch_size,
        rule_options={code: dict(options) for code, options in base.rule_options.items()},
        fix=base.fix,
        unsafe_fixes=base.unsafe_fixes,
        output_format=base.output_format,
        sources=list(base.sources),
    )


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


def _load_table(path: Path, *, require_table: bool) -> dict[str, Any] | None:
    """The bnlint table of a file: `[tool.bnlint]` of a pyproject.toml, else the top level."""
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
    if path.name != "pyproject.toml":
        return data
    tool = data.get("tool", {})
    table = tool.get("bnlint") if isinstance(tool, dict) else None
    if table is None:
        if require_table:
            raise ConfigError(f"{path}: no [tool.bnlint] table")
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: `tool.bnlint` must be a table")
    return table


def read_config_file(
    path: Path, *, require_table: bool, _chain: tuple[Path, ...] = ()
) -> Settings | None:
    """Settings from a pyproject.toml (`[tool.bnlint]`) or a bnlint.toml (top level), on
    top of the file its `extend` names (a path relative to this file)."""
    table = _load_table(path, require_table=require_table)
    if table is None:
        return None
    base = None
    extend = table.get("extend")
    if isinstance(extend, str):
        target = (path.parent / os.path.expanduser(extend)).absolute()
        resolved = Path(os.path.normpath(target))
        if resolved in _chain or resolved == Path(os.path.normpath(path.absolute())):
            raise ConfigError(f"{path}: `extend` makes a cycle through {extend}")
        if len(_chain) >= _MAX_EXTEND_DEPTH:
            raise ConfigError(f"{path}: `extend` chain is longer than {_MAX_EXTEND_DEPTH}")
        if not resolved.is_file():
            raise ConfigError(f"{path}: `extend`: {extend} does not exist")
        chain = (*_chain, Path(os.path.normpath(path.absolute())))
        base = read_config_file(resolved, require_table=True, _chain=chain)
    try:
        settings = settings_from_table(table, path.parent, path, base=base)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    settings.sources = [path, *settings.sources]
    return settings


def parse_config_arguments(values: Sequence[str]) -> tuple[Path | None, dict[str, Any]]:
    """`--config` values as ruff reads them: a path to a configuration file, or a TOML
    fragment `KEY = VALUE` that overrides every file's setting (`'select = ["BN1"]'`)."""
    config_file: Path | None = None
    table: dict[str, Any] = {}
    for value in values:
        if os.path.isfile(value) or value.endswith(".toml"):
            if config_file is not None:
                raise ConfigError("`--config` names a configuration file only once")
            config_file = Path(value)
            continue
        try:
            fragment = tomllib.loads(value)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(
                f"`--config {value}` is neither a file nor a `key = value` TOML fragment ({error})"
            ) from None
        for key, item in fragment.items():
            if isinstance(item, dict) and isinstance(table.get(key), dict):
                table[key] = {**table[key], **item}
            else:
                table[key] = item
    if table:
        # Validate now, so a wrong key is an error before any file is linted.
        try:
            settings_from_table(dict(table), Path.cwd(), None)
        except ConfigError as error:
            raise ConfigError(f"--config: {error}") from None
    return config_file, table


class ConfigResolver:
    """Finds the settings for each file: `--config FILE`, else the nearest configuration
    file above it (`.bnlint.toml`, `bnlint.toml`, then `pyproject.toml` with a
    `[tool.bnlint]` table)."""

    def __init__(self, cli: CliOverrides, config_file: Path | None = None) -> None:
        self._cli = cli
        self._fixed: Settings | None = None
        self._by_directory: dict[Path, Settings] = {}
        if config_file is not None and cli.isolated:
            raise ConfigError("--isolated reads no configuration file: drop --config FILE")
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

    def project_settings(self) -> Settings:
        """The settings of the folder the command runs in: where `fix`, `unsafe-fixes` and
        `output-format` come from, as ruff takes them from the project's file."""
        return self.settings_for(Path.cwd())

    def _for_directory(self, directory: Path) -> Settings:
        cached = self._by_directory.get(directory)
        if cached is not None:
            return cached
        found: Settings | None = None
        for name in () if self._cli.isolated else CONFIG_FILENAMES:
            candidate = directory / name
            if candidate.is_file():
                loaded = read_config_file(candidate, require_table=False)
                if loaded is not None:
                    found = loaded.with_overrides(self._cli)
                    found.enabled  # noqa: B018
                    found.fixable_codes  # noqa: B018
                    break
        if found is None:
            parent = directory.parent
            if parent == directory:
                found = Settings(root=Path.cwd()).with_overrides(self._cli)
            else:
                found = self._for_directory(parent)
        self._by_directory[directory] = found
        return found


def repository_root(start: Path) -> Path:
    """The folder of the repository around `start` (the nearest one with `.git`), else
    `start`: what GitLab and code scanning count report paths from."""
    start = start.absolute()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start
