"""Parse floors for the speed benchmark: read + `ast.parse` or `libcst.parse_module`.

usage: parse_floor.py {ast,cst} [-j JOBS] PATH...
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from concurrent.futures import ProcessPoolExecutor


def _files(paths: list[str]) -> list[str]:
    found = []
    for path in paths:
        if os.path.isfile(path):
            found.append(path)
            continue
        for root, dirs, files in os.walk(path):
            dirs.sort()
            found.extend(os.path.join(root, name) for name in sorted(files) if name.endswith(".py"))
    return found


def _parse_ast(path: str) -> int:
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        ast.parse(data)
    except (SyntaxError, ValueError):
        return 0
    return 1


def _parse_cst(path: str) -> int:
    import libcst

    with open(path, "rb") as handle:
        data = handle.read()
    try:
        libcst.parse_module(data)
    except Exception:
        return 0
    return 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["ast", "cst"])
    parser.add_argument("-j", "--jobs", type=int, default=1)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    work = _parse_ast if args.mode == "ast" else _parse_cst
    files = _files(args.paths)
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            parsed = sum(pool.map(work, files, chunksize=16))
    else:
        parsed = sum(map(work, files))
    print(f"{parsed}/{len(files)} parsed", file=sys.stderr)


if __name__ == "__main__":
    main()
