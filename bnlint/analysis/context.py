"""FileContext: one file's tree, settings and the lazily built analyses rules ask about."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import libcst as cst

from bnlint.analysis.names import NameResolver
from bnlint.analysis.walk import Preorder, exact_kinds
from bnlint.source import SourceText

if TYPE_CHECKING:
    from bnlint.analysis.batch_size import BatchSizes
    from bnlint.analysis.freezes import Freezes
    from bnlint.analysis.intent import Intent
    from bnlint.analysis.loaders import TrainingSetup
    from bnlint.analysis.models import ModelIndex
    from bnlint.analysis.modes import ModeFlow
    from bnlint.analysis.project import ProjectIndex
    from bnlint.analysis.semantic.scopes import ScopeBindings, SemanticModel
    from bnlint.analysis.values import Values
    from bnlint.config import FileSettings


Node = TypeVar("Node", bound=cst.CSTNode)
_SCOPES = exact_kinds(cst.Module, cst.FunctionDef, cst.ClassDef, cst.Lambda)
# Node kind -> whether it has no subclasses (so `type(node) is kind` tests it).
_EXACT: dict[type, bool] = {}


class FileContext:
    """Everything rules know about one file.

    Analyses are cached properties, built on first use, so a file whose rules never
    ask about modes never pays for the mode dataflow.
    """

    def __init__(
        self,
        filename: str,
        source: SourceText,
        module: cst.Module,
        settings: FileSettings,
        project: Any = None,
    ) -> None:
        self.filename = filename
        self.source = source
        self.module = module
        self.settings = settings
        # Cross-file facts (class index, function summaries), when the run built them.
        self.project = project
        self._scope_models: dict[int, ScopeBindings] = {}
        # The chain of nodes from the module down to the node being visited.
        self.ancestors: list[cst.CSTNode] = []

    @cached_property
    def names(self) -> NameResolver:
        resolver = NameResolver()
        for statement in self.module.body:
            for node in _top_level_imports(statement):
                resolver.add_import(node)
        return resolver

    @cached_property
    def semantic(self) -> SemanticModel:
        """Scopes and bindings of the whole file, built by one walk on first use."""
        from bnlint.analysis.semantic.scopes import SemanticModel

        return SemanticModel(self.module, tree=self.tree)

    def scope_facts(self, scope: cst.Module | cst.FunctionDef) -> ScopeBindings:
        """The bindings and facts of one scope: from the whole-file model when something
        already built it, else from a walk of that scope alone (the same model, bounded)."""
        from bnlint.analysis.semantic.scopes import SemanticModel

        if "semantic" in self.__dict__:
            return self.semantic.scope(scope)
        found = self._scope_models.get(id(scope))
        if found is None:
            found = self._scope_models[id(scope)] = SemanticModel(
                self.module, scope, self.tree
            ).scope(scope)
        return found

    @cached_property
    def values(self) -> Values:
        """What object a name, attribute or container element holds (value flow)."""
        from bnlint.analysis.values import Values

        return Values(self)

    @cached_property
    def freezes(self) -> Freezes:
        """Frozen parameters and the ways the file keeps BatchNorm frozen (BN104)."""
        from bnlint.analysis.freezes import freezes

        return freezes(self.module)

    @cached_property
    def batch_sizes(self) -> BatchSizes:
        from bnlint.analysis.batch_size import BatchSizes

        return BatchSizes(self)

    @cached_property
    def training(self) -> TrainingSetup:
        from bnlint.analysis.loaders import TrainingSetup

        return TrainingSetup(self, self.batch_sizes)

    @cached_property
    def project_index(self) -> ProjectIndex:
        """The run's project index, or this file's own when the run built none."""
        from bnlint.analysis.project import ProjectIndex, index_source

        if isinstance(self.project, ProjectIndex) and self.filename in self.project.filenames:
            return self.project
        own = index_source(self.source.text, self.filename)
        if isinstance(self.project, ProjectIndex):
            own.merge(self.project)
        return own

    @cached_property
    def models(self) -> ModelIndex:
        """Which expressions are models and whether they hold BatchNorm/Dropout."""
        from bnlint.analysis.models import ModelIndex

        return ModelIndex(self)

    @cached_property
    def intent(self) -> Intent:
        """Whether code evaluates, trains, exports, or is run by a framework."""
        from bnlint.analysis.intent import Intent

        return Intent(self)

    @cached_property
    def modes(self) -> ModeFlow:
        """The train/eval mode of each model along control flow."""
        from bnlint.analysis.modes import ModeFlow

        return ModeFlow(self)

    @cached_property
    def tree(self) -> Preorder:
        """The module flattened once, in source order: the rules' walk, the semantic model
        and every parent question read it."""
        return Preorder(self.module)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The parent of any node of the module (None for the module)."""
        for index in range(len(self.ancestors) - 1, 0, -1):
            if self.ancestors[index] is node:
                return self.ancestors[index - 1]
        return self.tree.parent(node)

    def chain(self, at: cst.CSTNode) -> list[cst.CSTNode]:
        """`at` and its ancestors up to the module, innermost first, for any node."""
        ancestors = self.ancestors
        for index in range(len(ancestors) - 1, -1, -1):
            if ancestors[index] is at:
                return ancestors[index::-1]
        return self.tree.chain(at) or ancestors[::-1]

    def enclosing(self, at: cst.CSTNode, kind: type[Node]) -> Node | None:
        """The innermost node of `kind` around `at` (a `FunctionDef`, `ClassDef`, loop...)."""
        exact = _EXACT.get(kind)
        if exact is None:
            exact = _EXACT[kind] = not kind.__subclasses__()
        if exact:
            # The common case, a concrete kind: a type test instead of an isinstance() miss
            # per ancestor (an ABC check on libcst's types).
            for node in self.chain(at):
                if type(node) is kind and node is not at:
                    return node
            return None
        for node in self.chain(at):
            if isinstance(node, kind) and node is not at:
                return node
        return None

    def scopes(self, at: cst.CSTNode) -> list[cst.CSTNode]:
        """The scopes around `at` (the module, functions, classes, lambdas), outermost first:
        what the semantic model's questions take to resolve a name read at `at`."""
        return [
            node for node in reversed(self.chain(at)) if type(node) in _SCOPES and node is not at
        ]

    def code_for(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)


def _top_level_imports(statement: cst.CSTNode) -> list[cst.Import | cst.ImportFrom]:
    """Imports at module level, including inside `try:` and `if` blocks."""
    found: list[cst.Import | cst.ImportFrom] = []
    if isinstance(statement, cst.SimpleStatementLine):
        found.extend(s for s in statement.body if isinstance(s, cst.Import | cst.ImportFrom))
    elif isinstance(statement, cst.Try | cst.If):
        blocks: list[cst.BaseSuite] = [statement.body]
        if isinstance(statement, cst.Try):
            blocks.extend(handler.body for handler in statement.handlers)
        elif statement.orelse is not None:
            blocks.append(statement.orelse.body)
        for block in blocks:
            if isinstance(block, cst.IndentedBlock):
                for inner in block.body:
                    found.extend(_top_level_imports(inner))
    return found
