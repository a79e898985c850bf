"""Runtime findings: the probe's own message templates, pinned, deduplicated, counted."""

from __future__ import annotations

import linecache
import threading
from dataclasses import dataclass, field, replace

from bnlint.diagnostics import Finding, Position, RelatedLocation, Severity, Span
from bnlint.probe.frames import Location

# Names and default severities as DOMAIN.md catalogues them; the registry wins when it knows
# the code (it does for every code once its static rule exists).
_CATALOGUE: dict[str, tuple[str, Severity]] = {
    "BN101": ("missing-eval", Severity.ERROR),
    "BN102": ("train-not-restored", Severity.ERROR),
    "BN103": ("export-in-train-mode", Severity.ERROR),
    "BN104": ("frozen-bn-still-updating", Severity.WARNING),
    "BN201": ("norm-after-output", Severity.ERROR),
    "BN202": ("bias-before-norm", Severity.WARNING),
    "BN203": ("dropout-before-norm", Severity.WARNING),
    "BN204": ("norm-features-mismatch", Severity.ERROR),
    "BN205": ("batchnorm-in-sequence-model", Severity.INFO),
    "BN301": ("tiny-batch", Severity.WARNING),
    "BN402": ("half-precision-norm", Severity.WARNING),
    "BN501": ("untrained-running-stats", Severity.WARNING),
    "BN502": ("nonfinite-running-stats", Severity.ERROR),
    "BN503": ("batch-dependent-eval", Severity.ERROR),
}

# What the probe observed, worded for a run (the static rules word what the code may do).
MESSAGES: dict[str, tuple[str, str]] = {
    "BN101": (
        "`{model}` ran forward in training mode {when}, so {effect}",
        "call `{model}.eval()` before running it for inference",
    ),
    "BN102": (
        "the optimizer stepped `{model}` after its last forward ran in eval mode, so it trains "
        "with frozen BatchNorm statistics and no dropout",
        "call `{model}.train()` before the training step",
    ),
    "BN103": (
        "`{model}` was exported by `{export}` in training mode, so the exported graph {effect}",
        "call `{model}.eval()` before `{export}`",
    ),
    "BN104": (
        "`{model}` trained with {count} whose parameters are frozen (`{layer}`), yet training "
        "mode kept updating their running statistics",
        "put the frozen part in eval mode after each `train()` call (override `train()` to "
        "call `.eval()` on it), or freeze the statistics as well",
    ),
    "BN201": (
        "`{layer}` normalizes the output of `{model}` after its final layer, so each prediction "
        "depends on the rest of the batch",
        "remove `{layer}` or move it before the final layer",
    ),
    "BN202": (
        "`{layer}` has a bias but its output feeds only `{norm}`, which subtracts the mean and "
        "cancels it",
        "construct `{layer}` with `bias=False`",
    ),
    "BN203": (
        "`{layer}` feeds `{norm}` directly, so BatchNorm sees a different variance in training "
        "than in eval",
        "move the dropout after `{norm}` and its activation",
    ),
    "BN204": (
        "`{norm}` expects {expected} but `{layer}` gives it {actual}, and the forward pass fails",
        "make `{norm}` match `{layer}`: {suggestion}",
    ),
    "BN205": (
        "`{layer}` is BatchNorm inside sequence model `{block}`, so statistics mix positions of "
        "different sequences",
        "use LayerNorm (or RMSNorm) in `{block}`",
    ),
    "BN301": (
        "`{model}` ran BatchNorm in training mode on batches of {size}, below min-batch-size "
        "{minimum}, so its statistics are unreliable",
        "{advice}",
    ),
    "BN402": (
        "`{model}` trains with BatchNorm in {dtype}, where running variances lose precision",
        "keep the model in float32 and use `torch.autocast` for mixed precision",
    ),
    "BN501": (
        "`{model}` is evaluated with {count} whose running statistics were never updated "
        "(`{layer}`: num_batches_tracked == 0, mean 0, variance 1)",
        "load a checkpoint that includes the BatchNorm buffers, or train before evaluating",
    ),
    "BN502": (
        "`{model}` holds non-finite running statistics in {count} (`{layer}`), so eval-mode "
        "outputs are NaN or inf",
        "find the step that diverged (lower the learning rate, check the data) and reload "
        "finite statistics",
    ),
    "BN503": (
        "the eval-mode output of `{model}` for a sample changes with its batch-mates: {cause}",
        "{advice}",
    ),
}


def rule_meta(code: str) -> tuple[str, Severity]:
    from bnlint.registry import all_rules

    rule = all_rules().get(code)
    if rule is not None:
        return rule.name, rule.severity
    return _CATALOGUE[code]


def line_span(location: Location) -> Span:
    """The code on `location`'s line, without its indentation (the whole statement)."""
    text = linecache.getline(location.filename, location.line).rstrip("\r\n")
    start = Position(location.line, len(text) - len(text.lstrip()) + 1)
    end = Position(location.line, len(text) + 1) if text.strip() else start
    return Span(start, end)


def make_finding(
    code: str,
    location: Location | None,
    *,
    severity: Severity | None = None,
    also: tuple[tuple[Location, str], ...] = (),
    **fields: str,
) -> Finding:
    """A confirmed finding at `location`; `also` names the other places the static rule may
    anchor the same problem (the `.half()` call, the `batch_size` value, the norm's call in
    `forward`), which `bnlint check --probe-report` joins on."""
    name, default_severity = rule_meta(code)
    message, hint = MESSAGES[code]
    if location is None:
        location = Location("<unknown>", 1)
    related = tuple(
        RelatedLocation(filename=place.display(), span=line_span(place), message=text)
        for place, text in dict.fromkeys(also)
        if place != location
    )
    return Finding(
        code=code,
        name=name,
        severity=severity or default_severity,
        message=message.format(**fields),
        hint=hint.format(**fields),
        filename=location.display(),
        span=line_span(location),
        confirmed=True,
        related=related,
        extra={"path": location.filename},
    )


@dataclass
class Collector:
    """Findings by (code, file, line): a loop that trips a check every step reports once."""

    _by_key: dict[tuple[str, str, int], Finding] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, finding: Finding, *, count: bool = False) -> None:
        """Record `finding`; with `count`, its own count adds up (it was merged before)."""
        key = (finding.code, finding.extra.get("path", finding.filename), finding.span.start.row)
        with self._lock:
            known = self._by_key.get(key)
            if known is None:
                self._by_key[key] = finding
            else:
                # Keep the first message; the more severe observation decides the severity.
                severity = (
                    known.severity
                    if _rank(known.severity) <= _rank(finding.severity)
                    else finding.severity
                )
                extra = finding.count if count else 1
                self._by_key[key] = replace(known, count=known.count + extra, severity=severity)

    def findings(self) -> list[Finding]:
        with self._lock:
            return sorted(self._by_key.values(), key=Finding.sort_key)

    def __len__(self) -> int:
        return len(self._by_key)


def _rank(severity: Severity) -> int:
    return {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}[severity]
