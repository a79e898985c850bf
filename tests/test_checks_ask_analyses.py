"""Rules ask the analyses; they never walk the tree or read the file's text themselves.

What a rule would need a walk or a regex for belongs in `bnlint/analysis/`, built once per
file and shared. This test reads every module under `bnlint/checks/` with `ast` and fails
on a tree walk (`.visit(...)`, `walk(...)`, `ast.walk`, a `CSTVisitor` subclass) or a read
of the source text (`.source.text`, `module.code`, `code_for_node`), or a read of the walk's
live `ctx.ancestors` stack (the parent index, `ctx.chain`/`ctx.scopes`, answers for any node).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bnlint.checks

CHECKS = Path(bnlint.checks.__file__).parent
WALKERS = frozenset({"visit", "walk", "visit_tree", "visit_batched", "deep_replace"})
TEXT_READS = frozenset({"code", "code_for_node"})
# Modules allowed an exception, each with the change that removes it (none left).
KNOWN: frozenset[tuple[str, str]] = frozenset()


def _violations(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in WALKERS:
                found.add(f"walks the tree with `{name}(...)`")
            if name in TEXT_READS:
                found.add(f"reads the text with `{name}(...)`")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            if node.attr == "text" and node.value.attr == "source":
                found.add("reads `.source.text`")
            if node.attr == "code" and node.value.attr == "module":
                found.add("reads `module.code`")
            if node.attr == "ancestors" and node.value.attr == "ctx":
                found.add("reads the walk's live `ctx.ancestors` (ask `ctx.chain`/`ctx.scopes`)")
        elif isinstance(node, ast.ClassDef):
            for base in node.bases:
                written = ast.unparse(base)
                if written.endswith(("CSTVisitor", "CSTTransformer", "NodeVisitor")):
                    found.add(f"defines a tree visitor `{node.name}`")
        elif isinstance(node, ast.ImportFrom) and node.module == "bnlint.analysis.walk":
            found.add("imports the tree walker")
    return found


@pytest.mark.parametrize("path", sorted(CHECKS.glob("*.py")), ids=lambda p: p.name)
def test_a_check_module_asks_analyses(path: Path) -> None:
    unexpected = {v for v in _violations(path) if (path.name, v) not in KNOWN}
    assert not unexpected, f"{path.name}: {sorted(unexpected)}; move this into bnlint/analysis/"


def test_the_scan_catches_a_walk_and_a_text_read(tmp_path: Path) -> None:
    rule = tmp_path / "rule.py"
    rule.write_text(
        "import libcst as cst\n"
        "from bnlint.analysis.walk import visit as visit_tree\n"
        "class _Finder(cst.CSTVisitor):\n    pass\n"
        "def check(self):\n"
        "    visit_tree(self.ctx.module, _Finder())\n"
        "    if 'SyncBatchNorm' in self.ctx.source.text:\n        return self.ctx.module.code\n"
        "    return self.ctx.ancestors[-1]\n",
        encoding="utf-8",
    )
    assert _violations(rule) == {
        "imports the tree walker",
        "defines a tree visitor `_Finder`",
        "walks the tree with `visit_tree(...)`",
        "reads `.source.text`",
        "reads `module.code`",
        "reads the walk's live `ctx.ancestors` (ask `ctx.chain`/`ctx.scopes`)",
    }
