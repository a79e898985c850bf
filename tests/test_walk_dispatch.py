"""`walk.visit` calls a visitor's methods as libcst's own `node.visit` does.

A visitor that keeps libcst's `on_visit`/`on_leave` gets its `visit_<Kind>`/`leave_<Kind>`
looked up once per kind and no leave step for kinds without `leave_<Kind>`; the calls, their
nodes and their order must stay libcst's.
"""

from __future__ import annotations

import textwrap
from typing import cast

import libcst as cst

from bnlint.analysis.context import FileContext
from bnlint.analysis.walk import Preorder, children, visit
from bnlint.config import FileSettings
from bnlint.engine.linter import _Dispatcher
from bnlint.registry import Rule
from bnlint.source import SourceText

SOURCE = textwrap.dedent(
    """
    import torch.nn as nn

    @decorate(flag=make())
    def build(width, act=nn.ReLU()):
        if width > 8:
            return nn.Sequential(nn.Conv2d(3, width, 3), nn.BatchNorm2d(width))
        return [layer(x) for x in range(width) if keep(x)]

    def skip():
        hidden(call())

    class Net(nn.Module):
        def forward(self, x):
            return self.head(self.body(x)) if x is not None else (lambda y: y)(x)
    """
)


class Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, str]] = []

    def _code(self, node: cst.CSTNode) -> str:
        return cst.Module([]).code_for_node(node).strip()[:30]

    def visit_Call(self, node: cst.Call) -> None:
        self.log.append(("visit", self._code(node)))

    def leave_Call(self, original_node: cst.Call) -> None:
        self.log.append(("leave", self._code(original_node)))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.log.append(("visit def", node.name.value))
        return node.name.value != "skip"

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.log.append(("leave def", original_node.name.value))

    def visit_Name(self, node: cst.Name) -> None:
        self.log.append(("name", node.value))

    def leave_If(self, original_node: cst.If) -> None:
        self.log.append(("leave if", self._code(original_node.test)))


def test_the_calls_are_libcsts_in_libcsts_order() -> None:
    module = cst.parse_module(SOURCE)
    ours, theirs = Recorder(), Recorder()
    visit(module, ours)
    module.visit(theirs)
    assert ours.log == theirs.log
    # Children of a kind whose visit_ returned False are skipped; its leave_ still runs.
    assert ("visit def", "skip") in ours.log
    assert ("leave def", "skip") in ours.log
    assert ("name", "hidden") not in ours.log


class Overriding(Recorder):
    """A visitor with its own on_visit takes the general path, every node through it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.seen += 1
        return super().on_visit(node)


def test_a_visitor_with_its_own_on_visit_sees_every_node() -> None:
    module = cst.parse_module(SOURCE)
    ours, theirs = Overriding(), Recorder()
    visit(module, ours)
    module.visit(theirs)
    assert ours.log == theirs.log
    assert ours.seen > len(ours.log)


def _recursive(node: cst.CSTNode, parent: int, out: list[tuple[cst.CSTNode, int]]) -> None:
    out.append((node, parent))
    here = len(out) - 1
    for child in children(node):
        _recursive(child, here, out)


def test_the_flattened_tree_is_the_recursive_walk_with_parents_and_subtree_ends() -> None:
    module = cst.parse_module(SOURCE)
    tree = Preorder(module)
    expected: list[tuple[cst.CSTNode, int]] = []
    _recursive(module, -1, expected)
    assert [(id(n), p) for n, p in expected] == [
        (id(n), p) for n, p in zip(tree.nodes, tree.parents, strict=True)
    ]
    for index, node in enumerate(tree.nodes):
        inside: list[tuple[cst.CSTNode, int]] = []
        _recursive(node, -1, inside)
        assert [id(n) for n, _ in inside] == [id(n) for n in tree.subtree(node)]
        assert tree.ends[index] == index + len(inside)


def test_the_flattened_tree_answers_parents_and_chains_for_its_own_nodes_only() -> None:
    module = cst.parse_module(SOURCE)
    tree = Preorder(module)
    build = next(n for n in tree.nodes if isinstance(n, cst.FunctionDef))
    width = next(n for n in tree.subtree(build) if isinstance(n, cst.Comparison))
    chain = tree.chain(width)
    assert chain[0] is width
    assert chain[-1] is module
    assert build in chain
    assert tree.parent(chain[0]) is chain[1]
    assert tree.parent(module) is None
    stranger = cst.parse_expression("width > 8")
    assert tree.position(stranger) is None
    assert tree.chain(stranger) == []
    assert tree.subtree(stranger) == []
    assert tree.parent(stranger) is None


class _Rule:
    """A rule as the linter's dispatcher sees it: `visit_<Kind>`/`leave_<Kind>` methods."""

    def __init__(self, log: list[tuple[str, str]]) -> None:
        self.log = log
        self.recorder = Recorder()
        self.recorder.log = log

    def visit_Call(self, node: cst.Call) -> None:
        self.recorder.visit_Call(node)

    def leave_Call(self, original_node: cst.Call) -> None:
        self.recorder.leave_Call(original_node)

    def visit_Name(self, node: cst.Name) -> None:
        self.recorder.visit_Name(node)

    def leave_If(self, original_node: cst.If) -> None:
        self.recorder.leave_If(original_node)

    def leave_Module(self, original_node: cst.Module) -> None:
        self.log.append(("leave module", ""))


class _Everything(Recorder):
    """Enters every function (the linter's walk never skips a subtree)."""

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return True

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        pass

    def leave_Module(self, original_node: cst.Module) -> None:
        self.log.append(("leave module", ""))


def test_the_linters_walk_over_the_flattened_tree_calls_rules_in_libcsts_order() -> None:
    module = cst.parse_module(SOURCE)
    ctx = FileContext("f.py", SourceText(SOURCE), module, FileSettings(frozenset()))
    ours: list[tuple[str, str]] = []
    _Dispatcher(ctx, cast(list[Rule], [_Rule(ours)])).run(ctx.tree)
    theirs = _Everything()
    module.visit(theirs)
    assert ours == theirs.log
    assert ctx.ancestors == []  # every node was left
