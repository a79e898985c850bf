"""`contains(value, kind) -> Tri`: the one answer to "does this model hold BatchNorm?".

Every family asks here, so BN1xx, BN3xx, BN4xx and the project index agree on a model:

    >>> contains(Built("torchvision.models.segmentation.deeplabv3_resnet50"), BATCH_NORM, index)
    Tri.YES
    >>> contains(Built("timm.create_model", arch="vit_base_patch16_224"), BATCH_NORM, index)
    Tri.NO
    >>> contains(Built("Net"), BATCH_NORM, index)      # a project class, through its bases
    Tri.YES                                            # and the helpers it calls

Kinds (`torch_api`): BATCH_NORM, NORMALIZATION (any norm), DROPOUT, RECURRENT, ATTENTION.
A layer of the table answers from the table; a factory of a known model zoo (torchvision's
builders, `timm.create_model("resnet50")`, `torchvision.models.get_model`) from its
architecture name; anything else from the project index (classes and helper functions of
every indexed file). What none of them knows is UNKNOWN.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import libcst as cst

from bnlint.analysis import torch_api
from bnlint.analysis.names import dotted_name
from bnlint.analysis.project import module_parts
from bnlint.analysis.tri import Tri
from bnlint.analysis.zoo import ARCH_ARGUMENT
from bnlint.analysis.zoo import factory_contains as factory_contains  # one entry point

if TYPE_CHECKING:
    from bnlint.analysis.names import NameResolver
    from bnlint.analysis.project import ProjectIndex

SEQUENTIAL = frozenset({"torch.nn.Sequential", "torch.nn.ModuleList"})


@dataclass(frozen=True)
class Built:
    """How a model was built: the class or factory reference, and what it was given.

    `arch` is the architecture a name-keyed factory was asked for (`"resnet50"`); `parts`
    are the layers of an `nn.Sequential`/`nn.ModuleList` literal (None for a part that is not
    a plain constructor call), or None when the model is not such a literal.
    """

    reference: str
    arch: str | None = None
    parts: tuple[Built | None, ...] | None = None
    repo: str | None = None
    # Positions and keywords of the call given a value that may be true (not a literal
    # `False`/`None`/`0`/`""`); None when unknown (`*args`, `**kwargs`, not from a call).
    passed: frozenset[int | str] | None = None


def contains(built: Built | str, kind: str, project: ProjectIndex) -> Tri:
    """Whether the model `built` holds a layer of `kind` (maybe nested).

    >>> contains("torch.nn.BatchNorm2d", BATCH_NORM, index), contains("torch.nn.Linear", ...)
    (Tri.YES, Tri.NO)
    """
    if isinstance(built, str):
        built = Built(built)
    if built.parts is not None:
        return any_of(Tri.UNKNOWN if p is None else contains(p, kind, project) for p in built.parts)
    reference = built.reference
    if reference in torch_api.LAYER_KINDS[kind]:
        return Tri.YES
    factory = factory_contains(reference, kind, built.arch)
    if factory is not None:
        return factory
    return project.contains_constructed(reference, kind, built.passed)


def any_of(answers: Iterable[Tri]) -> Tri:
    """YES if any answer is YES, NO if all are NO, else UNKNOWN (NO for no answers)."""
    result = Tri.NO
    for answer in answers:
        if answer is Tri.YES:
            return Tri.YES
        if answer is Tri.UNKNOWN:
            result = Tri.UNKNOWN
    return result


def located(built: Built, filename: str, module: cst.Module, project: ProjectIndex) -> Built:
    """`built` with a reference the project index can tell from same-named classes of other
    files: a class of this file (`DummyModel` in `a/helpers.py` -> `a.helpers.DummyModel`), a
    relative import (`.model.Net` in `probe/infer.py` -> `probe.model.Net`), or a name that
    only a star import of a module beside the file can bind (`from models import *` in
    `gan/train.py`, where `gan/models.py` defines `Generator` -> `gan.models.Generator`: a
    script imports from its own folder).
    """
    reference = built.reference
    path = PurePosixPath(filename.replace("\\", "/")).with_suffix("")
    if "." not in reference and reference in _module_classes(module):
        found = ".".join((*path.parts, reference))
    elif reference.startswith("."):
        dots = len(reference) - len(reference.lstrip("."))
        base = path.parts[: len(path.parts) - dots]
        if len(base) != len(path.parts) - dots or not base:
            return built
        found = ".".join((*base, reference[dots:]))
    elif "." not in reference:
        star = _star_module_defining(reference, path, module, project)
        if star is None:
            return built
        found = f"{star}.{reference}"
    else:
        return built
    return dataclasses.replace(built, reference=found)


def _module_classes(module: cst.Module) -> frozenset[str]:
    return frozenset(node.name.value for node in module.body if isinstance(node, cst.ClassDef))


def _star_module_defining(
    name: str, path: PurePosixPath, module: cst.Module, project: ProjectIndex
) -> str | None:
    """The module beside `path` that a top-level `from X import *` (or `from .X import *`)
    names and that defines class `name`, as a dotted path; None when there is none."""
    files = {module_parts(facts.filename) for facts in project.classes.get(name, [])}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.ImportFrom) or not isinstance(small.names, cst.ImportStar):
                continue
            written = dotted_name(small.module) if small.module is not None else None
            if written is None or len(small.relative) > 1:
                continue  # `from .. import *` and deeper: not a module beside the file
            candidate = (*path.parts[:-1], *written.split("."))
            if candidate in files:
                return ".".join(candidate)
    return None


def built_by(call: cst.Call, names: NameResolver) -> Built | None:
    """How the model `call` returns was built, for a constructor or factory call.

    >>> built_by(parse("timm.create_model('resnet50', pretrained=True)"), names)
    Built(reference='timm.create_model', arch='resnet50')
    >>> built_by(parse("nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))"), names).parts
    (Built('torch.nn.Conv2d'), Built('torch.nn.BatchNorm2d'))
    """
    looked_up = _looked_up_constructor(call, names)
    if looked_up is not None:
        return looked_up
    qualified = names.qualified_name(call.func)
    reference = qualified or dotted_name(call.func)
    if reference is None:
        return None
    if qualified in SEQUENTIAL:
        parts: list[Built | None] = []
        for arg in call.args:
            parts.extend([None] if arg.star else _parts(arg.value, names))
        return Built(reference, parts=tuple(parts))
    found = ARCH_ARGUMENT.get(reference)
    if found is None:
        return Built(reference, passed=_passed(call))
    arch = _string_argument(call, found[1], found[0])
    repo = None
    if reference == "torch.hub.load":
        repo = _string_argument(call, "repo_or_dir", 0)
        if not (repo or "").startswith("pytorch/vision"):
            arch = None  # another hub repository: its model names mean nothing here
    return Built(reference, arch=arch, repo=repo)


# The reference of a constructor looked up by name in a module's namespace
# (`models.__dict__[args.arch]()`): what it builds is known only from how it is used.
LOOKED_UP = "<looked up by name>"


def _looked_up_constructor(call: cst.Call, names: NameResolver) -> Built | None:
    """`torchvision.models.__dict__[arch](...)` -> the torchvision factory for `arch`;
    `resnet.__dict__[arch](...)` (a project module) -> `resnet.<looked up by name>`."""
    func = call.func
    if not isinstance(func, cst.Subscript) or len(func.slice) != 1:
        return None
    namespace = func.value
    if not isinstance(namespace, cst.Attribute) or namespace.attr.value != "__dict__":
        return None
    module = names.qualified_name(namespace.value) or dotted_name(namespace.value)
    if module is None:
        return None
    index = func.slice[0].slice
    arch = None
    if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
        evaluated = index.value.evaluated_value
        arch = evaluated if isinstance(evaluated, str) else None
    if module == "torchvision.models" or module.startswith("torchvision.models."):
        return Built("torchvision.models.get_model", arch=arch)
    return Built(f"{module}.{LOOKED_UP}")


def _passed(call: cst.Call) -> frozenset[int | str] | None:
    """The positions and keywords `call` gives a value that may be true."""
    passed: set[int | str] = set()
    for index, arg in enumerate(call.args):
        if arg.star:
            return None
        value = arg.value
        if (
            (isinstance(value, cst.Name) and value.value in ("False", "None"))
            or (isinstance(value, cst.Integer | cst.Float) and not float(value.evaluated_value))
            or (isinstance(value, cst.SimpleString) and not value.evaluated_value)
        ):
            continue
        passed.add(arg.keyword.value if arg.keyword is not None else index)
    return frozenset(passed)


def _parts(value: cst.BaseExpression, names: NameResolver) -> list[Built | None]:
    """The layers one argument of `nn.Sequential`/`nn.ModuleList` adds.

    `nn.Conv2d(...)`, a list or tuple of them, a comprehension (`[Block() for _ in ...]`)
    and `OrderedDict([("conv", nn.Conv2d(...)), ...])`; None for anything else.
    """
    if isinstance(value, cst.Call):
        if dotted_name(value.func) in ("OrderedDict", "collections.OrderedDict") and value.args:
            pairs = value.args[0].value
            if isinstance(pairs, cst.List | cst.Tuple):
                found: list[Built | None] = []
                for element in pairs.elements:
                    pair = element.value
                    if isinstance(pair, cst.Tuple) and len(pair.elements) == 2:
                        found.extend(_parts(pair.elements[1].value, names))
                    else:
                        found.append(None)
                return found
            return [None]
        return [built_by(value, names)]
    if isinstance(value, cst.List | cst.Tuple):
        found = []
        for element in value.elements:
            if isinstance(element, cst.StarredElement):
                found.append(None)
            else:
                found.extend(_parts(element.value, names))
        return found
    if isinstance(value, cst.ListComp | cst.GeneratorExp):
        return _parts(value.elt, names)
    return [None]


def _string_argument(call: cst.Call, keyword: str, position: int) -> str | None:
    for index, arg in enumerate(call.args):
        if (arg.keyword is None and index == position and not arg.star) or (
            arg.keyword is not None and arg.keyword.value == keyword
        ):
            value = arg.value
            if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
                return value.evaluated_value
            return None
    return None
