"""Linting one decoded text: parse, one shared walk for every rule, findings with positions.

Kept apart from `engine.files` so that a run whose files are all cached never imports libcst.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, cast

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from bnlint.analysis.ast_nodes import depth as ast_depth
from bnlint.analysis.context import FileContext
from bnlint.analysis.walk import Preorder
from bnlint.config import FileSettings
from bnlint.diagnostics import Finding, Position
from bnlint.engine.findings import to_finding
from bnlint.engine.syntax import SYNTAX_ERROR, syntax_finding
from bnlint.registry import Rule, all_rules
from bnlint.source import SourceText

if TYPE_CHECKING:
    from bnlint.analysis.project import ProjectIndex


Handler = Callable[[cst.CSTNode], object]


class _Dispatcher:
    """One walk of the tree that calls every rule's visit_/leave_ methods."""

    def __init__(self, ctx: FileContext, rules: Sequence[Rule]) -> None:
        self._ctx = ctx
        self._ancestors = ctx.ancestors
        self._visit: dict[str, list[Handler]] = {}
        self._leave: dict[str, list[Handler]] = {}
        for rule in rules:
            for attribute in dir(rule):
                if attribute.startswith("visit_"):
                    self._visit.setdefault(attribute[6:], []).append(getattr(rule, attribute))
                elif attribute.startswith("leave_"):
                    self._leave.setdefault(attribute[6:], []).append(getattr(rule, attribute))
        # Imports feed name resolution before any rule sees a later use of the name.
        for kind in ("Import", "ImportFrom"):
            self._visit.setdefault(kind, []).insert(0, self._import)
        # Node type -> (its visit handlers, its leave handlers).
        self._by_type: dict[type, tuple[list[Handler], list[Handler]]] = {}

    def _import(self, node: cst.CSTNode) -> None:
        self._ctx.names.add_import(cast(cst.Import | cst.ImportFrom, node))

    def _handlers(self, kind: type) -> tuple[list[Handler], list[Handler]]:
        found = self._visit.get(kind.__name__, []), self._leave.get(kind.__name__, [])
        self._by_type[kind] = found
        return found

    def run(self, tree: Preorder) -> None:
        """One walk in source order: every rule's `visit_<Kind>` on the way down and
        `leave_<Kind>` on the way up, with `ctx.ancestors` holding the path meanwhile.

        What `walk.visit` does for any visitor, inlined: this walk sees every node of
        every linted file. It steps along the file's flattened tree (shared with the
        semantic model and the parent index), leaving each ancestor whose subtree ends.
        """
        ancestors = self._ancestors
        by_type = self._by_type
        ends = tree.ends
        # The subtree ends of `ancestors`, innermost last.
        open_ends: list[int] = []
        for index, node in enumerate(tree.nodes):
            while open_ends and open_ends[-1] <= index:
                open_ends.pop()
                left = ancestors.pop()
                for handler in by_type[type(left)][1]:
                    handler(left)
            handlers = by_type.get(type(node)) or self._handlers(type(node))
            ancestors.append(node)
            open_ends.append(ends[index])
            for handler in handlers[0]:
                handler(node)
        while ancestors:
            left = ancestors.pop()
            for handler in by_type[type(left)][1]:
                handler(left)


# Real code nests a few dozen ast nodes deep; up to this depth libcst's recursive walk and
# the rules' own recursion stay inside Python's default recursion limit (RecursionError is
# still caught: deeper cases skip the file with a notice rather than fail the run).
_MAX_DEPTH = 100
# Bracket-plus-indentation depth up to which a file CPython rejected may still go to libcst;
# hand-written code stays near 10, and every level is several ast levels.
_MAX_TOKEN_NESTING = 30
_TOO_DEEP = "nested too deeply for bnlint to analyse; skipped"


def _token_nesting(text: str) -> int | None:
    """The deepest bracket-plus-indentation nesting of `text`; None when it does not tokenize."""
    deepest = brackets = indents = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.INDENT:
                indents += 1
            elif token.type == tokenize.DEDENT:
                indents -= 1
            elif token.type == tokenize.OP and token.string in "([{":
                brackets += 1
            elif token.type == tokenize.OP and token.string in ")]}":
                brackets -= 1
            deepest = max(deepest, brackets + indents)
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return deepest


def _parse_newer_grammar(text: str) -> cst.Module | None:
    """libcst's tree of a file this interpreter's parser rejects, when the file is valid in a
    newer Python (PEP 695 type parameters read on 3.11, say) rather than a syntax error.

    Only shallow files reach libcst here: CPython's depth guard did not run, and libcst's
    parser overflows the C stack on deep nesting.
    """
    nesting = _token_nesting(text)
    if nesting is None or nesting > _MAX_TOKEN_NESTING:
        return None
    try:
        return cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError):
        return None


