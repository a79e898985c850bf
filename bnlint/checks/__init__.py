"""Rule families; importing this package registers every rule."""

from bnlint.checks import mode, numerics, syntax

__all__ = ["mode", "numerics", "syntax"]
