"""BN5xx: findings only the runtime probe can make (registered for docs, SARIF and noqa)."""

from __future__ import annotations

from bnlint.diagnostics import Severity
from bnlint.registry import Rule, register


@register
class UntrainedRunningStats(Rule):
    """A model is evaluated with BatchNorm running statistics that were never updated or loaded."""

    code = "BN501"
    name = "untrained-running-stats"
    severity = Severity.WARNING
    runtime_only = True
    message = "`{model}` is evaluated with {count} whose running statistics were never updated"
    hint = "load a checkpoint that includes the BatchNorm buffers, or train before evaluating"


@register
class NonfiniteRunningStats(Rule):
    """BatchNorm running mean or variance holds NaN or inf."""

    code = "BN502"
    name = "nonfinite-running-stats"
    severity = Severity.ERROR
    runtime_only = True
    message = "`{model}` holds non-finite running statistics in {count}"
    hint = "find the step that diverged and reload finite statistics"


@register
class BatchDependentEval(Rule):
    """The eval-mode output for a sample changes with the other samples of its batch."""

    code = "BN503"
    name = "batch-dependent-eval"
    severity = Severity.ERROR
    runtime_only = True
    message = "the eval-mode output of `{model}` for a sample changes with its batch-mates: {cause}"
    hint = "{advice}"
