"""The Rule base class, the registry of rules, and selection by code or prefix."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import libcst as cst

from bnlint.catalog import RuleInfo, UnknownSelector, expand_selector, resolve_selection
from bnlint.diagnostics import Applicability, FixAvailability, Severity

__all__ = [
    "InsertBefore",
    "NodeFix",
    "Replace",
    "Report",
    "Rule",
    "UnknownSelector",
    "all_rules",
    "expand_selector",
    "register",
    "resolve_selection",
    "rule_by_name_or_code",
]

if TYPE_CHECKING:
    from bnlint.analysis.context import FileContext

CODE_PATTERN = re.compile(r"^BN\d{3}$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Replace:
    """Replace a node's source with `code`."""

    node: cst.CSTNode
    code: str


@dataclass(frozen=True)
class InsertBefore:
    """Insert `code` as a statement of its own right before the statement `node`."""

    node: cst.CSTNode
    code: str


Change = Replace | InsertBefore


@dataclass(frozen=True)
class NodeFix:
    """A fix described on the tree; the runner turns it into text edits."""

    applicability: Applicability
    message: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Report:
    """What a rule reported, before positions are resolved and suppressions applied."""

    rule: type[Rule]
    node: cst.CSTNode
    message: str
    hint: str
    severity: Severity
    fix: NodeFix | None
    # The steps that explain the finding, in order: (node of this file's tree, message).
    related: tuple[tuple[cst.CSTNode, str], ...] = ()


def template_fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


class Rule:
    """Base class: declarative metadata, visitor methods, questions to the context.

    Subclasses define `visit_<Node>` / `leave_<Node>` methods; the runner calls them
    all from one shared walk of the tree.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    message: ClassVar[str]
    hint: ClassVar[str] = ""
    fixable: ClassVar[FixAvailability] = FixAvailability.NEVER
    # Off-by-default rules run only when selected by their full code.
    default_enabled: ClassVar[bool] = True
    # Byte strings one of which must occur in a file for the rule to have anything to say;
    # a rule with no triggers sees every file.
    triggers: ClassVar[tuple[bytes, ...]] = ()
    # Or, where a token is too common, a bytes regex that must match instead.
    trigger_pattern: ClassVar[bytes | None] = None
    # "safe", "unsafe" or "safe or unsafe": what the rule's fixes are marked as.
    fix_safety: ClassVar[str] = ""
    # Reported only by the runtime probe (BN5xx), never by the static linter.
    runtime_only: ClassVar[bool] = False
    # Reads the project index (other files' classes and call sites).
    needs_project: ClassVar[bool] = False
    added_in: ClassVar[str] = "0.1.0"
    # Per-rule options: name -> default value (the type of the default is the option's type).
    options: ClassVar[dict[str, Any]] = {}

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        # What this rule found in the file, in order; the engine collects them after the walk.
        self.reports: list[Report] = []

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""

    def option(self, name: str) -> Any:
        return self.ctx.settings.rule_option(self.code, name, self.options[name])

    def report(
        self,
        node: cst.CSTNode,
        *,
        fix: NodeFix | None = None,
        severity: Severity | None = None,
        related: Iterable[tuple[cst.CSTNode, str]] = (),
        **fields: str,
    ) -> None:
        """Record a finding anchored at `node`; `fields` fill the message and hint templates.

        `related` explains the finding step by step, as (node, message) pairs in order:
        `[(train_call, "`model.train()` sets training mode"), (loop, "the epoch loop")]`.
        """
        wanted = template_fields(self.message) | template_fields(self.hint)
        missing = wanted - fields.keys()
        unknown = fields.keys() - wanted
        if missing or unknown:
            raise ValueError(
                f"{self.code}: template fields missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        if fix is not None and self.fixable is FixAvailability.NEVER:
            raise ValueError(f"{self.code} is declared unfixable but returned a fix")
        self.reports.append(
            Report(
                rule=type(self),
                node=node,
                message=self.message.format(**fields),
                hint=self.hint.format(**fields),
                severity=severity or self.severity,
                fix=fix,
                related=tuple(related),
            )
        )


def catalog_info(rule: type[Rule]) -> RuleInfo:
    """What the libcst-free catalog says about `rule`: its entry, from the class itself."""
    return RuleInfo(
        rule.code,
        rule.name,
        rule.severity,
        rule.summary(),
        default_enabled=rule.default_enabled,
        runtime_only=rule.runtime_only,
        needs_project=rule.needs_project,
        options=dict(rule.options),
    )


_REGISTRY: dict[str, type[Rule]] = {}


def register(rule: type[Rule]) -> type[Rule]:
    """Class decorator: add a rule, refusing malformed or duplicate codes and names."""
    if not CODE_PATTERN.match(rule.code):
        raise ValueError(f"malformed rule code {rule.code!r}")
    if not NAME_PATTERN.match(rule.name):
        raise ValueError(f"rule name {rule.name!r} is not kebab-case")
    if rule.code in _REGISTRY:
        raise ValueError(f"duplicate rule code {rule.code}")
    if any(other.name == rule.name for other in _REGISTRY.values()):
        raise ValueError(f"duplicate rule name {rule.name}")
    _REGISTRY[rule.code] = rule
    return rule


def all_rules() -> dict[str, type[Rule]]:
    """Every registered rule by code, in code order (imports the rule families once)."""
    import bnlint.checks  # noqa: F401  (registers the families)

    return dict(sorted(_REGISTRY.items()))


def rule_by_name_or_code(key: str) -> type[Rule] | None:
    rules = all_rules()
    upper = key.upper()
    if upper in rules:
        return rules[upper]
    return next((rule for rule in rules.values() if rule.name == key), None)
