"""The fast `ast` walks agree with the standard library's."""

from __future__ import annotations

import ast
import hashlib

import pytest

from bnlint.analysis import ast_nodes
from bnlint.analysis.project import index_source
from bnlint.config import FileSettings
from bnlint.runner import lint_source
from bnlint.source import SourceText

from .conftest import FIXTURES


def _reference_depth(tree: ast.AST) -> int:
    return 1 + max((_reference_depth(child) for child in ast.iter_child_nodes(tree)), default=0)


SOURCES = [
    "",
    "x = 1\n",
    "x = " + "(" * 50 + "1" + ")" * 50 + "\n",
    "def f():\n"
    + "".join("    " * (i + 1) + "if x:\n" for i in range(30))
    + "    " * 31
    + "pass\n",
    "x = " + " + ".join(["a"] * 40) + "\n",
    *(path.read_text(encoding="utf-8") for path in sorted(FIXTURES.rglob("*.py"))[:40]),
]


@pytest.mark.parametrize("source", SOURCES)
def test_depth_matches_the_standard_library(source: str) -> None:
    tree = ast.parse(source)
    assert ast_nodes.depth(tree) == ast_nodes.Flat(tree).depth == _reference_depth(tree)


def test_the_index_depth_is_for_exactly_the_bytes_it_parsed() -> None:
    source = b"x = " + b"[" * 40 + b"]" * 40 + b"\n"
    index = index_source(source, "deep.py")
    index.digests["deep.py"] = hashlib.sha256(source).hexdigest()
    assert index.depth_of("deep.py", source) == ast_nodes.depth(ast.parse(source))
    assert index.depth_of("deep.py", source + b"y = 1\n") is None
    assert index.depth_of("other.py", source) is None


def test_a_depth_known_from_the_index_still_keeps_deep_files_from_libcst(
    libcst_parser_refused: None,
) -> None:
    source = SourceText(
        "import torch.nn as nn\nbn = nn.BatchNorm2d(8, momentum=0.9)\n", "utf-8", False
    )
    result = lint_source(
        source, "deep.py", FileSettings(enabled=frozenset({"BN401"})), known_depth=500
    )
    assert result.findings == []
    assert result.notice is not None
    assert "nested too deeply" in result.notice


def _reference_in_order(body: list[ast.stmt]) -> list[ast.AST]:
    """A scope's own nodes, children before parents, nested scopes left out (recursive)."""
    found: list[ast.AST] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast_nodes.SCOPES):
            return
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.expr_context):
                visit(child)
        found.append(node)

    for statement in body:
        visit(statement)
    return found


FLAT_SOURCES = [
    *SOURCES,
    "class A:\n    x = [lambda: y for y in z]\n    def f(self, a=g()):\n"
    "        def inner(): return h(a)\n        return k(inner, self.m(a))\n",
    "async def run(m):\n    async with ctx() as c:\n        await m(c)\n",
]


@pytest.mark.parametrize("source", FLAT_SOURCES)
def test_the_flattened_tree_slices_every_scope_like_its_own_walk(source: str) -> None:
    tree = ast.parse(source)
    flat = ast_nodes.Flat(tree)
    assert flat.depth == _reference_depth(tree)
    marker = (ast.expr_context,)
    assert {id(n) for n in flat.nodes} == {
        id(n) for n in ast.walk(tree) if not isinstance(n, marker)
    }
    assert [id(n) for n in flat.statements_of(None)] == [
        id(n) for n in _reference_in_order(tree.body)
    ]
    for scope in ast.walk(tree):
        if not isinstance(scope, ast_nodes.SCOPES):
            continue
        assert {id(n) for n in flat.subtree(scope)} == {
            id(n) for n in ast.walk(scope) if not isinstance(n, marker)
        }
        if not isinstance(scope, ast.Lambda):
            assert [id(n) for n in flat.statements_of(scope)] == [
                id(n) for n in _reference_in_order(scope.body)
            ]