class _Triggers:
    """Whether a file holds any enabled rule's trigger: its plain tokens are looked for with
    `bytes.find` (memchr-fast) before the rules' regex patterns, which scan every position."""

    def __init__(self, tokens: Iterable[bytes], patterns: Iterable[bytes]) -> None:
        self.tokens = tuple(sorted(set(tokens)))
        alternatives = sorted({b"(?:" + pattern + b")" for pattern in patterns})
        self.pattern = re.compile(b"|".join(alternatives), re.MULTILINE) if alternatives else None

    def search(self, data: bytes) -> bool:
        if any(token in data for token in self.tokens):
            return True
        return self.pattern is not None and self.pattern.search(data) is not None


def _triggers(rules: Iterable[type[Rule]]) -> _Triggers | None:
    """The enabled rules' triggers; None when some rule needs every file."""
    tokens: list[bytes] = []
    patterns: list[bytes] = []
    for rule in rules:
        if rule.code == SYNTAX_ERROR or rule.runtime_only:
            continue
        if rule.trigger_pattern is not None:
            patterns.append(rule.trigger_pattern)
        elif rule.triggers:
            tokens.extend(rule.triggers)
        else:
            return None
    return _Triggers(tokens, patterns)


class Linter:
    """Lints one decoded text with a fixed set of rules."""

    def __init__(
        self, filename: str, settings: FileSettings, project: ProjectIndex | None = None
    ) -> None:
        self.filename = filename
        self.settings = settings
        self.project = project
        registry = all_rules()
        self.rules = [registry[code] for code in sorted(settings.enabled) if code in registry]
        self.trigger = _triggers(self.rules)

    def wants(self, data: bytes) -> bool:
        return self.trigger is None or self.trigger.search(data)

    def lint(
        self, source: SourceText, known_depth: int | None = None
    ) -> tuple[list[Finding], str | None]:
        """Findings for `source` (before suppression) and a notice, if any."""
        # CPython's parser goes first: libcst's native parser overflows the C stack on
        # nesting CPython refuses (a segfault, not an exception) and is quadratic on
        # long operator chains, so what CPython rejects or finds absurdly deep never
        # reaches it.
        if "\0" in source.text:
            # CPython refuses null bytes (ValueError or SyntaxError, by version, without a
            # position): say what `python file.py` says, at the first one.
            return self._null_byte(source), None
        try:
            # A depth the project index measured on these very bytes spares a second parse.
            depth = known_depth if known_depth is not None else ast_depth(ast.parse(source.text))
        except SyntaxError as error:
            newer = _parse_newer_grammar(source.text)
            if newer is None:
                return self._cpython_syntax_error(source, error), None
            module = newer
        except (RecursionError, MemoryError):
            return [], _TOO_DEEP
        except ValueError:
            return self._null_byte(source), None
        else:
            if depth > _MAX_DEPTH:
                return [], _TOO_DEEP
            try:
                module = cst.parse_module(source.text)
            except cst.ParserSyntaxError as error:
                return self._syntax_error(source, error)
            except RecursionError:
                return [], _TOO_DEEP
        ctx = FileContext(self.filename, source, module, self.settings, self.project)
        rules = [rule(ctx) for rule in self.rules if rule.code != SYNTAX_ERROR]
        try:
            _Dispatcher(ctx, rules).run(ctx.tree)
            reports = [report for rule in rules for report in rule.reports]
            if not reports:
                return [], None
            positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
            findings = [
                to_finding(report, self.filename, positions, module, source) for report in reports
            ]
            # An `unfixable` code is reported without its fix: never applied, never `[*]`.
            return [
                f if f.fix is None or f.code in self.settings.fixable else replace(f, fix=None)
                for f in findings
            ], None
        except RecursionError:
            # Deep enough for a rule's or libcst's recursion: half a walk's findings
            # would be arbitrary, so none.
            return [], _TOO_DEEP

    def _syntax_error(
        self, source: SourceText, error: cst.ParserSyntaxError
    ) -> tuple[list[Finding], str | None]:
        try:
            ast.parse(source.text)
        except SyntaxError as python_error:
            return self._cpython_syntax_error(source, python_error), None
        except (ValueError, RecursionError, MemoryError):
            pass
        else:
            # Valid Python that this libcst cannot read: not the user's syntax error.
            return [], f"libcst cannot parse this file ({error.message}); skipped"
        if SYNTAX_ERROR not in self.settings.enabled:
            return [], None
        position = Position(max(error.raw_line, 1), error.raw_column + 1)
        return [syntax_finding(self.filename, error.message, position)], None

    def _null_byte(self, source: SourceText) -> list[Finding]:
        if SYNTAX_ERROR not in self.settings.enabled:
            return []
        position = source.position(max(source.text.find("\0"), 0))
        return [syntax_finding(self.filename, "source code cannot contain null bytes", position)]

    def _cpython_syntax_error(self, source: SourceText, error: SyntaxError) -> list[Finding]:
        """BN001 at CPython's message and position: the ones `python file.py` shows."""
        if SYNTAX_ERROR not in self.settings.enabled:
            return []
        # CPython's offset counts characters from 1, as ours do.
        row = min(max(error.lineno or 1, 1), max(source.line_count, 1))
        width = len(source.line(row)) + 1
        column = min(max(error.offset or 1, 1), width)
        return [syntax_finding(self.filename, error.msg, Position(row, column))]
