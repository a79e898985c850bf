"""Rule families; importing this package registers every rule."""

from bnlint.checks import architecture, batch, mode, noqa, numerics, runtime, syntax

__all__ = ["architecture", "batch", "mode", "noqa", "numerics", "runtime", "syntax"]
