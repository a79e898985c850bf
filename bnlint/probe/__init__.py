"""The runtime probe: run real models and confirm findings (needs torch, imported lazily).

findings = bnlint.probe.check_model(model, torch.randn(8, 3, 224, 224))
with bnlint.probe.expect_eval(model):
    predict(model, images)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bnlint.probe.expect import TrainingModeError, expect_eval
    from bnlint.probe.model import check_model

__all__ = ["TrainingModeError", "check_model", "expect_eval"]


def __getattr__(name: str) -> Any:
    # torch is imported only when the probe is used, never by `import bnlint`.
    if name == "check_model":
        from bnlint.probe.model import check_model

        return check_model
    if name in ("expect_eval", "TrainingModeError"):
        from bnlint.probe import expect

        return getattr(expect, name)
    raise AttributeError(name)
