"""The structural model's frames read the semantic model's bindings.

A `Frame` is the module or one function: a name is known there only when bound exactly once
by `name = value`; class bodies belong to no frame and a function's header (decorators,
defaults) to neither the function nor its caller.
"""

from __future__ import annotations

import textwrap

import libcst as cst

from bnlint.analysis.names import NameResolver
from bnlint.analysis.semantic.scopes import SemanticModel
from bnlint.analysis.structure import StructureIndex
from bnlint.analysis.structure.scopes import Frame

SOURCE = textwrap.dedent(
    """
    import torch.nn as nn
    import os.path
    WIDTH = 64
    DEPTH = 2
    DEPTH = 3
    COUNT = 1
    NOTE: str

    class Net(nn.Module):
        HIDDEN = 8

        def __init__(self, width, *layers, scale=(n := 2), **extra):
            super().__init__()
            self.conv = nn.Conv2d(3, width, 3)
            self.bn = nn.BatchNorm2d(width)
            self.head: nn.Module = nn.Linear(width, 10)
            self.inner.deep = nn.ReLU()
            block = nn.Sequential()
            a = b = nn.Identity()
            first, second = 1, 2
            width = width * 2
            hidden: int
            hidden = 16
            for item in layers:
                pass
            with open("x") as handle:
                pass
            squares = [k * k for k in range(3)]

            @decorate(make())
            def helper(x):
                global COUNT
                COUNT = x
                return nn.ReLU()

    def outer():
        total = 0

        def inner():
            nonlocal total
            total = 1

        return inner
    """
)


def frames() -> tuple[cst.Module, dict[str, Frame]]:
    module = cst.parse_module(SOURCE)
    index = StructureIndex(module, NameResolver(), SemanticModel(module))
    named = {"<module>": index.module_frame}
    for node, frame in index.frames.items():
        assert isinstance(node, cst.FunctionDef)
        named[node.name.value] = frame
    return module, named


def code(node: cst.CSTNode | None) -> str | None:
    return None if node is None else cst.Module([]).code_for_node(node)


def test_module_frame_knows_names_bound_once() -> None:
    _, found = frames()
    module = found["<module>"]
    assert code(module.single_value("WIDTH")) == "64"
    # Bound twice: not known. A function's `global COUNT` does not rebind it up here.
    assert module.single_value("DEPTH") is None
    assert code(module.single_value("COUNT")) == "1"
    # A bare annotation binds nothing; an import binds its top name, with no value.
    assert not module.binds("NOTE")
    assert module.binds("os")
    assert module.single_value("nn") is None
    # A class body is no frame: its names are not the module's.
    assert not module.binds("HIDDEN")
    assert module.binds("Net")
    assert module.binds("outer")


def test_function_frame_bindings_params_and_header() -> None:
    _, found = frames()
    init = found["__init__"]
    assert set(init.params) == {"self", "width", "layers", "scale", "extra"}
    # A parameter rebound in the body is bound, never single-valued.
    assert init.bindings["width"] == [init.bindings["width"][0]]
    assert init.single_value("width") is None
    assert code(init.single_value("block")) == "nn.Sequential()"
    assert init.bindings["a"] == [None]
    assert init.bindings["b"] == [None]
    assert init.bindings["first"] == [None]
    assert code(init.single_value("hidden")) == "16"
    for other in ("item", "handle", "k", "helper"):
        assert init.bindings[other] == [None], other
    # The walrus in a default is the header's, not the body's.
    assert not init.binds("n")


def test_calls_and_self_attributes_in_source_order() -> None:
    _, found = frames()
    init = found["__init__"]
    assert [name for name, _ in init.attribute_assignments] == ["conv", "bn", "head"]
    called = [code(call.func) for call in init.calls]
    assert called[:5] == ["super().__init__", "super", "nn.Conv2d", "nn.BatchNorm2d", "nn.Linear"]
    # The decorator's calls belong to no frame; the nested helper's body to its own.
    assert "decorate" not in called
    assert "make" not in called
    assert "nn.ReLU" in called  # `self.inner.deep = nn.ReLU()`: a call, not a self attribute
    assert [code(call.func) for call in found["helper"].calls] == ["nn.ReLU"]


def test_global_and_nonlocal_are_never_single_values() -> None:
    _, found = frames()
    assert found["helper"].bindings["COUNT"] == [None, None, found["helper"].bindings["COUNT"][2]]
    assert found["helper"].single_value("COUNT") is None
    assert found["inner"].single_value("total") is None
    assert code(found["outer"].single_value("total")) == "0"
