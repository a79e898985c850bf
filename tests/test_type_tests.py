"""Type tests on libcst nodes agree with isinstance().

Hot loops test `type(node) is cst.For` (or `type(node) in exact_kinds(...)`) because an
isinstance() that fails on a libcst type runs an ABC check. The two agree only for a type
with no subclasses; this reads every module of the package with `ast` and checks each
`type(...) is cst.X` it finds.
"""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
import pytest

import bnlint
from bnlint.analysis.walk import exact_kinds

PACKAGE = Path(bnlint.__file__).parent


def _type_tested_kinds(path: Path) -> list[tuple[int, str]]:
    """(line, name) for each `type(...) is [not] cst.Name` in the module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Compare) or not isinstance(node.left, ast.Call):
            continue
        call = node.left
        if not (isinstance(call.func, ast.Name) and call.func.id == "type"):
            continue
        for op, right in zip(node.ops, node.comparators, strict=True):
            if (
                isinstance(op, ast.Is | ast.IsNot)
                and isinstance(right, ast.Attribute)
                and isinstance(right.value, ast.Name)
                and right.value.id == "cst"
            ):
                found.append((node.lineno, right.attr))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_package_has_type_tests_to_check() -> None:
    assert sum(len(_type_tested_kinds(path)) for path in MODULES) >= 10


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_type_tested_libcst_kind_has_no_subclasses(path: Path) -> None:
    for line, name in _type_tested_kinds(path):
        kind = getattr(cst, name)
        assert kind.__subclasses__() == [], (
            f"{path.name}:{line}: `type(...) is cst.{name}` misses its subclasses"
        )


def test_exact_kinds_refuses_a_kind_with_subclasses() -> None:
    assert exact_kinds(cst.For, cst.While) == frozenset({cst.For, cst.While})
    with pytest.raises(TypeError, match="BaseCompoundStatement"):
        exact_kinds(cst.For, cst.BaseCompoundStatement)
