"""The light project index: facts about classes and functions across every file of a run.

Built once per run with the stdlib `ast` module (about ten times faster than libcst), only
over files that mention torch or modes, and passed to every file's context as
`ctx.project`. Plain dataclasses and dicts, so it pickles into `--jobs` worker processes.

What it answers (keys are simple names; two definitions with one name are merged
conservatively):

    >>> index.contains("ResNet", BATCH_NORM)        # class ResNet builds nn.BatchNorm2d
    Tri.YES
    >>> index.function("validate").sets_mode        # `def validate(model): model.eval()`
    {'model': 'eval'}
    >>> index.call_sites["validate"][0].arg_modes   # `model.train(); validate(model)`
    {0: 'train', 'model': 'train'}
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, cast

from bnlint.analysis import ast_nodes, checkpoints, consumers, torch_api
from bnlint.analysis.semantic.imports import ImportTable, from_ast
from bnlint.analysis.torch_api import canonical
from bnlint.analysis.tri import Tri as Tri  # re-exported: rules read it from here too
from bnlint.analysis.zoo import factory_contains
from bnlint.cache import write_entry
from bnlint.discovery import read_regular

BATCH_NORM = torch_api.BATCH_NORM
DROPOUT = torch_api.DROPOUT

MODE_EVAL = "eval"
MODE_TRAIN = "train"
MODE_UNKNOWN = "unknown"
# A call-site argument that is the caller's own parameter, unchanged before the call
# (`def train_net(net): ... evaluate(net)`): its mode is whatever the caller's callers pass.
PASSED_THROUGH = "param:"
# A call-site argument bound to what a function returns (`net = build(); evaluate(net)`):
# its mode is the mode the project's function of that name returns a model in.
RETURNED_BY = "returns:"
_MAX_PASS_THROUGH = 3


@dataclass
class ClassFacts:
    """One class: its bases and every name its body refers to (layers, helpers)."""

    name: str
    filename: str
    bases: tuple[str, ...]
    # Qualified names (imported) or local names referred to anywhere in the class body.
    references: frozenset[str]
    # `self.x = Ctor(...)` in any method: attribute -> the constructor reference.
    attributes: dict[str, str] = field(default_factory=dict)
    # Refers to something this index cannot see into (an unresolved import, a parameter).
    opaque: bool = False
    # Constructor parameters (name -> position after `self`, -1 keyword-only) that gate every
    # Dropout of the class: `forward` applies them only under `if self.<flag>:`, the flag set
    # from a parameter whose default is falsy. Empty when any Dropout is applied otherwise.
    dropout_flags: dict[str, int] = field(default_factory=dict)


@dataclass
class FunctionFacts:
    """One function or method, summarised for its callers."""

    name: str
    filename: str
    line: int
    params: tuple[str, ...]
    # Parameter (or `self.x`) -> the mode the function leaves it in, when it sets one.
    sets_mode: dict[str, str] = field(default_factory=dict)
    # Contains a training step (`loss.backward()`, `optimizer.step()`).
    trains: bool = False
    # Calls `.eval()` on its first parameter (the shape of a function given to `model.apply`).
    evals_argument: bool = False
    # Parameters and `self.x` attributes it calls as functions (runs forward passes of).
    called: set[str] = field(default_factory=set)
    # Parameters and `self.x` it puts in training mode before its first training step
    # (`model.train()` at the start of `fit_one_epoch`): its steps train whatever mode the
    # caller left, even when it ends in eval mode for its own validation.
    trains_in_train_mode: set[str] = field(default_factory=set)
    # The mode of the model it returns (`def build(): return Net()` -> 'train'; 'unknown'
    # when its returns disagree), None when it returns no model the index can see.
    returns_mode: str | None = None
    # The class or factory that model is built with, when every return agrees.
    returns_class: str | None = None
    # The parameter every return gives back unchanged (`def reload(model, path): ...;
    # return model`): the caller gets its own argument back.
    returns_param: str | None = None
    # Calls of functions this file does not define that receive a parameter (or `self.x`):
    # (callee, argument position or keyword -> what is passed), for effects found later.
    passes: list[tuple[str, dict[int | str, str]]] = field(default_factory=list)


@dataclass
class CallSite:
    """A call `f(model, ...)` and the mode each model-like argument is in there."""

    caller: str
    filename: str
    line: int
    # Position and keyword -> 'eval' / 'train' / 'unknown'.
    arg_modes: dict[int | str, str]
    # Position and keyword -> the class of a same-file construction passed there
    # (`validate(Net())`): a mode counts only once the index knows the class is a module.
    arg_classes: dict[int | str, str] = field(default_factory=dict)


@dataclass
class ProjectIndex:
    classes: dict[str, list[ClassFacts]] = field(default_factory=dict)
    # Module-level functions that build layers (`def conv_bn(c): return nn.Sequential(...)`),
    # summarised like classes without bases: what a class that calls them contains.
    helpers: dict[str, list[ClassFacts]] = field(default_factory=dict)
    functions: dict[str, list[FunctionFacts]] = field(default_factory=dict)
    call_sites: dict[str, list[CallSite]] = field(default_factory=dict)
    # Callee name -> how many calls pass it only arguments of unknown mode.
    unknown_calls: dict[str, int] = field(default_factory=dict)
    unknown_calls_by_file: dict[tuple[str, str], int] = field(default_factory=dict)
    filenames: set[str] = field(default_factory=set)
    # Indexed files that `ast` could not parse (the others need no second syntax check).
    unparsable: set[str] = field(default_factory=set)
    # Content digest of every indexed file, so caches can tell when the project changed.
    digests: dict[str, str] = field(default_factory=dict)
    # How many `ast` nodes deep each parsed file goes: the linter's guard before libcst.
    depths: dict[str, int] = field(default_factory=dict)
    # Files that may load saved weights: filename -> (line, what) of the first place.
    weight_loads: dict[str, tuple[int, str]] = field(default_factory=dict)
    # Files that read a layer's `.bias`: filename -> the first line.
    bias_reads: dict[str, int] = field(default_factory=dict)
    # Class name -> (filename, line) where an instance's output feeds another class's instance.
    module_consumers: dict[str, tuple[str, int]] = field(default_factory=dict)
    # Answers of `contains` and `is_module_class` (see there).
    _contains_memo: dict[tuple[str, str], Tri] = field(
        default_factory=dict, compare=False, repr=False
    )
    # Answers of `_parameter_mode`: call sites fan out, and the same caller comes back often.
    _parameter_memo: dict[tuple[str, str, str, int], tuple[str | None, str | None]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def parsed(self, filename: str) -> bool:
        """Whether `filename` was indexed and `ast` parsed it (no syntax error to report)."""
        return filename in self.filenames and filename not in self.unparsable

    def depth_of(self, filename: str, data: bytes) -> int | None:
        """The `ast` depth of `filename` when the index parsed exactly these bytes."""
        depth = self.depths.get(filename)
        if depth is None or self.digests.get(filename) != hashlib.sha256(data).hexdigest():
            return None
        return depth

    def digest(self) -> str:
        """One digest of every indexed file's content."""
        return hashlib.sha256(repr(sorted(self.digests.items())).encode()).hexdigest()[:16]

    def function(
        self, name: str, near: str | None = None, module: str | None = None
    ) -> FunctionFacts | None:
        """The summary of `name` when every definition of that name agrees.

        >>> index.function("set_eval").sets_mode   # `def set_eval(m): m.eval()`
        {'m': 'eval'}
        """
        found = self.functions.get(name)
        if not found:
            return None
        first = found[0]
        if all(f.sets_mode == first.sets_mode and f.params == first.params for f in found[1:]):
            return first
        if near is not None:
            # Several definitions disagree: the one of the module it was imported from
            # (`from audio_model import lipreading`), of the caller's own file, else of its
            # folder (`from model import *` in a script beside `model.py`).
            folder = Path(near).parent
            module_path = (module or "").lstrip(".").replace(".", "/")
            for candidates in (
                [
                    f
                    for f in found
                    if module_path
                    and Path(f.filename).with_suffix("").as_posix().endswith(module_path)
                ],
                [f for f in found if f.filename == near],
                [f for f in found if Path(f.filename).parent == folder],
            ):
                if len(candidates) == 1:
                    return candidates[0]
        return None

    def effects(self, summary: FunctionFacts, depth: int = 0) -> dict[str, str]:
        """`summary.sets_mode` with the effects of the functions of other files it passes
        its parameters to (`run_validation(model)` -> `evaluate(model)` -> `model.eval()`);
        its own calls win over theirs."""
        found = dict(summary.sets_mode)
        if depth >= _MAX_PASS_THROUGH or not summary.passes:
            return found
        for callee, given in summary.passes:
            target = self.function(callee, summary.filename)
            if target is None or target is summary:
                continue
            offset = 1 if target.params[:1] == ("self",) else 0
            bound = {
                (target.params[k + offset] if isinstance(k, int) else k): key
                for k, key in given.items()
                if not isinstance(k, int) or k + offset < len(target.params)
            }
            for changed, mode in self.effects(target, depth + 1).items():
                head, dot, rest = changed.partition(".")
                if head in bound:
                    found.setdefault(bound[head] + dot + rest, mode)
        return found

    def sites_for(self, name: str, filename: str) -> list[CallSite]:
        """Call sites of the function `name` defined in `filename`.

        >>> index.sites_for("validate", "train.py")  # `validate(model, ...)` calls
        [CallSite(caller='main', filename='train.py', line=40, arg_modes={0: 'train'})]
        When several files define `name`, only calls in the same file are trusted.
        """
        sites = self.call_sites.get(name, [])
        files = {f.filename for f in self.functions.get(name, [])}
        if len(files) > 1:
            sites = [site for site in sites if site.filename == filename]
        return [self._passed_through(self._module_arguments_only(site), 0) for site in sites]

    def _passed_through(self, site: CallSite, depth: int) -> CallSite:
        """`site` with each argument its caller passed through from its own parameters
        replaced by the mode the caller's call sites give that parameter (dropped when
        unknown)."""
        through = {k: m for k, m in site.arg_modes.items() if m.startswith(PASSED_THROUGH)}
        returned = {k: m for k, m in site.arg_modes.items() if m.startswith(RETURNED_BY)}
        if not through and not returned:
            return site
        modes = {k: m for k, m in site.arg_modes.items() if k not in through and k not in returned}
        classes = dict(site.arg_classes)
        for key, marker in returned.items():
            builder = self.function(marker[len(RETURNED_BY) :])
            if builder is not None and builder.returns_mode in (MODE_TRAIN, MODE_EVAL):
                modes[key] = builder.returns_mode
                if builder.returns_class is not None:
                    classes[key] = builder.returns_class
        for key, marker in through.items():
            mode, reference = self._parameter_mode(site, marker[len(PASSED_THROUGH) :], depth)
            if mode is not None:
                modes[key] = mode
            if reference is not None:
                classes[key] = reference
        return CallSite(site.caller, site.filename, site.line, modes, classes)

    def _parameter_mode(
        self, site: CallSite, param: str, depth: int
    ) -> tuple[str | None, str | None]:
        """The mode every caller of `site.caller` passes for its parameter `param` (train
        when any passes training mode, eval when all pass eval, else None), and the class
        of what they pass when they agree."""
        if depth >= _MAX_PASS_THROUGH:
            return None, None
        memo = (site.caller, site.filename, param, depth)
        known = self._parameter_memo.get(memo)
        if known is None:
            known = self._parameter_memo[memo] = self._parameter_mode_of(site, param, depth)
        return known

    def _parameter_mode_of(
        self, site: CallSite, param: str, depth: int
    ) -> tuple[str | None, str | None]:
        name = site.caller.rpartition(".")[2]
        found = [f for f in self.functions.get(name, []) if f.filename == site.filename]
        param, dot, attribute = param.partition(".")
        if len(found) != 1 or param not in found[0].params:
            return None, None
        params = found[0].params
        offset = 1 if params[0] in ("self", "cls") else 0
        position = params.index(param) - offset
        index: int | str = f"{position}.{attribute}" if dot else position
        param = param + dot + attribute
        sites = self.call_sites.get(name, [])
        if len({f.filename for f in self.functions.get(name, [])}) > 1:
            sites = [s for s in sites if s.filename == site.filename]
        modes = []
        references = set()
        for caller_site in sites:
            resolved = self._passed_through(self._module_arguments_only(caller_site), depth + 1)
            modes.append(resolved.arg_modes.get(index, resolved.arg_modes.get(param)))
            references.add(resolved.arg_classes.get(index, resolved.arg_classes.get(param)))
        reference = references.pop() if len(references) == 1 else None
        if MODE_TRAIN in modes:
            return MODE_TRAIN, reference
        if (
            modes
            and all(m == MODE_EVAL for m in modes)
            and not self.unknown_calls_for(name, site.filename)
        ):
            return MODE_EVAL, reference
        return None, reference

    def _module_arguments_only(self, site: CallSite) -> CallSite:
        """`site` without the arguments built from classes that are not known modules (a
        Keras `Model` subclass has no train/eval mode to be in)."""
        others = {
            key
            for key, reference in site.arg_classes.items()
            if self.is_loss_or_metric(reference)
            or (
                self.is_module_class(reference) is not Tri.YES
                and factory_contains(reference, BATCH_NORM) is None
            )
        }
        if not others:
            return site
        modes = {key: mode for key, mode in site.arg_modes.items() if key not in others}
        classes = {key: cls for key, cls in site.arg_classes.items() if key not in others}
        return CallSite(site.caller, site.filename, site.line, modes, classes)

    def unknown_calls_for(self, name: str, filename: str) -> int:
        files = {f.filename for f in self.functions.get(name, [])}
        if len(files) > 1:
            return self.unknown_calls_by_file.get((name, filename), 0)
        return self.unknown_calls.get(name, 0)

    def classes_for(self, reference: str) -> list[ClassFacts]:
        """The indexed classes a reference can name.

        A reference through an absolute import (`keras.models.Model`) names only classes
        in files under a folder or module of its package's name: a Keras `Model` is not
        the project's `class Model(nn.Module)`. Of those, the files whose path ends with the
        reference's module (`gan.models.Generator` -> `.../gan/models.py`) win when there are
        any: one class name is often defined in several folders of a project. Local and
        relative references match by name.
        """
        found = self.classes.get(_simple(reference), [])
        package, dot, _ = reference.partition(".")
        if not found or not dot or not package:
            return found
        in_package = [facts for facts in found if package in _path_names(facts.filename)]
        if len(in_package) < 2:
            return in_package
        module = tuple(reference.rpartition(".")[0].split("."))
        exact = [facts for facts in in_package if _module_path_ends_with(facts.filename, module)]
        return exact or in_package

    def is_module_class(self, reference: str, _seen: frozenset[str] = frozenset()) -> Tri:
        """Whether a class reference is an `nn.Module` subclass.

        >>> index.is_module_class("Net")        # `class Net(nn.Module)`
        Tri.YES
        """
        if reference in torch_api.MODULE_BASES or canonical(reference).startswith("torch.nn."):
            return Tri.YES
        if reference in ("object", "builtins.object"):
            return Tri.NO
        found = self.classes_for(reference)
        if not found:
            return Tri.UNKNOWN
        if reference in _seen:
            return Tri.UNKNOWN
        key = (reference, "module")
        known = self._contains_memo.get(key)
        if known is not None:
            return known
        answers = set()
        for facts in found:
            answer = Tri.NO
            for base in facts.bases:
                sub = self.is_module_class(base, _seen | {reference})
                if sub is Tri.YES:
                    answer = Tri.YES
                    break
                if sub is Tri.UNKNOWN:
                    answer = Tri.UNKNOWN
            answers.add(answer)
            if len(answers) > 1:
                break
        result = answers.pop() if len(answers) == 1 else Tri.UNKNOWN
        self._contains_memo[key] = result
        return result

    def is_loss_or_metric(self, reference: str, _depth: int = 0) -> bool:
        """A loss or metric class (`nn.MSELoss`, `class DiceLoss(_Loss)`): called like a
        model, but never one for the mode rules."""
        if torch_api.names_a_loss_or_metric(reference):
            return True
        if _depth > 4:
            return False
        return any(
            self.is_loss_or_metric(base, _depth + 1)
            for facts in self.classes_for(reference)
            for base in facts.bases
        )

    def contains(self, reference: str, kind: str, _seen: frozenset[str] = frozenset()) -> Tri:
        """Whether the layer or class `reference` contains BatchNorm (or Dropout), maybe nested.

        >>> index.contains("torch.nn.BatchNorm2d", BATCH_NORM) -> Tri.YES
        >>> index.contains("Encoder", BATCH_NORM)  # only nn.Linear / nn.LayerNorm inside -> Tri.NO
        """
        if reference in torch_api.LAYER_KINDS[kind]:
            return Tri.YES
        factory = factory_contains(reference, kind)
        if factory is not None:
            return factory
        if reference.startswith("torch."):
            return Tri.NO if canonical(reference).startswith("torch.nn.") else Tri.UNKNOWN
        found = self.classes_for(reference) or self.helpers.get(reference, [])
        if not found:
            return Tri.UNKNOWN
        if reference in _seen:
            return Tri.UNKNOWN
        key = (reference, kind)
        known = self._contains_memo.get(key)
        if known is not None:
            return known
        # Large projects define one class name many times (transformers: hundreds of
        # `Attention`s), so without memoising the walk is exponential. An answer computed
        # while a cycle was cut short can depend on the path that led to it, but a cut only
        # drops references: it can turn YES or UNKNOWN into NO/UNKNOWN (silence), never
        # make a YES, so memoising it can cost a finding, never add a false one.
        answers: set[Tri] = set()
        for facts in found:
            answers.add(self._class_contains(facts, kind, _seen | {reference}))
            if len(answers) > 1:
                break
        answer = answers.pop() if len(answers) == 1 else Tri.UNKNOWN
        self._contains_memo[key] = answer
        return answer

    def contains_constructed(
        self, reference: str, kind: str, passed: frozenset[int | str] | None
    ) -> Tri:
        """`contains` for one construction of `reference`, given the positions and keywords
        it passes a value that may be true (None: unknown, any flag may be on).

        >>> index.contains_constructed("MLP", DROPOUT, frozenset({0, 1}))  # MLP(400, 5)
        Tri.NO        # its Dropout runs only under `if self.dropout:`, off by default
        """
        found = self.classes_for(reference)
        if kind != DROPOUT or passed is None or len(found) != 1 or not found[0].dropout_flags:
            return self.contains(reference, kind)
        facts = found[0]
        if any(name in passed or at in passed for name, at in facts.dropout_flags.items()):
            return self.contains(reference, kind)
        unplugged = dataclasses.replace(
            facts, references=facts.references - torch_api.LAYER_KINDS[DROPOUT]
        )
        return self._class_contains(unplugged, kind, frozenset({reference}))

    def class_contains(self, facts: ClassFacts, kind: str) -> Tri:
        """`contains` for one definition of a class (others of its name left out)."""
        return self._class_contains(facts, kind, frozenset({facts.name}))

    def _class_contains(self, facts: ClassFacts, kind: str, seen: frozenset[str]) -> Tri:
        answer = Tri.NO
        for reference in sorted(facts.references):
            if reference in seen:
                continue
            if reference in torch_api.LAYER_KINDS[kind]:
                if kind == BATCH_NORM and _PICKS_NORM & facts.references:
                    # `norm = nn.BatchNorm2d if bn else nn.GroupNorm`: which one is built
                    # is decided at run time.
                    return Tri.UNKNOWN
                return Tri.YES
            if (
                self.classes_for(reference) or reference in self.helpers
            ) and not reference.startswith("torch."):
                sub = self.contains(reference, kind, seen)
                if sub is Tri.YES:
                    return Tri.YES
                if sub is Tri.UNKNOWN:
                    answer = Tri.UNKNOWN
            elif (factory := factory_contains(reference, kind)) is not None:
                sub = factory
                if sub is Tri.YES:
                    return Tri.YES
                if sub is Tri.UNKNOWN:
                    answer = Tri.UNKNOWN
            elif reference not in torch_api.KIND_LAYERS:
                answer = Tri.UNKNOWN  # an imported class this run did not index
        for base in facts.bases:
            if base not in torch_api.MODULE_BASES and not self.classes_for(base):
                answer = Tri.UNKNOWN
            elif self.classes_for(base) and _simple(base) != facts.name:
                sub = self.contains(base, kind, seen)
                if sub is Tri.YES:
                    return Tri.YES
                if sub is Tri.UNKNOWN:
                    answer = Tri.UNKNOWN
        if facts.opaque:
            return Tri.UNKNOWN
        return answer

    def attribute_class(self, class_name: str, attribute: str) -> str | None:
        """The constructor reference of `self.<attribute>` in `class_name`, if one and known.

        >>> index.attribute_class("Classifier", "backbone")  # self.backbone = ResNet()
        'ResNet'
        """
        found = self.classes.get(class_name)
        if not found:
            return None
        values = {facts.attributes.get(attribute) for facts in found}
        return values.pop() if len(values) == 1 else None

    def merge(self, other: ProjectIndex) -> None:
        self._contains_memo.clear()
        self._parameter_memo.clear()
        for name, classes in other.classes.items():
            self.classes.setdefault(name, []).extend(classes)
        for name, helpers in other.helpers.items():
            self.helpers.setdefault(name, []).extend(helpers)
        for name, functions in other.functions.items():
            self.functions.setdefault(name, []).extend(functions)
        for name, sites in other.call_sites.items():
            self.call_sites.setdefault(name, []).extend(sites)
        for name, count in other.unknown_calls.items():
            self.unknown_calls[name] = self.unknown_calls.get(name, 0) + count
        for pair, count in other.unknown_calls_by_file.items():
            self.unknown_calls_by_file[pair] = self.unknown_calls_by_file.get(pair, 0) + count
        self.filenames |= other.filenames
        self.unparsable |= other.unparsable
        self.digests.update(other.digests)
        self.depths.update(other.depths)
        self.weight_loads.update(other.weight_loads)
        self.bias_reads.update(other.bias_reads)
        for name, place in other.module_consumers.items():
            self.module_consumers.setdefault(name, place)


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def _uses(node: ast.AST, attributes: set[str]) -> bool:
    """`node` reads `self.<one of attributes>` somewhere."""
    return any(
        isinstance(inner, ast.Attribute) and inner.attr in attributes and _is_self(inner.value)
        for inner in ast.walk(node)
    )


