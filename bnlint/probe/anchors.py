"""Where the static rules anchor a finding, found at run time from the user's call site.

The probe sees a forward call; `bnlint check` points at the `batch_size` value or the
`.half()` call. These helpers name those places so that both reports agree.
"""

from __future__ import annotations

import ast
import functools
import linecache

from bnlint.probe.frames import Location


@functools.lru_cache(maxsize=64)
def _tree(filename: str, size: int) -> ast.Module | None:
    # `size` keys the cache on the file's current text (linecache may have reloaded it).
    try:
        return ast.parse("".join(linecache.getlines(filename)), filename)
    except (SyntaxError, ValueError):
        return None


def keyword_value(call_site: Location, keyword: str) -> Location | None:
    """The line of `keyword=value` in the call that spans `call_site`'s line, when written.

    >>> keyword_value(Location("train.py", 12), "batch_size")  # DataLoader(ds,\\n batch_size=4)
    Location('train.py', 13)
    """
    lines = linecache.getlines(call_site.filename)
    if not lines:
        return None
    tree = _tree(call_site.filename, sum(len(line) for line in lines))
    if tree is None:
        return None
    best: ast.keyword | None = None
    best_width = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        end = node.end_lineno or node.lineno
        if not node.lineno <= call_site.line <= end:
            continue
        for item in node.keywords:
            width = end - node.lineno
            if item.arg == keyword and (best is None or width < best_width):
                best, best_width = item, width
    if best is None:
        return None
    return Location(call_site.filename, best.value.lineno)
