"""What each rule is, without the rules' code.

Selection, configuration and reports need every rule's code, name, severity and summary; the
rules themselves need libcst, whose import alone takes longer than a whole warm (cached) run.
This table lets a run whose files are all cached skip libcst. `test_registry.py` checks it
against the rule classes, field by field, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bnlint.diagnostics import Severity


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    severity: Severity
    summary: str
    # Off-by-default rules run only when selected by their full code.
    default_enabled: bool = True
    # Reported only by the runtime probe (BN5xx), never by the static linter.
    runtime_only: bool = False
    # Reads the project index (other files' classes and call sites): the engine builds the
    # index only when an enabled rule needs it.
    needs_project: bool = False
    # Per-rule options: name -> default value (the type of the default is the option's type).
    options: Mapping[str, Any] = field(default_factory=dict)


RULES: dict[str, RuleInfo] = {
    info.code: info
    for info in (
        RuleInfo(
            "BN001",
            "syntax-error",
            Severity.ERROR,
            "A file that cannot be decoded or parsed; bnlint cannot check it.",
        ),
        RuleInfo(
            "BN002",
            "unused-noqa",
            Severity.WARNING,
            "A `# noqa` comment naming a bnlint rule that reports nothing there.",
            default_enabled=False,
        ),
        RuleInfo(
            "BN101",
            "missing-eval",
            Severity.ERROR,
            "A model that may be in training mode is run for evaluation or inference.",
            needs_project=True,
        ),
        RuleInfo(
            "BN102",
            "train-not-restored",
            Severity.ERROR,
            "A training step is reachable while the model is in eval mode.",
            needs_project=True,
        ),
        RuleInfo(
            "BN103",
            "export-in-train-mode",
            Severity.ERROR,
            "An export, trace or fusion of a model that may be in training mode.",
            needs_project=True,
        ),
        RuleInfo(
            "BN104",
            "frozen-bn-still-updating",
            Severity.WARNING,
            "Frozen parameters of a part with BatchNorm whose running statistics `train()` updates.",
            needs_project=True,
        ),
        RuleInfo(
            "BN105",
            "mode-method-not-called",
            Severity.ERROR,
            "`model.eval` or `model.train` written as a statement without the call.",
        ),
        RuleInfo(
            "BN201",
            "norm-after-output",
            Severity.ERROR,
            "A BatchNorm applied to a model's output after its final linear layer.",
            needs_project=True,
        ),
        RuleInfo(
            "BN202",
            "bias-before-norm",
            Severity.WARNING,
            "A convolution or linear layer with a bias whose output feeds only a normalization.",
            needs_project=True,
        ),
        RuleInfo(
            "BN203",
            "dropout-before-norm",
            Severity.WARNING,
            "A Dropout whose output goes straight into a BatchNorm.",
        ),
        RuleInfo(
            "BN204",
            "norm-features-mismatch",
            Severity.ERROR,
            "A BatchNorm whose num_features or dimensionality disagrees with the layer before it.",
        ),
        RuleInfo(
            "BN205",
            "batchnorm-in-sequence-model",
            Severity.INFO,
            "A BatchNorm inside a transformer or recurrent block.",
        ),
        RuleInfo(
            "BN301",
            "tiny-batch",
            Severity.WARNING,
            "A training batch size below `min-batch-size` for a model with BatchNorm.",
        ),
        RuleInfo(
            "BN302",
            "last-batch-of-one",
            Severity.INFO,
            "A training loader of a BatchNorm model without `drop_last=True`.",
            default_enabled=False,
        ),
        RuleInfo(
            "BN303",
            "no-syncbn-small-batch",
            Severity.WARNING,
            "DistributedDataParallel over a BatchNorm model with a small per-device batch, no SyncBatchNorm.",
            options={"per-device-batch-size": 16},
        ),
        RuleInfo(
            "BN401",
            "keras-momentum",
            Severity.ERROR,
            "A BatchNorm momentum above 0.5: a Keras value in PyTorch's opposite convention.",
        ),
        RuleInfo(
            "BN402",
            "half-precision-norm",
            Severity.WARNING,
            "A model with BatchNorm cast to float16/bfloat16 and then trained.",
        ),
        RuleInfo(
            "BN403",
            "running-stats-dropped",
            Severity.WARNING,
            "A checkpoint of parameters only, or a `strict=False` load whose skipped keys are ignored.",
        ),
        RuleInfo(
            "BN404",
            "momentum-as-eps",
            Severity.ERROR,
            "A BatchNorm eps that is not a small number: often a momentum passed by position.",
        ),
        RuleInfo(
            "BN501",
            "untrained-running-stats",
            Severity.WARNING,
            "A model is evaluated with BatchNorm running statistics that were never updated or loaded.",
            runtime_only=True,
        ),
        RuleInfo(
            "BN502",
            "nonfinite-running-stats",
            Severity.ERROR,
            "BatchNorm running mean or variance holds NaN or inf.",
            runtime_only=True,
        ),
        RuleInfo(
            "BN503",
            "batch-dependent-eval",
            Severity.ERROR,
            "The eval-mode output for a sample changes with the other samples of its batch.",
            runtime_only=True,
        ),
    )
}


# ruff's selector for every rule, off-by-default ones included.
ALL = "ALL"


class UnknownSelector(ValueError):
    pass


def expand_selector(selector: str) -> list[str]:
    """Codes matched by a code or a prefix (`BN1`, `BN`, `BN105`); unknown ones raise."""
    selector = selector.strip().upper()
    if selector == ALL:
        return list(RULES)
    codes = [code for code in RULES if code.startswith(selector)]
    if not selector or not codes:
        raise UnknownSelector(selector or "''")
    return codes


def resolve_selection(
    select: list[str] | None,
    extend_select: list[str],
    ignore: list[str],
) -> frozenset[str]:
    """The set of enabled codes, ruff-style: select (or defaults) + extend-select - ignore.

    An off-by-default rule is enabled only when a selector names its full code.
    """
    enabled: set[str] = set()
    if select is None:
        enabled = {code for code, info in RULES.items() if info.default_enabled}
    for selector in [*(select or []), *extend_select]:
        for code in expand_selector(selector):
            if RULES[code].default_enabled or selector.strip().upper() in (code, ALL):
                enabled.add(code)
    for selector in ignore:
        enabled.difference_update(expand_selector(selector))
    return frozenset(enabled)