# A class that names both BatchNorm and one of these picks between them at run time.
_PICKS_NORM = frozenset({"torch.nn.GroupNorm"})

_PLAIN_LIBRARIES = frozenset(
    {"torch", "math", "numpy", "functools", "itertools", "collections", "typing", "warnings"}
)


def _imported_class(resolved: str, node: ast.expr, imports: dict[str, str]) -> bool:
    """An imported, class-like name outside torch (looked up in the index by simple name)."""
    root = node
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name) or root.id not in imports:
        return False
    if resolved.split(".")[0] in _PLAIN_LIBRARIES:
        return False
    return resolved.rpartition(".")[2][:1].isupper()


@functools.cache
def _path_names(filename: str) -> frozenset[str]:
    """The folder and module names on a file's path (from the root, so a run inside a
    package still sees the package's own name)."""
    path = Path(filename).resolve()
    return frozenset((*path.parent.parts, path.stem))


def _module_path_ends_with(filename: str, module: tuple[str, ...]) -> bool:
    """Whether the file is that module (`a/b/c.py` or `a/b/c/__init__.py` for `("b", "c")`)."""
    parts = module_parts(filename)
    return len(parts) >= len(module) and parts[len(parts) - len(module) :] == module


@functools.cache
def module_parts(filename: str) -> tuple[str, ...]:
    """The module a file is, as path parts: `a/b/c.py` and `a/b/c/__init__.py` -> (a, b, c)."""
    parts = PurePosixPath(filename.replace("\\", "/")).with_suffix("").parts
    return parts[:-1] if parts and parts[-1] == "__init__" else parts


