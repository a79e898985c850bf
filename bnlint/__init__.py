"""bnlint: find normalization misuse in PyTorch code.

Public API: `check_source`, `check_paths`, `Finding`. The runtime probe lives in
`bnlint.probe` and imports torch only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bnlint._version import __version__

if TYPE_CHECKING:
    from bnlint.api import check_paths, check_source
    from bnlint.diagnostics import Finding

__all__ = ["Finding", "__version__", "check_paths", "check_source"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import bnlint` stays cheap for the CLI's start-up.
    if name in ("check_source", "check_paths"):
        from bnlint import api

        return getattr(api, name)
    if name == "Finding":
        from bnlint.diagnostics import Finding

        return Finding
    raise AttributeError(name)
