"""`--fix --unsafe-fixes` over a copy of a source tree: every file still parses, and a second
run changes nothing.

    python benchmarks/triage/fix_safety.py TREE COPY [TREE COPY ...]

Each TREE is copied to COPY (replaced if it exists; the tree itself is never touched), then
`bnlint check --fix --unsafe-fixes --no-cache --extend-select BN302` runs twice in the
copy. One JSON line per tree: Python files and notebooks, how many parsed before, the fixes
the first run applied, the files it changed, the files that parsed before and do not after
(notebooks: each code cell without IPython syntax), the fixes and changed files of the
second run, the exit codes and any internal error. `BNLINT` names the command to run
(default: `bnlint`).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

COMMAND = [
    *os.environ.get("BNLINT", "bnlint").split(),
    "check",
    "--fix",
    "--unsafe-fixes",
    "--no-cache",
    "--exit-zero",
    "--extend-select",
    "BN302",
    "--jobs",
    "1",
    "--format",
    "concise",
    ".",
]
_FIXED = re.compile(r"\((\d+) fixed")


def sources(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".ipynb") and path.is_file() and not path.is_symlink():
            yield path


def _cells(data: bytes) -> Iterator[str]:
    for cell in json.loads(data).get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else source
            # IPython syntax (`%magic`, `!shell`) is not Python: such cells are left out.
            if not any(line.lstrip().startswith(("%", "!", "?")) for line in text.splitlines()):
                yield text


def parses(path: Path) -> bool:
    data = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if path.suffix == ".ipynb":
                for text in _cells(data):
                    ast.parse(text)
            else:
                ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False  # a notebook's JSON error is a ValueError too
    return True


def digests(root: Path) -> dict[Path, str]:
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in sources(root)}


def fixed_count(run: subprocess.CompletedProcess[str]) -> int:
    found = _FIXED.search(run.stdout + run.stderr)
    return int(found.group(1)) if found else 0


def check_tree(tree: Path, copy: Path) -> dict[str, object]:
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(tree, copy, symlinks=True)
    parsed = {path: parses(path) for path in sources(copy)}
    before = digests(copy)
    first = subprocess.run(COMMAND, cwd=copy, capture_output=True, text=True, check=False)
    after = digests(copy)
    second = subprocess.run(COMMAND, cwd=copy, capture_output=True, text=True, check=False)
    again = digests(copy)

    def names(paths: list[Path]) -> list[str]:
        return [str(path.relative_to(copy)) for path in paths]

    output = first.stdout + first.stderr + second.stdout + second.stderr
    return {
        "tree": tree.name,
        "files": len(before),
        "notebooks": sum(1 for path in before if path.suffix == ".ipynb"),
        "parsed_before": sum(parsed.values()),
        "fixes_first_run": fixed_count(first),
        "files_changed": len([p for p in after if after[p] != before.get(p)]),
        "parse_failures_after": names([p for p in after if parsed.get(p) and not parses(p)]),
        "fixes_second_run": fixed_count(second),
        "files_changed_second_run": names([p for p in again if again[p] != after.get(p)]),
        "exit_codes": [first.returncode, second.returncode],
        "internal_errors": [line for line in output.splitlines() if "internal error" in line],
    }


def main(arguments: list[str]) -> int:
    if not arguments or len(arguments) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    for tree, copy in zip(arguments[::2], arguments[1::2], strict=True):
        print(json.dumps(check_tree(Path(tree), Path(copy))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