def _simple(reference: str) -> str:
    return reference.rpartition(".")[2]


_RELEVANT = (b"torch", b"Module", b".eval(", b".train(")


def wants_file(data: bytes) -> bool:
    """Whether a file can hold facts the mode rules need (cheap byte check)."""
    return any(token in data for token in _RELEVANT)


_MAX_INDEXED_BYTES = 5_000_000


def build_index(paths: Iterable[tuple[Path, str]], summaries: Path | None = None) -> ProjectIndex:
    """Index every (path, display name) pair; unreadable or unparsable files are skipped.

    With `summaries` (a cache folder), each file's index is read from there when its
    content is unchanged, and stored there when it is built.
    """
    index = ProjectIndex()
    for path, display in paths:
        data = indexable_bytes(path)
        if data is None:
            continue
        index.digests[display] = hashlib.sha256(data).hexdigest()
        index.merge(_cached_summary(summaries, display, data))
    return index


def indexable_bytes(path: Path) -> bytes | None:
    """A file's bytes when it can hold facts for the index; None to skip it."""
    try:
        # Files the linter skips as too large are not indexed either (memory): skipped
        # from their size, unread; FIFOs and devices are never opened.
        data = read_regular(path, _MAX_INDEXED_BYTES)
    except OSError:
        return None
    return data if wants_file(data) else None


