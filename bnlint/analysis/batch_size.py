"""Batch sizes: the integer an expression certainly holds, and where that value is written.

The batch size a model trains with is rarely a literal in the `DataLoader` call; it comes
from a constant, an `argparse` default, a click/typer option, a config class or dict, or a
config file next to the script. Each step accepts only what is certain: a name bound more
than once, an attribute written somewhere, a dict mutated in place all resolve to None.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import libcst as cst

from bnlint.analysis import config_files
from bnlint.analysis.bindings import Binding, BindingIndex, ScopeBindings
from bnlint.analysis.calls import argument
from bnlint.analysis.names import dotted_name
from bnlint.analysis.walk import children
from bnlint.analysis.walk import visit as visit_tree

if TYPE_CHECKING:
    from bnlint.analysis.context import FileContext

_MAX_DEPTH = 12
_ACCUMULATION = re.compile(
    r"(?<!\w)-*((?:[a-z]+[_-])?(?:grad(?:ient)?[_-]?accum(?:ulation)?(?:[_-](?:steps|iters?|every))?"
    r"|accumulat(?:e|ion)[_-](?:grad[_-])?(?:steps|batches|iters?|every)|accum[_-](?:steps|iters?|freq)))(?![\w-])",
    re.IGNORECASE,
)
_PARSE_ARGS = frozenset({"parse_args", "parse_known_args", "parse_intermixed_args"})
_FILE_LOADERS = {
    "json.load": "json",
    "yaml.safe_load": "yaml",
    "yaml.load": "yaml",
    "yaml.full_load": "yaml",
    "tomllib.load": "toml",
    "tomli.load": "toml",
    "toml.load": "toml",
}
_PATH_LOADERS = {"omegaconf.OmegaConf.load": "yaml"}
_DATACLASS = frozenset({"dataclasses.dataclass"})


@dataclass(frozen=True)
class Value:
    """An integer an expression certainly evaluates to, and how it was found.

    `origin` is empty for a literal written in place, else a short phrase for messages:
    "`BATCH_SIZE`", "the default of `--batch-size`", "`train.batch_size` in config.yaml".
    """

    value: int
    origin: str
    # Where `origin` is written (`BATCH = 4`'s 4, the `default=` of `--batch-size`, the call
    # that loads the config file), for explanations; None for a literal written in place.
    node: cst.CSTNode | None = field(default=None, compare=False)


@dataclass(frozen=True)
class _Option:
    default: cst.BaseExpression | None
    flag: str


class BatchSizes:
    """Resolves expressions to certain integers within one file.

    >>> `BATCH = 4` ... `DataLoader(ds, batch_size=BATCH)` -> Value(4, "`BATCH`")
    >>> `p.add_argument("--bs", type=int, default=2)` ... `args.bs` -> Value(2, "the default of `--bs`")
    """

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx

    @cached_property
    def index(self) -> BindingIndex:
        return self.ctx.semantic

    # Public questions --------------------------------------------------------------------

    def resolve(self, expr: cst.BaseExpression, scopes: Sequence[cst.CSTNode]) -> Value | None:
        """The integer `expr` certainly holds where it is written, or None.

        >>> `bs = 16` then `bs` (same function) -> Value(16, "`bs`")
        >>> a parameter, a name bound twice, `args.bs` after `args.bs = ...` -> None
        """
        return self._resolve(expr, list(scopes), 0)

    def spread_keyword(
        self, call: cst.Call, keyword: str, scopes: Sequence[cst.CSTNode]
    ) -> Value | None:
        """The certain value a `**name` argument passes for `keyword`, when `name` is bound
        once to a dict literal or `dict(...)` call that writes it.

        >>> `loader_args = dict(batch_size=4, num_workers=2)` then `DataLoader(ds, **loader_args)`
        >>> spread_keyword(call, "batch_size", ...) -> Value(4, "`loader_args`")
        """
        for arg in call.args:
            if arg.star != "**" or not isinstance(arg.value, cst.Name):
                continue
            found = self._single(arg.value.value, list(scopes))
            if found is None or found[1].kind != "assign" or found[1].value is None:
                return None
            bindings, binding = found
            entry = _dict_entry(binding.value, keyword) if binding.value is not None else None
            if entry is None:
                return None
            resolved = self._resolve(entry, self.index.scopes_of(bindings), 0)
            if resolved is None or resolved.origin:
                return resolved
            return Value(resolved.value, f"`{arg.value.value}`", entry)
        return None

    def assigned_value(self, name: str, scopes: Sequence[cst.CSTNode]) -> cst.BaseExpression | None:
        """The expression `name` is bound to when its scope binds it once, by `name = value`.

        >>> `state = {n: p for n, p in net.named_parameters()}` then `state` -> the dict comprehension
        >>> a parameter, or a name assigned twice -> None
        """
        found = self._single(name, list(scopes))
        if found is None or found[1].kind != "assign":
            return None
        return found[1].value

    @cached_property
    def accumulation(self) -> str | None:
        """The first gradient-accumulation identifier of the file, if any.

        >>> a file using `accumulation_steps` -> "accumulation_steps";  none -> None
        """
        match = _ACCUMULATION.search(self.ctx.source.text)
        return match.group(1) if match else None

    # Resolution -------------------------------------------------------------------------

    def _resolve(
        self, expr: cst.BaseExpression, scopes: list[cst.CSTNode], depth: int
    ) -> Value | None:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.Integer):
            return Value(int(expr.evaluated_value), "")
        if isinstance(expr, cst.Name):
            return self._name(expr.value, scopes, depth)
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr, scopes, depth)
        if isinstance(expr, cst.Subscript):
            return self._subscript(expr, scopes, depth)
        if (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Name)
            and expr.func.value == "int"
            and len(expr.args) == 1
            and not expr.args[0].keyword
            and not expr.args[0].star
        ):
            return self._resolve(expr.args[0].value, scopes, depth + 1)
        if isinstance(expr, cst.BinaryOperation):
            return self._arithmetic(expr, scopes, depth)
        return None

    def _arithmetic(
        self, expr: cst.BinaryOperation, scopes: list[cst.CSTNode], depth: int
    ) -> Value | None:
        left = self._resolve(expr.left, scopes, depth + 1)
        right = self._resolve(expr.right, scopes, depth + 1)
        if left is None or right is None:
            return None
        operator = expr.operator
        if isinstance(operator, cst.Add):
            value = left.value + right.value
        elif isinstance(operator, cst.Subtract):
            value = left.value - right.value
        elif isinstance(operator, cst.Multiply):
            value = left.value * right.value
        elif isinstance(operator, cst.FloorDivide) and right.value:
            value = left.value // right.value
        else:
            return None
        source = left if left.origin else right
        return Value(value, source.origin, source.node)

    def _single(self, name: str, scopes: list[cst.CSTNode]) -> tuple[ScopeBindings, Binding] | None:
        found = self.index.lookup(name, scopes)
        if found is None:
            return None
        bindings, entries = found
        entries = [b for b in entries if b.kind != "declare"]
        if len(entries) != 1:
            return None
        return bindings, entries[0]

    def _name(self, name: str, scopes: list[cst.CSTNode], depth: int) -> Value | None:
        found = self._single(name, scopes)
        if found is None:
            return None
        bindings, binding = found
        if binding.kind == "param":
            return self._cli_parameter(bindings, binding, depth) or self._call_site_parameter(
                bindings, binding, depth
            )
        if binding.kind != "assign" or binding.value is None:
            return None
        resolved = self._resolve(binding.value, self.index.scopes_of(bindings), depth + 1)
        if resolved is None:
            return None
        if resolved.origin:
            return resolved
        return Value(resolved.value, f"`{name}`", binding.value)

    # `args.batch_size`, `cfg.batch_size`, `CFG.batch_size` ------------------------------

    def _attribute(
        self, expr: cst.Attribute, scopes: list[cst.CSTNode], depth: int
    ) -> Value | None:
        base = dotted_name(expr.value)
        attr = expr.attr.value
        if (
            base is None
            or (base, attr) in self.index.attribute_writes
            or base in self.index.mutated
        ):
            return None
        path = _key_path(expr)
        if path is not None:
            from_file = self._config_file_value(path[0], path[1], scopes, attribute_access=True)
            if from_file is not None:
                return from_file
        if not isinstance(expr.value, cst.Name):
            return None
        name = expr.value.value
        found = self._single(name, scopes)
        if found is None:
            return None
        _, binding = found
        if binding.kind == "param":
            return self._parameter_attribute(binding, attr, depth)
        if binding.kind != "assign" or binding.value is None:
            if binding.kind == "other" and isinstance(binding.node, cst.ClassDef):
                return self._class_attribute(binding.node, attr, None, depth)
            return None
        value = binding.value
        if isinstance(value, cst.Subscript):
            # `args = parser.parse_known_args()[0]`
            value = value.value
        if isinstance(value, cst.Call):
            func = value.func
            if isinstance(func, cst.Attribute) and func.attr.value in _PARSE_ARGS:
                return self._argparse(attr, depth)
            if isinstance(func, cst.Name) and func.value in self._argument_parsers:
                return self._argparse(attr, depth)
            if isinstance(func, cst.Name) and func.value in self.index.classes:
                found_value = self._class_attribute(
                    self.index.classes[func.value], attr, value, depth
                )
                if found_value is not None and not found_value.origin:
                    return Value(found_value.value, f"`{name}.{attr}`", found_value.node)
                return found_value
        return None

    @cached_property
    def _argument_parsers(self) -> frozenset[str]:
        """Functions of this file that return `parser.parse_args()` (`def parse_args():`)."""
        names = set()
        for function in self.index.functions:
            for statement in _returns(function):
                value = statement.value
                if isinstance(value, cst.Subscript):
                    value = value.value
                if (
                    isinstance(value, cst.Call)
                    and isinstance(value.func, cst.Attribute)
                    and value.func.attr.value in _PARSE_ARGS
                ):
                    names.add(function.name.value)
        return frozenset(names)

    def _parameter_attribute(self, binding: Binding, attr: str, depth: int) -> Value | None:
        param = binding.node
        if not isinstance(param, cst.Param):
            return None
        annotation = param.annotation.annotation if param.annotation is not None else None
        if isinstance(annotation, cst.Name) and annotation.value in self.index.classes:
            cls = self.index.classes[annotation.value]
            if self._constructed_with(annotation.value, attr):
                return None
            return self._class_attribute(cls, attr, None, depth)
        if annotation is None and any(
            isinstance(c.func, cst.Attribute) and c.func.attr.value in _PARSE_ARGS
            for c in self.index.calls
        ):
            # `def main(args):` in a script that parses its arguments.
            if attr in self.index.written_attributes:
                return None
            return self._argparse(attr, depth)
        return None

    def _constructed_with(self, class_name: str, attr: str) -> bool:
        """Whether some call of the class may set `attr` (a keyword, a positional, `**`)."""
        for call in self.index.calls:
            if isinstance(call.func, cst.Name) and call.func.value == class_name:
                for arg in call.args:
                    if arg.keyword is None or arg.keyword.value == attr:
                        return True
        return False

    @cached_property
    def _argparse_options(self) -> dict[str, list[_Option]]:
        options: dict[str, list[_Option]] = {}
        for call in self.index.calls:
            func = call.func
            if not isinstance(func, cst.Attribute):
                continue
            if func.attr.value == "set_defaults":
                for arg in call.args:
                    if arg.keyword is not None:
                        options.setdefault(arg.keyword.value, []).append(_Option(None, ""))
                    elif arg.star:
                        options.setdefault("**", []).append(_Option(None, ""))
                continue
            if func.attr.value != "add_argument":
                continue
            flags = _string_arguments(call)
            dest = _argparse_dest(call, flags)
            if dest is None:
                continue
            default = argument(call, "default")
            options.setdefault(dest, []).append(
                _Option(
                    default.value if default is not None else None,
                    next((f for f in flags if f.startswith("--")), flags[0] if flags else dest),
                )
            )
        return options

    def _argparse(self, attr: str, depth: int) -> Value | None:
        options = self._argparse_options
        found = options.get(attr)
        if "**" in options or found is None or len(found) != 1 or found[0].default is None:
            return None
        option = found[0]
        assert option.default is not None
        resolved = self._resolve(option.default, [self.ctx.module], depth + 1)
        if resolved is None:
            return None
        return Value(resolved.value, f"the default of `{option.flag}`", option.default)

    def _class_attribute(
        self, cls: cst.ClassDef, attr: str, call: cst.Call | None, depth: int
    ) -> Value | None:
        """A field of a config class: the constructor's keyword, else the class default."""
        is_dataclass = any(
            self.ctx.names.matches(
                d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator, _DATACLASS
            )
            for d in cls.decorators
        )
        if call is not None and call.args:
            if not is_dataclass:
                return None
            if any(a.keyword is None for a in call.args):
                return None
            given = argument(call, attr)
            if given is not None:
                return self._resolve(given.value, [self.ctx.module], depth + 1)
        if (cls.name.value, attr) in self.index.attribute_writes:
            return None
        class_scope = self.index.scopes.get(cls)
        if class_scope is None:
            return None
        entries = [b for b in class_scope.names.get(attr, []) if b.kind != "declare"]
        if len(entries) != 1 or entries[0].kind != "assign" or entries[0].value is None:
            return None
        resolved = self._resolve(entries[0].value, [self.ctx.module], depth + 1)
        if resolved is None:
            return None
        return Value(resolved.value, f"`{cls.name.value}.{attr}`", entries[0].value)

    # `config["batch_size"]`, `cfg["train"]["batch_size"]` ---------------------------------

    def _subscript(
        self, expr: cst.Subscript, scopes: list[cst.CSTNode], depth: int
    ) -> Value | None:
        path = _key_path(expr)
        if path is None:
            return None
        root, keys = path
        from_file = self._config_file_value(root, keys, scopes, attribute_access=False)
        if from_file is not None:
            return from_file
        if root in self.index.mutated:
            return None
        found = self._single(root, scopes)
        if found is None:
            return None
        bindings, binding = found
        if binding.kind != "assign" or binding.value is None:
            return None
        value: cst.BaseExpression | None = binding.value
        for key in keys:
            value = _dict_entry(value, key) if value is not None else None
        if value is None:
            return None
        resolved = self._resolve(value, self.index.scopes_of(bindings), depth + 1)
        if resolved is None:
            return None
        if resolved.origin:
            return resolved
        shown = root + "".join(f'["{k}"]' for k in keys)
        return Value(resolved.value, f"`{shown}`", value)

    # Config files next to the script -----------------------------------------------------

    def _config_file_value(
        self, root: str, keys: list[str], scopes: list[cst.CSTNode], *, attribute_access: bool
    ) -> Value | None:
        if root in self.index.mutated:
            return None
        found = self._single(root, scopes)
        if found is None:
            return None
        bindings, binding = found
        if binding.kind != "assign" or not isinstance(binding.value, cst.Call):
            return None
        loaded = self._loaded_file(binding.value, bindings)
        if loaded is None:
            return None
        kind, path = loaded
        if attribute_access and kind != "omegaconf":
            return None
        data = config_files.load(path, "yaml" if kind == "omegaconf" else kind)
        value: Any = data
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        return Value(value, f"`{'.'.join(keys)}` in {path.name}", binding.value)

    def _loaded_file(self, call: cst.Call, bindings: ScopeBindings) -> tuple[str, Path] | None:
        """(format, path) when `call` loads a config file by a literal path next to the script."""
        qualified = self.ctx.names.qualified_name(call.func)
        if qualified in _PATH_LOADERS and call.args:
            return self._literal_path(call.args[0].value, "omegaconf")
        if qualified not in _FILE_LOADERS or not call.args:
            return None
        kind = _FILE_LOADERS[qualified]
        source = call.args[0].value
        if isinstance(source, cst.Name):
            # `with open("config.yaml") as f: cfg = yaml.safe_load(f)`
            entries = bindings.names.get(source.value, [])
            if len(entries) != 1 or entries[0].kind != "with" or entries[0].value is None:
                return None
            source = entries[0].value
        if (
            isinstance(source, cst.Call)
            and isinstance(source.func, cst.Name)
            and source.func.value == "open"
            and source.args
        ):
            return self._literal_path(source.args[0].value, kind)
        return None

    def _literal_path(self, node: cst.BaseExpression, kind: str) -> tuple[str, Path] | None:
        if not isinstance(node, cst.SimpleString):
            return None
        text = node.evaluated_value
        if (
            not isinstance(text, str)
            or not text
            or Path(text).is_absolute()
            or ".." in Path(text).parts
        ):
            return None
        script = Path(self.ctx.filename)
        if self.ctx.filename in ("-", "") or not script.is_file():
            return None
        return kind, script.parent / text

    # click / typer ------------------------------------------------------------------------

    def _cli_parameter(self, bindings: ScopeBindings, binding: Binding, depth: int) -> Value | None:
        """The default of a click option or typer parameter that fills this function parameter."""
        function = bindings.scope
        param = binding.node
        if not isinstance(function, cst.FunctionDef) or not isinstance(param, cst.Param):
            return None
        name = param.name.value
        for decorator in function.decorators:
            call = decorator.decorator
            if not isinstance(call, cst.Call):
                continue
            qualified = self.ctx.names.qualified_name(call.func) or ""
            if qualified not in ("click.option", "click.argument"):
                continue
            flags = _string_arguments(call)
            if _click_name(flags) != name:
                continue
            given = argument(call, "default")
            if given is None:
                return None
            resolved = self._resolve(given.value, [self.ctx.module], depth + 1)
            flag = next((f for f in flags if f.startswith("--")), name)
            if resolved is None:
                return None
            return Value(resolved.value, f"the default of `{flag}`", given.value)
        default = param.default
        if isinstance(default, cst.Call):
            qualified = self.ctx.names.qualified_name(default.func) or ""
            if qualified in ("typer.Option", "typer.Argument") and default.args:
                first = default.args[0]
                if first.keyword is None and not first.star:
                    resolved = self._resolve(first.value, [self.ctx.module], depth + 1)
                    if resolved is not None:
                        flag = f"--{name.replace('_', '-')}"
                        return Value(resolved.value, f"the default of `{flag}`", first.value)
            return None
        if default is not None and self._is_typer_command(function):
            resolved = self._resolve(default, [self.ctx.module], depth + 1)
            if resolved is not None:
                flag = f"--{name.replace('_', '-')}"
                return Value(resolved.value, f"the default of `{flag}`", default)
        return None

    def _call_site_parameter(
        self, bindings: ScopeBindings, binding: Binding, depth: int
    ) -> Value | None:
        """A parameter of a module-level function that every call in the file fills with the
        same certain value (its default where a call leaves it out).

        >>> `def train_model(model, batch_size: int = 1)` called once as
        >>> `train_model(model, batch_size=args.batch_size)` with `--batch-size` default 1
        >>> -> Value(1, "the default of `--batch-size`")
        """
        function = bindings.scope
        param = binding.node
        if not isinstance(function, cst.FunctionDef) or not isinstance(param, cst.Param):
            return None
        if not any(function is statement for statement in self.ctx.module.body):
            return None
        name = param.name.value
        positional = [
            p.name.value for p in (*function.params.posonly_params, *function.params.params)
        ]
        sites = self._call_sites.get(function.name.value, [])
        if not sites:
            return None
        values: list[Value] = []
        for call, scopes in sites:
            if any(arg.star for arg in call.args):
                return None
            given = argument(call, name, positional.index(name) if name in positional else None)
            if given is not None:
                resolved = self._resolve(given.value, scopes, depth + 1)
            elif param.default is not None:
                default = self._resolve(param.default, [self.ctx.module], depth + 1)
                resolved = (
                    None
                    if default is None
                    else Value(default.value, f"the default of `{name}`", param.default)
                )
            else:
                return None
            if resolved is None:
                return None
            values.append(resolved)
        if len({v.value for v in values}) != 1:
            return None
        return values[0]

    @cached_property
    def _call_sites(self) -> dict[str, list[tuple[cst.Call, list[cst.CSTNode]]]]:
        """Calls of module-level functions by name, with the scopes each is written in."""
        names = {
            statement.name.value
            for statement in self.ctx.module.body
            if isinstance(statement, cst.FunctionDef)
        }
        found: dict[str, list[tuple[cst.Call, list[cst.CSTNode]]]] = {}
        stack: list[cst.CSTNode] = [self.ctx.module]

        def walk_node(node: cst.CSTNode) -> None:
            if (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Name)
                and node.func.value in names
            ):
                found.setdefault(node.func.value, []).append((node, list(stack)))
            scoped = isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda)
            if scoped:
                stack.append(node)
            for child in children(node):
                walk_node(child)
            if scoped:
                stack.pop()

        walk_node(self.ctx.module)
        return found

    def _is_typer_command(self, function: cst.FunctionDef) -> bool:
        for decorator in function.decorators:
            call = decorator.decorator
            if not (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "command"
                and isinstance(call.func.value, cst.Name)
            ):
                continue
            found = self._single(call.func.value.value, [self.ctx.module])
            if (
                found is not None
                and isinstance(found[1].value, cst.Call)
                and self.ctx.names.qualified_name(found[1].value.func) == "typer.Typer"
            ):
                return True
        for call in self.index.calls:
            if self.ctx.names.qualified_name(call.func) == "typer.run" and call.args:
                target = call.args[0].value
                if isinstance(target, cst.Name) and target.value == function.name.value:
                    return True
        return False


