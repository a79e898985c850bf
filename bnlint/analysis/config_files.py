"""Config files a script loads by a literal path: JSON, TOML and a plain subset of YAML.

Only plain data is read: YAML with anchors, tags, multi-line strings or flow collections
that span lines is refused (None) rather than guessed at, and no YAML library is needed.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from bnlint.discovery import read_regular

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_MAX_BYTES = 256_000
# The files read since each open `recording()` began, innermost last.
_RECORDINGS: list[set[Path]] = []


@contextmanager
def recording() -> Iterator[set[Path]]:
    """Collect every config file `load` is asked for (found or not) while the block runs.

    The engine folds these files into a cache entry's validity: a script's findings
    change when the YAML next to it does.
    """
    read: set[Path] = set()
    _RECORDINGS.append(read)
    try:
        yield read
    finally:
        _RECORDINGS.remove(read)


_YAML_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][\w.-]*)\s*:(?:\s+(?P<value>.*))?$")
_YAML_INT = re.compile(r"^[-+]?\d+$")


def load(path: Path, kind: str) -> dict[str, Any] | None:
    """The mapping stored in a config file, or None when it is absent or not plain data.

    >>> load(Path("config.yaml"), "yaml")  # "train:\\n  batch_size: 4\\n"
    {'train': {'batch_size': 4}}
    """
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return None
    for read in _RECORDINGS:
        read.add(resolved)
    try:
        stat = resolved.stat()
    except OSError:
        return None
    return _load(str(resolved), kind, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _load(path: str, kind: str, mtime: int, size: int) -> dict[str, Any] | None:
    if size > _MAX_BYTES:
        return None
    try:
        # Never a FIFO or device (`config.yaml` may be one): reading it could block forever.
        text = read_regular(Path(path), _MAX_BYTES).decode("utf-8")
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it
    except (OSError, UnicodeDecodeError):
        return None
    try:
        if kind == "json":
            data: Any = json.loads(text)
        elif kind == "toml":
            data = tomllib.loads(text)
        elif kind == "yaml":
            data = parse_plain_yaml(text)
        else:
            return None
    except (ValueError, tomllib.TOMLDecodeError):
        return None
    return data if isinstance(data, dict) else None


def parse_plain_yaml(text: str) -> dict[str, Any] | None:
    """Nested mappings of scalars; anything fancier returns None.

    >>> parse_plain_yaml("lr: 0.1\\ntrain:\\n  batch_size: 4\\n")
    {'lr': '0.1', 'train': {'batch_size': 4}}
    """
    root: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(-1, root)]
    pending: tuple[int, dict[str, Any], str] | None = None
    for raw in text.splitlines():
        line = _strip_comment(raw).rstrip()
        if not line.strip() or line.strip() == "---":
            continue
        if line.lstrip().startswith("- "):
            # A list item: the key that owns it holds something we do not read.
            if pending is not None:
                _, mapping, key = pending
                mapping[key] = None
                pending = None
            continue
        match = _YAML_KEY.match(line)
        if match is None or "\t" in match.group("indent"):
            return None
        indent = len(match.group("indent"))
        if pending is not None:
            parent_indent, mapping, key = pending
            pending = None
            if indent > parent_indent:
                child: dict[str, Any] = {}
                mapping[key] = child
                stack.append((parent_indent, child))
        while stack and indent <= stack[-1][0]:
            stack.pop()
        if not stack:
            return None
        mapping = stack[-1][1]
        key = match.group("key")
        value = match.group("value")
        if value is None or not value.strip():
            mapping[key] = None
            pending = (indent, mapping, key)
            continue
        value = value.strip()
        if value[0] in "&*!|>" or (value.startswith(("{", "[")) and not value.endswith(("}", "]"))):
            return None
        mapping[key] = int(value) if _YAML_INT.match(value) else value
    return root


def _strip_comment(line: str) -> str:
    if "#" not in line:
        return line
    quote = ""
    for index, char in enumerate(line):
        if char in "\"'" and not quote:
            quote = char
        elif char == quote:
            quote = ""
        elif char == "#" and not quote and (index == 0 or line[index - 1] in " \t"):
            return line[:index]
    return line