def cached_summaries(
    paths: Iterable[tuple[Path, str]], summaries: Path
) -> tuple[ProjectIndex, list[tuple[Path, str]]]:
    """The index of every file whose summary is in the cache, and the files still to index."""
    index = ProjectIndex()
    missing = []
    for path, display in paths:
        data = indexable_bytes(path)
        if data is None:
            continue
        try:
            entry = _summary_entry(summaries, display, data)
            found = index_from_json(json.loads(entry.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            # Not what bnlint writes (a corrupt entry): indexed afresh and rewritten.
            missing.append((path, display))
            continue
        index.digests[display] = hashlib.sha256(data).hexdigest()
        index.merge(found)
    return index, missing


def index_source(source: str | bytes, filename: str) -> ProjectIndex:
    """The index of one file (an empty index when it does not parse).

    >>> index_source("class Net(nn.Module): ...", "net.py").classes["Net"][0].bases
    ('torch.nn.Module',)
    """
    index = ProjectIndex(filenames={filename})
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        index.unparsable.add(filename)
        return index
    try:
        flat = ast_nodes.Flat(tree)
        index.depths[filename] = flat.depth
        _FileIndexer(index, filename, flat).run(tree)
    except RecursionError:  # nesting deeper than the indexer's recursion: no facts
        index = ProjectIndex(filenames={filename})
        index.depths[filename] = ast_nodes.depth(tree)
    return index


def _imports(flat: ast_nodes.Flat) -> ImportTable:
    """The file's imports; a module-level import wins over a function's own of that name."""
    table = ImportTable()
    positions = flat.positions_of(ast.Import, ast.ImportFrom)
    at_module_level = [flat.owners[p] is None for p in positions]
    found = sorted(zip(at_module_level, positions, strict=True))
    for _, position in found:
        for record in from_ast(cast(ast.Import | ast.ImportFrom, flat.nodes[position])):
            table.add(record)
    return table


def _mode_of_call(call: ast.Call) -> tuple[str, str] | None:
    """`x.eval()` -> ('x', 'eval'); `x.train(False)` -> ('x', 'eval'); else None."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in ("eval", "train"):
        return None
    receiver = _receiver_key(func.value)
    if receiver is None:
        return None
    if func.attr == "eval":
        return (receiver, MODE_EVAL) if not call.args and not call.keywords else None
    values = [*call.args, *(k.value for k in call.keywords if k.arg == "mode")]
    if not values:
        return receiver, MODE_TRAIN
    if len(values) == 1 and isinstance(values[0], ast.Constant):
        return receiver, MODE_TRAIN if values[0].value else MODE_EVAL
    return receiver, MODE_UNKNOWN


_CHAIN_METHODS = torch_api.MOVE_METHODS


def _receiver_key(node: ast.expr) -> str | None:
    """The model a method call acts on: `model.module.to(dev)` -> 'model'."""
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _CHAIN_METHODS
    ):
        node = node.func.value
    key = ast_nodes.dotted_name(node)
    if key is None:
        return None
    while key.endswith(".module"):
        key = key[: -len(".module")]
    return key


def _is_training_step(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    return torch_api.is_training_step(func.attr, ast_nodes.dotted_name(func.value))


class _FileIndexer:
    def __init__(self, index: ProjectIndex, filename: str, flat: ast_nodes.Flat) -> None:
        self.index = index
        self.filename = filename
        # The file flattened once: each class, helper and function below is a slice of it.
        self.flat = flat
        self.table = _imports(flat)
        self.imports = self.table.aliases
        self.local_classes: set[str] = set()
        self.local_names: set[str] = set()
        self.local_helpers: set[str] = set()
        # Dotted name as written -> its resolution (one file resolves the same names often).
        self._resolved: dict[str, str] = {}
        self.local_functions: dict[str, FunctionFacts] = {}

    def resolve(self, node: ast.expr) -> str | None:
        name = ast_nodes.dotted_name(node)
        if name is None:
            return None
        found = self._resolved.get(name)
        if found is None:
            found = self._resolved[name] = self.table.resolve(name)
        return found

    def run(self, tree: ast.Module) -> None:
        flat = self.flat
        calls = cast(list[ast.Call], flat.of_kind(ast.Call))
        load = checkpoints.weight_load([*calls, *flat.of_kind(ast.Constant)])
        if load is not None:
            self.index.weight_loads[self.filename] = load
        bias = checkpoints.bias_read(flat.of_kind(ast.Compare, ast.Attribute))
        if bias is not None:
            self.index.bias_reads[self.filename] = bias
        found = consumers.module_consumers(
            flat.of_kind(ast.Assign, ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)
        )
        for name, line in found.items():
            self.index.module_consumers.setdefault(name, (self.filename, line))
        classes = cast(list[ast.ClassDef], flat.of_kind(ast.ClassDef))
        self.local_classes = {n.name for n in classes}
        functions = cast(
            list[ast.FunctionDef | ast.AsyncFunctionDef],
            flat.of_kind(ast.FunctionDef, ast.AsyncFunctionDef),
        )
        # Every name the file binds anywhere (a builtin it rebinds is not the builtin).
        self.local_names = {n.name for n in functions} | self.local_classes
        self.local_names |= {
            n.id
            for n in cast(list[ast.Name], flat.of_kind(ast.Name))
            if not isinstance(n.ctx, ast.Load)
        }
        called = {n.func.id for n in calls if isinstance(n.func, ast.Name)}
        self._helpers(tree.body, called)
        for node in classes:
            self._class(node)
        self._functions(tree.body, prefix="")
        self._call_sites("<module>", flat.statements_of(None))

    def _helpers(self, body: list[ast.stmt], called: set[str]) -> None:
        """Summarise the module-level functions this file calls that refer to layers,
        classes or imports (a helper referring to nothing builds nothing, and is left out)."""
        functions = [
            n
            for n in body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name in called
        ]
        self.local_helpers = {n.name for n in functions} - self.local_classes
        facts = {n.name: self._contents(n, ()) for n in functions if n.name in self.local_helpers}
        while True:
            empty = {name for name, f in facts.items() if not f.references and not f.opaque}
            if not empty:
                break
            for name in empty:
                del facts[name]
            self.local_helpers -= empty
            for f in facts.values():
                f.references = f.references - empty
        for name, found in facts.items():
            self.index.helpers.setdefault(name, []).append(found)

    def _class(self, node: ast.ClassDef) -> None:
        bases = tuple(b for b in (self.resolve(base) for base in node.bases) if b is not None)
        facts = self._contents(node, bases)
        facts.dropout_flags = self._dropout_flags(node)
        self.index.classes.setdefault(node.name, []).append(facts)

    def _dropout_flags(self, node: ast.ClassDef) -> dict[str, int]:
        """The constructor flags that gate every Dropout of the class (see `ClassFacts`).

        >>> `def __init__(self, d, dropout=False): self.dropout = dropout; self.drop = nn.Dropout()`
        >>> and `forward` does `if self.dropout: x = self.drop(x)` -> {"dropout": 1}
        """
        methods = {m.name: m for m in node.body if isinstance(m, ast.FunctionDef)}
        init, forward = methods.get("__init__"), methods.get("forward")
        if init is None or forward is None:
            return {}
        args = init.args
        positional = [*args.posonlyargs, *args.args]
        with_default = positional[len(positional) - len(args.defaults) :]
        defaults = dict(zip([a.arg for a in with_default], args.defaults, strict=True))
        defaults.update(
            (a.arg, d)
            for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
            if d is not None
        )
        falsy = {n for n, d in defaults.items() if isinstance(d, ast.Constant) and not d.value}
        at = {a.arg: i - 1 for i, a in enumerate(positional)}
        dropout_layers = torch_api.LAYER_KINDS[DROPOUT]
        flags: dict[str, str] = {}  # attribute -> the parameter it is set from
        layers: set[str] = set()
        built: set[int] = set()
        assigned: dict[str, int] = {}
        class_nodes = self.flat.subtree(node)
        for inner in class_nodes:
            if not isinstance(inner, ast.Assign | ast.AugAssign | ast.AnnAssign):
                continue
            targets = inner.targets if isinstance(inner, ast.Assign) else [inner.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and _is_self(target.value):
                    assigned[target.attr] = assigned.get(target.attr, 0) + 1
            if not (
                isinstance(inner, ast.Assign)
                and len(inner.targets) == 1
                and isinstance(inner.targets[0], ast.Attribute)
                and _is_self(inner.targets[0].value)
            ):
                continue
            name, value = inner.targets[0].attr, inner.value
            if isinstance(value, ast.Name) and value.id in falsy:
                flags[name] = value.id
            elif isinstance(value, ast.Call) and self.resolve(value.func) in dropout_layers:
                layers.add(name)
                built.add(id(value.func))
        flags = {a: p for a, p in flags.items() if assigned.get(a) == 1}
        if not layers or not flags or any(assigned.get(a) != 1 for a in layers):
            return {}
        # Every Dropout the class names is one of those attributes.
        for inner in class_nodes:
            if (
                isinstance(inner, ast.Name | ast.Attribute)
                and isinstance(inner.ctx, ast.Load)
                and id(inner) not in built
                and self.resolve(inner) in dropout_layers
            ):
                return {}
        used: set[str] = set()

        def guarded(statements: list[ast.stmt], under: frozenset[str]) -> bool:
            for statement in statements:
                if isinstance(statement, ast.If):
                    test = statement.test
                    flag = (
                        test.attr
                        if isinstance(test, ast.Attribute) and _is_self(test.value)
                        else None
                    )
                    if flag not in flags and _uses(test, layers):
                        return False
                    inside = under | {flag} if flag in flags else under
                    if not guarded(statement.body, inside) or not guarded(statement.orelse, under):
                        return False
                    continue
                if _uses(statement, layers):
                    if not under:
                        return False
                    used.update(under)
            return True

        if not guarded(forward.body, frozenset()):
            return {}
        for method in node.body:
            if method is forward or method is init or not isinstance(method, ast.FunctionDef):
                continue
            for inner in self.flat.subtree(method):
                if isinstance(inner, ast.Attribute) and inner.attr in layers:
                    return {}  # applied or replaced outside `forward`
        return {flags[a]: at.get(flags[a], -1) for a in used}

    def _contents(
        self, node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef, bases: tuple[str, ...]
    ) -> ClassFacts:
        """The layers, classes and helpers a class (or a helper function) refers to."""
        references: set[str] = set()
        attributes: dict[str, str] = {}
        opaque = False
        nodes = self.flat.subtree(node)
        # Helpers count where they are called: `self.apply(init_weights)` builds nothing.
        called = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
        for inner in nodes:
            if isinstance(inner, ast.Name | ast.Attribute) and isinstance(inner.ctx, ast.Load):
                resolved = self.resolve(inner)
                if resolved is None:
                    continue
                if (
                    resolved in self.local_classes
                    or (resolved in self.local_helpers and id(inner) in called)
                    or resolved in torch_api.KIND_LAYERS
                    or factory_contains(resolved, BATCH_NORM) is not None
                ) or _imported_class(resolved, inner, self.imports):
                    references.add(resolved)
                elif self._from_star_import(inner) and id(inner) in called:
                    # `inconv(...)` from `from .parts import *`: looked up in the index by name
                    # (a name the index does not know makes the answer UNKNOWN, never NO).
                    references.add(resolved)
            if isinstance(inner, ast.Call):
                callee = self.resolve(inner.func)
                if callee is not None and self._opaque_callee(callee, inner.func):
                    opaque = True
            if isinstance(inner, ast.Assign) and isinstance(inner.value, ast.Call):
                ctor = self.resolve(inner.value.func)
                for target in inner.targets:
                    if (
                        ctor is not None
                        and isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == "self"
                    ):
                        attributes[target.attr] = ctor
        references.discard(node.name)  # a recursive helper
        return ClassFacts(
            node.name, self.filename, bases, frozenset(references), attributes, opaque
        )

    def _from_star_import(self, node: ast.expr) -> bool:
        """A plain name no import, class or function of this file binds, in a file with a
        star import: it comes from the star."""
        return (
            self.table.star_imports
            and isinstance(node, ast.Name)
            and node.id not in self.imports
            and node.id not in self.local_classes
            and node.id not in self.local_helpers
            and node.id not in _BUILTINS
        )

    def _opaque_callee(self, callee: str, func: ast.expr) -> bool:
        """A call inside a class that may build layers this index cannot see into."""
        root_node = func
        while isinstance(root_node, ast.Attribute):
            root_node = root_node.value
        if not isinstance(root_node, ast.Name) or root_node.id not in self.imports:
            return False  # builtins, same-file helpers, methods of local values
        if callee.split(".")[0] in _PLAIN_LIBRARIES:
            return False
        # Imported classes are looked up in the index; imported functions may build anything.
        return not callee.rpartition(".")[2][:1].isupper()

    def _functions(self, body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                self._functions(node.body, prefix=f"{node.name}.")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                order = self.flat.statements_of(node)
                facts = self._function(node, order)
                params = {a.arg for a in [*node.args.posonlyargs, *node.args.args]}
                params |= {a.arg for a in node.args.kwonlyargs}
                self._call_sites(f"{prefix}{node.name}", order, params - {"self", "cls"}, facts)

    def _function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, order: list[ast.AST]
    ) -> FunctionFacts:
        params = tuple(a.arg for a in [*node.args.posonlyargs, *node.args.args])
        facts = FunctionFacts(node.name, self.filename, node.lineno, params)
        tracked = set(params)
        # `model = ctx.model`: a mode set on `model` is set on the parameter's attribute.
        aliases: dict[str, str] = {}
        for inner in order:
            if isinstance(inner, ast.Assign) and len(inner.targets) == 1:
                target = ast_nodes.dotted_name(inner.targets[0])
                source = _receiver_key(inner.value)
                if target is not None:
                    aliases.pop(target, None)
                    if source is not None and source.split(".")[0] in tracked:
                        aliases[target] = source
                continue
            if not isinstance(inner, ast.Call):
                continue
            if _is_training_step(inner) and not facts.trains:
                facts.trains = True
                facts.trains_in_train_mode = {
                    k for k, v in facts.sets_mode.items() if v == MODE_TRAIN
                }
            callee = ast_nodes.dotted_name(inner.func)
            if callee is not None and (callee in tracked or callee.startswith("self.")):
                facts.called.add(callee)
            mode = _mode_of_call(inner)
            if mode is None:
                for key, value in self._helper_modes(inner, callee):
                    if key.split(".")[0] in tracked or key.startswith("self."):
                        facts.sets_mode[key] = value
                self._record_pass(facts, inner, callee, tracked, aliases)
                continue
            key, value = mode
            key = aliases.get(key, key)
            if key.split(".")[0] in tracked or key.startswith("self."):
                facts.sets_mode[key] = value
                if params and key == params[0] and value == MODE_EVAL:
                    facts.evals_argument = True
            elif params and value == MODE_EVAL and key.split(".")[0] == params[0]:
                facts.evals_argument = True
        self.index.functions.setdefault(node.name, []).append(facts)
        if facts.sets_mode:
            self.local_functions[node.name] = facts
        return facts

    def _record_pass(
        self,
        facts: FunctionFacts,
        call: ast.Call,
        callee: str | None,
        tracked: set[str],
        aliases: dict[str, str],
    ) -> None:
        """Remember `evaluate(model, loader)` when `evaluate` is not this file's: its effect
        on `model` is looked up in the whole project later (`ProjectIndex.effects`)."""
        if callee is None or "." in callee or callee in self.local_functions:
            return
        if self._outside_project(callee):
            return
        given: dict[int | str, str] = {}
        arguments: list[tuple[int | str, ast.expr]] = list(enumerate(call.args))
        arguments += [(k.arg, k.value) for k in call.keywords if k.arg is not None]
        for position, arg in arguments:
            key = _receiver_key(arg)
            key = aliases.get(key, key) if key is not None else None
            if key is not None and (key.split(".")[0] in tracked or key.startswith("self.")):
                given[position] = key
        if given:
            facts.passes.append((callee, given))

    def _helper_modes(self, call: ast.Call, callee: str | None) -> list[tuple[str, str]]:
        """The modes a call of an already summarised function of this file leaves its
        arguments (and `self.x`, for `self.method()`) in: `validate(ctx)` where `validate`
        calls `ctx.model.eval()` -> [('ctx.model', 'eval')]."""
        if callee is None:
            return []
        root, _, name = callee.rpartition(".")
        if root not in ("", "self"):
            return []
        summary = self.local_functions.get(name)
        if summary is None:
            return []
        offset = 1 if root == "self" and summary.params[:1] == ("self",) else 0
        bound: dict[str, str] = {}
        for position, arg in enumerate(call.args):
            key = _receiver_key(arg)
            if key is not None and position + offset < len(summary.params):
                bound[summary.params[position + offset]] = key
        for keyword in call.keywords:
            key = _receiver_key(keyword.value)
            if key is not None and keyword.arg is not None:
                bound[keyword.arg] = key
        found = []
        for target, value in summary.sets_mode.items():
            head, dot, rest = target.partition(".")
            if head == "self" and root == "self":
                found.append((target, value))
            elif head in bound:
                found.append((bound[head] + dot + rest, value))
        return found

    def _call_sites(
        self,
        caller: str,
        order: list[ast.AST],
        params: set[str] | frozenset[str] = frozenset(),
        function: FunctionFacts | None = None,
    ) -> None:
        """Record calls of functions with the mode each argument is in, in source order."""
        # A parameter keeps the mode its callers pass until the function changes it.
        modes: dict[str, str] = {p: PASSED_THROUGH + p for p in params}
        classes: dict[str, str] = {}
        # `model = ctx.model`: a mode set on one name is set on the other.
        aliases: dict[str, str] = {}
        returns: list[tuple[str | None, str | None]] = []
        given_back: set[str | None] = set()
        # Names bound to a parameter's own object (whatever mode it is put in).
        identity = {p: p for p in params}
        for node in order:
            if (
                isinstance(node, ast.Return)
                and node.value is not None
                and not (isinstance(node.value, ast.Constant) and node.value.value is None)
                and function is not None
            ):
                mode = self._initial_mode(node.value, modes)
                returned = _receiver_key(self._unwrapped(node.value))
                given_back.add(None if returned is None else identity.get(returned))
                if mode is not None and mode.startswith((PASSED_THROUGH, RETURNED_BY)):
                    mode = None
                returns.append((mode, self._constructed_class(node.value, classes)))
                continue
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                key = ast_nodes.dotted_name(node.targets[0])
                if key is not None:
                    source_key = _receiver_key(self._unwrapped(node.value))
                    same = identity.get(source_key) if source_key is not None else None
                    identity.pop(key, None)
                    if same is not None:
                        identity[key] = same
                    aliases.pop(key, None)
                    source = ast_nodes.dotted_name(node.value)
                    if source is not None and "." in source:
                        aliases[key] = source
                    initial = self._initial_mode(node.value, modes)
                    constructed = self._constructed_class(node.value, classes)
                    modes.pop(key, None)
                    classes.pop(key, None)
                    if initial is not None:
                        modes[key] = initial
                    if constructed is not None:
                        classes[key] = constructed
                continue
            if not isinstance(node, ast.Call):
                continue
            mode_call = _mode_of_call(node)
            if mode_call is not None:
                modes[mode_call[0]] = mode_call[1]
                if mode_call[0] in aliases:
                    modes[aliases[mode_call[0]]] = mode_call[1]
                continue
            callee = ast_nodes.dotted_name(node.func)
            if callee is None:
                continue
            if self._outside_project(callee):
                continue
            name = callee.rpartition(".")[2]
            arg_modes: dict[int | str, str] = {}
            arg_classes: dict[int | str, str] = {}
            arguments: list[tuple[int | str, ast.expr]] = list(enumerate(node.args))
            arguments += [(k.arg, k.value) for k in node.keywords if k.arg is not None]
            # Modes set on attributes (`ctx.model.train()`), for arguments that hold them.
            attribute_modes: list[tuple[str, str]] | None = None
            for position, arg in arguments:
                key = _receiver_key(arg)
                if key is None:
                    continue
                mode_here = modes.get(key)
                if mode_here is None and key.split(".")[0] in params:
                    mode_here = PASSED_THROUGH + key
                arg_modes[position] = mode_here or MODE_UNKNOWN
                if key in classes:
                    arg_classes[position] = classes[key]
                if attribute_modes is None:
                    attribute_modes = [
                        (held, held_mode)
                        for held, held_mode in modes.items()
                        if "." in held and not held_mode.startswith((PASSED_THROUGH, RETURNED_BY))
                    ]
                # `validate(ctx)` after `ctx.model.train()`: the attribute's mode, as "0.model".
                prefix = key + "."
                for held, held_mode in attribute_modes:
                    if held.startswith(prefix):
                        arg_modes[f"{position}{held[len(key) :]}"] = held_mode
            known = {k: v for k, v in arg_modes.items() if v != MODE_UNKNOWN}
            if known:
                self.index.call_sites.setdefault(name, []).append(
                    CallSite(
                        caller,
                        self.filename,
                        node.lineno,
                        known,
                        {k: v for k, v in arg_classes.items() if k in known},
                    )
                )
            elif arg_modes:
                # Callers passing values of unknown mode: counted, not stored one by one.
                self.index.unknown_calls[name] = self.index.unknown_calls.get(name, 0) + 1
                pair = (name, self.filename)
                self.index.unknown_calls_by_file[pair] = (
                    self.index.unknown_calls_by_file.get(pair, 0) + 1
                )
            # The callee's own mode changes, when its summary is already known (same file).
            for key, value in self._helper_modes(node, callee):
                modes[key] = value
                if key in aliases:
                    modes[aliases[key]] = value
        if function is not None and len(given_back) == 1:
            function.returns_param = given_back.pop()
        if function is not None and returns:
            found = {mode for mode, _ in returns}
            if found != {None}:
                function.returns_mode = found.pop() if len(found) == 1 else MODE_UNKNOWN
                references = {reference for _, reference in returns}
                function.returns_class = references.pop() if len(references) == 1 else None

    def _outside_project(self, callee: str) -> bool:
        """A call no project function can receive: a builtin this file does not rebind
        (`len(model)`, `dict(...)`) or a library's function (`torch.onnx.export`, `nn.Conv2d`).
        Call sites are looked up by the callee's last name, so recording these would only
        let a project function of the same name (`export`) inherit their arguments."""
        root = callee.partition(".")[0]
        if "." not in callee and callee in _BUILTINS:
            return callee not in self.imports and callee not in self.local_names
        qualified = self.table.qualify(callee) if root in self.imports else None
        return qualified is not None and qualified.partition(".")[0] in _PLAIN_LIBRARIES

    def _constructed_class(self, value: ast.expr, classes: dict[str, str]) -> str | None:
        """The class `value` constructs (through `.to(...)`-style chains, wrappers and
        names bound earlier), if any."""
        value = self._unwrapped(value)
        if isinstance(value, ast.Call):
            looked_up = self._looked_up(value.func)
            if looked_up is not None:
                return looked_up
            callee = self.resolve(value.func)
            if callee in torch_api.MODULE_BASES:
                return None  # a container: what it holds is in its arguments, not its class
            if callee is not None and (
                callee in torch_api.MODEL_FACTORIES
                or factory_contains(callee, BATCH_NORM) is not None
            ):
                return callee
            return (
                callee
                if callee in self.local_classes or torch_api.looks_like_class(callee)
                else None
            )
        key = _receiver_key(value)
        return None if key is None else classes.get(key)

    def _initial_mode(self, value: ast.expr, modes: dict[str, str]) -> str | None:
        """The mode of the model `value` gives, in a flow where `modes` holds the names."""
        if isinstance(value, ast.Call):
            mode = _mode_of_call(value)
            if mode is not None:
                return mode[1]
            func = value.func
            if isinstance(func, ast.Attribute) and func.attr == torch_api.FROM_PRETRAINED:
                return MODE_EVAL
        value = self._unwrapped(value)
        if not isinstance(value, ast.Call):
            key = _receiver_key(value)
            return None if key is None else modes.get(key)
        mode = _mode_of_call(value)
        if mode is not None:
            return mode[1]
        if self._looked_up(value.func) is not None:
            return MODE_TRAIN
        if isinstance(value.func, ast.Name) and value.func.id == "cls":
            return MODE_TRAIN  # `return cls(config)` in a classmethod builds a new model
        callee = self.resolve(value.func)
        if callee is None:
            return None
        if callee in self.local_classes or callee in torch_api.MODEL_FACTORIES:
            return MODE_TRAIN
        if factory_contains(callee, BATCH_NORM) is not None:
            return MODE_TRAIN
        if torch_api.looks_like_class(callee):
            # An imported class: the mode counts once the index knows it is a module
            # (`arg_classes`, checked by `sites_for`).
            return MODE_TRAIN
        written = ast_nodes.dotted_name(value.func) or ""
        plain_or_imported = "." not in written or written.split(".")[0] in self.imports
        if plain_or_imported and callee.split(".")[0] not in _PLAIN_LIBRARIES | {"torch"}:
            # `model = build(cfg)`: the mode the project's `build` returns, looked up later.
            return RETURNED_BY + callee.rpartition(".")[2]
        return None

    def _looked_up(self, func: ast.expr) -> str | None:
        """`models.__dict__[arch]` with `models` torchvision's: its name-keyed factory."""
        if not isinstance(func, ast.Subscript) or not isinstance(func.value, ast.Attribute):
            return None
        if func.value.attr != "__dict__":
            return None
        module = self.resolve(func.value.value) or ""
        if module == "torchvision.models" or module.startswith("torchvision.models."):
            return "torchvision.models.get_model"
        return None

    def _unwrapped(self, value: ast.expr) -> ast.expr:
        """`DataParallel(net).cuda()` -> `net`: what a chain or wrapper leaves the mode of."""
        while isinstance(value, ast.Call):
            func = value.func
            if isinstance(func, ast.Attribute) and func.attr in _CHAIN_METHODS:
                value = func.value
                continue
            callee = self.resolve(func)
            wraps = callee in torch_api.WRAPPERS or callee in torch_api.DEEPCOPY
            if wraps and value.args:
                value = value.args[0]
                continue
            break
        return value


_BUILTINS = frozenset(dir(builtins))


# -- per-file summaries in the cache ----------------------------------------------------------
# A warm run reads each file's summary back instead of parsing it again. JSON, never pickle:
# a cache folder inside a linted repository must not be a way to run code.


def _arg_key(key: int | str) -> list[object]:
    return ["i", key] if isinstance(key, int) else ["k", key]


def index_to_json(index: ProjectIndex) -> dict[str, object]:
    """Plain data for one file's index (sets sorted, tuple keys flattened)."""
    return {
        "classes": [
            [
                c.name,
                c.filename,
                list(c.bases),
                sorted(c.references),
                c.attributes,
                c.opaque,
                c.dropout_flags,
            ]
            for found in index.classes.values()
            for c in found
        ],
        "helpers": [
            [c.name, c.filename, sorted(c.references), c.opaque]
            for found in index.helpers.values()
            for c in found
        ],
        "functions": [
            [
                f.name,
                f.filename,
                f.line,
                list(f.params),
                f.sets_mode,
                f.trains,
                f.evals_argument,
                sorted(f.called),
                sorted(f.trains_in_train_mode),
                f.returns_mode,
                f.returns_class,
                f.returns_param,
                [
                    [callee, [[*_arg_key(k), v] for k, v in given.items()]]
                    for callee, given in f.passes
                ],
            ]
            for found in index.functions.values()
            for f in found
        ],
        "call_sites": [
            [
                callee,
                s.caller,
                s.filename,
                s.line,
                [[*_arg_key(key), mode] for key, mode in s.arg_modes.items()],
                [[*_arg_key(key), cls] for key, cls in s.arg_classes.items()],
            ]
            for callee, sites in index.call_sites.items()
            for s in sites
        ],
        "unknown_calls": index.unknown_calls,
        "unknown_calls_by_file": [
            [name, filename, count]
            for (name, filename), count in index.unknown_calls_by_file.items()
        ],
        "filenames": sorted(index.filenames),
        "depths": index.depths,
        "unparsable": sorted(index.unparsable),
        "weight_loads": [[name, line, what] for name, (line, what) in index.weight_loads.items()],
        "bias_reads": index.bias_reads,
        "module_consumers": [
            [name, filename, line] for name, (filename, line) in index.module_consumers.items()
        ],
    }


def index_from_json(data: dict[str, Any]) -> ProjectIndex:
    """The inverse of `index_to_json` (raises KeyError/TypeError/ValueError on bad data)."""
    index = ProjectIndex(
        filenames=set(data["filenames"]),
        unparsable=set(data["unparsable"]),
        depths={str(name): int(depth) for name, depth in data["depths"].items()},
        weight_loads={
            str(name): (int(line), str(what)) for name, line, what in data["weight_loads"]
        },
        bias_reads={str(name): int(line) for name, line in data["bias_reads"].items()},
        module_consumers={
            str(name): (str(filename), int(line))
            for name, filename, line in data["module_consumers"]
        },
    )
    for name, filename, bases, references, attributes, opaque, *flags in data["classes"]:
        index.classes.setdefault(name, []).append(
            ClassFacts(
                str(name),
                str(filename),
                tuple(bases),
                frozenset(references),
                dict(attributes),
                bool(opaque),
                {str(k): int(v) for k, v in flags[0].items()} if flags else {},
            )
        )
    for name, filename, references, opaque in data["helpers"]:
        index.helpers.setdefault(name, []).append(
            ClassFacts(str(name), str(filename), (), frozenset(references), {}, bool(opaque))
        )
    for name, filename, line, params, sets_mode, trains, evals, called, *rest in data["functions"]:
        before, returns_mode, returns_class, returns_param, passes = (*rest, *[None] * 5)[:5]
        index.functions.setdefault(name, []).append(
            FunctionFacts(
                str(name),
                str(filename),
                int(line),
                tuple(params),
                dict(sets_mode),
                bool(trains),
                bool(evals),
                set(called),
                set(before) if before else set(),
                None if returns_mode is None else str(returns_mode),
                None if returns_class is None else str(returns_class),
                None if returns_param is None else str(returns_param),
                [
                    (
                        str(callee),
                        {(int(k) if kind == "i" else str(k)): str(v) for kind, k, v in given},
                    )
                    for callee, given in passes or []
                ],
            )
        )
    for callee, caller, filename, line, modes, classes in data["call_sites"]:
        arg_modes: dict[int | str, str] = {
            (int(key) if kind == "i" else str(key)): str(mode) for kind, key, mode in modes
        }
        arg_classes: dict[int | str, str] = {
            (int(key) if kind == "i" else str(key)): str(cls) for kind, key, cls in classes
        }
        index.call_sites.setdefault(callee, []).append(
            CallSite(str(caller), str(filename), int(line), arg_modes, arg_classes)
        )
    index.unknown_calls = {str(k): int(v) for k, v in data["unknown_calls"].items()}
    index.unknown_calls_by_file = {
        (str(name), str(filename)): int(count)
        for name, filename, count in data["unknown_calls_by_file"]
    }
    return index


def _summary_entry(folder: Path, display: str, data: bytes) -> Path:
    digest = hashlib.sha256(display.encode("utf-8", "surrogatepass") + b"\0" + data)
    return folder / f"{digest.hexdigest()[:32]}.json"


def _cached_summary(folder: Path | None, display: str, data: bytes) -> ProjectIndex:
    """One file's index, read from the cache folder when there, else built and stored."""
    if folder is None:
        return index_source(data, display)
    entry = _summary_entry(folder, display, data)
    try:
        return index_from_json(json.loads(entry.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        pass
    index = index_source(data, display)
    write_entry(entry, json.dumps(index_to_json(index)))
    return index