def _returns(function: cst.FunctionDef) -> list[cst.Return]:
    """The `return` statements directly in a function's body (not in nested functions)."""
    found: list[cst.Return] = []

    class _Finder(cst.CSTVisitor):
        def visit_Return(self, node: cst.Return) -> None:
            found.append(node)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is function

    visit_tree(function, _Finder())
    return found


def _string_arguments(call: cst.Call) -> list[str]:
    """The positional string literals of a call: `add_argument("-b", "--batch-size")`."""
    values = [
        a.value.evaluated_value
        for a in call.args
        if a.keyword is None and isinstance(a.value, cst.SimpleString)
    ]
    return [v for v in values if isinstance(v, str)]


def _argparse_dest(call: cst.Call, flags: list[str]) -> str | None:
    """argparse's rule: `dest=`, else the first long flag, else the first short flag."""
    dest = argument(call, "dest")
    if dest is not None:
        value = dest.value
        if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
            return value.evaluated_value
        return None
    if not flags:
        return None
    if not flags[0].startswith("-"):
        return flags[0]
    long = [f for f in flags if f.startswith("--")]
    chosen = long[0] if long else flags[0]
    return chosen.lstrip("-").replace("-", "_") or None


def _click_name(flags: list[str]) -> str | None:
    """click's parameter name: an explicit identifier, else the longest-prefixed flag."""
    for flag in flags:
        if not flag.startswith("-") and flag.isidentifier():
            return flag
    long = [f for f in flags if f.startswith("--")]
    chosen = long[0] if long else (flags[0] if flags else None)
    if chosen is None:
        return None
    return chosen.split("/")[0].lstrip("-").replace("-", "_").lower() or None


def _key_path(expr: cst.BaseExpression) -> tuple[str, list[str]] | None:
    """`cfg["train"]["bs"]` or `cfg.train.bs` -> ("cfg", ["train", "bs"])."""
    keys: list[str] = []
    while True:
        if isinstance(expr, cst.Subscript):
            if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
                return None
            key = expr.slice[0].slice.value
            if not isinstance(key, cst.SimpleString) or not isinstance(key.evaluated_value, str):
                return None
            keys.append(key.evaluated_value)
            expr = expr.value
        elif isinstance(expr, cst.Attribute):
            keys.append(expr.attr.value)
            expr = expr.value
        elif isinstance(expr, cst.Name):
            return expr.value, list(reversed(keys))
        else:
            return None


def _dict_entry(node: cst.BaseExpression, key: str) -> cst.BaseExpression | None:
    """The value for `key` in a `{...}` literal or `dict(key=...)` call, if written there."""
    if isinstance(node, cst.Dict):
        found = None
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return None
            k = element.key
            if isinstance(k, cst.SimpleString) and k.evaluated_value == key:
                found = element.value
        return found
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "dict":
        if any(a.keyword is None for a in node.args):
            return None
        given = argument(node, key)
        return given.value if given is not None else None
    return None
