"""`walk.visit` calls a visitor's methods as libcst's own `node.visit` does.

A visitor that keeps libcst's `on_visit`/`on_leave` gets its `visit_<Kind>`/`leave_<Kind>`
looked up once per kind and no leave step for kinds without `leave_<Kind>`; the calls, their
nodes and their order must stay libcst's.
"""

from __future__ import annotations

import textwrap

import libcst as cst

from bnlint.analysis.walk import visit

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
