"""Moved to `bnlint.analysis.semantic.scopes`: names kept for callers not yet switched."""

from bnlint.analysis.semantic.scopes import (
    Binding,
    BindingIndex,
    ScopeBindings,
    SemanticModel,
)

__all__ = ["Binding", "BindingIndex", "ScopeBindings", "SemanticModel"]
